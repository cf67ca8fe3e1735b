package stripe

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/flowhq/flow/stdlib/schema"
)

// genText is written by ./internal/gen from stripe-go's source; the line
// format is documented on its write function. Decoding slices this string:
// names and docs share its memory.
//
//go:embed schema_gen.txt
var genText string

// generated is the decoded data, still open for the legacy overlay and the
// synthesized envelopes until build turns it into schema objects.
type generated struct {
	source  string
	events  []genEvent
	objects []*genObject
	index   map[string]*genObject // by Go type name
	err     error                 // first error of add
}

type genEvent struct{ name, subject string }

type genObject struct {
	name   string // Go type name, unqualified
	doc    string
	fields []*schema.Field
}

func (g *generated) add(o *genObject) {
	if _, dup := g.index[o.name]; dup {
		if g.err == nil {
			g.err = fmt.Errorf("object %s defined twice", o.name)
		}
		return
	}
	g.index[o.name] = o
	g.objects = append(g.objects, o)
}

// field returns the named field of a generated object.
func (g *generated) field(object, name string) (*schema.Field, bool) {
	o, ok := g.index[object]
	if !ok {
		return nil, false
	}
	for _, f := range o.fields {
		if f.Name == name {
			return f, true
		}
	}
	return nil, false
}

// decode parses the generated text. Types are shared between fields: a
// *schema.Type is immutable once built.
func decode(text string) (*generated, error) {
	g := &generated{index: make(map[string]*genObject, 1024)}
	p := schema.TypeParser{Enums: map[string][]string{}, Qualify: qualify, Scalars: map[string]*schema.Type{
		"string": schema.StringType, "int": schema.IntType, "bool": schema.BoolType,
		"double": schema.DoubleType, "decimal": schema.DecimalType, "minor": schema.MinorType, "dyn": schema.AnyType,
	}}
	// Fields and the per-object field lists are carved out of two arrays
	// sized by counting field lines: two allocations instead of thousands.
	nfields := strings.Count(text, "\n\t")
	slab := make([]schema.Field, nfields)
	ptrs := make([]*schema.Field, 0, nfields)
	var cur *genObject
	start := 0 // index in ptrs of cur's first field
	endObject := func() {
		if cur != nil {
			cur.fields = ptrs[start:len(ptrs):len(ptrs)] // full cap: appends copy
		}
	}
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
			if t, err = p.Parse(typ); err == nil && cur != nil && len(slab) > 0 {
				f := &slab[0]
				slab = slab[1:]
				*f = schema.Field{Name: name, Type: t, Doc: doc}
				ptrs = append(ptrs, f)
			} else if err == nil {
				err = fmt.Errorf("field %s outside an object", name)
			}
		case "object":
			endObject()
			name, doc, _ := strings.Cut(rest, "\t")
			cur = &genObject{name: name, doc: doc}
			start = len(ptrs)
			g.add(cur)
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
	endObject()
	return g, g.err
}
