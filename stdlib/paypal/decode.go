package paypal

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/flowhq/flow/stdlib/schema"
)

// genText is written by ./internal/gen from the OpenAPI files; the line
// format is stdlib/stripe's (see its decode.go), with one more scalar,
// timestamp. Decoding slices this string: names and docs share its memory.
//
//go:embed schema_gen.txt
var genText string

type generated struct {
	source  string
	events  []genEvent
	objects []*genObject
	index   map[string]*genObject // by unqualified name
}

type genEvent struct{ name, subject string }

type genObject struct {
	name   string // unqualified
	doc    string
	fields []*schema.Field
}

// decode parses the generated text. Types are shared between fields: a
// *schema.Type is immutable once built.
func decode(text string) (*generated, error) {
	g := &generated{index: map[string]*genObject{}}
	p := schema.TypeParser{Enums: map[string][]string{}, Qualify: qualify, Scalars: map[string]*schema.Type{
		"string": schema.StringType, "int": schema.IntType, "bool": schema.BoolType,
		"decimal": schema.DecimalType, "timestamp": schema.TimestampType, "dyn": schema.AnyType,
	}}
	var cur *genObject
	for n := 1; text != ""; n++ {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		if line == "" || line[0] == '#' {
			continue
		}
		kind, rest, _ := strings.Cut(line, "\t")
		var err error
		switch kind {
		case "": // a field of the current object: name, type, doc
			name, rest, _ := strings.Cut(rest, "\t")
			typ, doc, _ := strings.Cut(rest, "\t")
			var t *schema.Type
			if t, err = p.Parse(typ); err == nil && cur != nil {
				cur.fields = append(cur.fields, &schema.Field{Name: name, Type: t, Doc: doc})
			} else if err == nil {
				err = fmt.Errorf("field %s outside an object", name)
			}
		case "object":
			name, doc, _ := strings.Cut(rest, "\t")
			if _, dup := g.index[name]; dup {
				err = fmt.Errorf("object %s defined twice", name)
				break
			}
			cur = &genObject{name: name, doc: doc}
			g.index[name] = cur
			g.objects = append(g.objects, cur)
		case "enum":
			name, vals, _ := strings.Cut(rest, "\t")
			p.Enums[name] = strings.Split(vals, "\t") // sorted by the generator
		case "event":
			name, subject, _ := strings.Cut(rest, "\t")
			g.events = append(g.events, genEvent{name, subject})
		case "source":
			g.source = rest
		default:
			err = fmt.Errorf("unknown line kind %q", kind)
		}
		if err != nil {
			return nil, fmt.Errorf("schema_gen.txt:%d: %w", n, err)
		}
	}
	return g, nil
}
