package d365fo

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XML namespaces of OData v4 CSDL (OASIS OData v4.0 Part 3, CSDL XML).
const (
	nsEdmx = "http://docs.oasis-open.org/odata/ns/edmx"
	nsEdm  = "http://docs.oasis-open.org/odata/ns/edm"
)

// Vocabulary namespaces whose terms the loader reads.
const (
	nsDynamicsCore = "Microsoft.Dynamics.OData.Core.V1" // F&O's own: IsRequired, LabelId, HelpTextId
	nsODataCore    = "Org.OData.Core.V1"                // standard: Description
)

// rawDoc is what the streaming pass keeps of a CSDL document: names and types
// as written (aliases unresolved), with the source line of each declaration.
// Everything else (navigation, actions, most annotations) is skipped.
type rawDoc struct {
	aliases  map[string]string // schema or include alias -> namespace
	types    map[string]*rawType
	enums    map[string]*rawEnum
	typeDefs map[string]*rawTypeDef
	sets     []rawSet
	external []rawExternal // out-of-line <Annotations Target="...">
}

// rawType is an EntityType or ComplexType.
type rawType struct {
	qname   string // Namespace.Name
	line    int
	complex bool
	base    string   // BaseType as written, "" if none
	keys    []string // PropertyRef names in order; nil when the type declares no Key
	props   []*rawProp
	annots  []rawAnnot
}

type rawProp struct {
	name   string
	typ    string // as written: "Edm.String", "mde.NoYes", "Collection(Edm.Int32)"
	maxLen string // MaxLength facet as written, "" if absent
	line   int
	annots []rawAnnot
}

type rawEnum struct {
	flags   bool
	members []string
}

type rawTypeDef struct {
	underlying string
	maxLen     string
}

type rawSet struct {
	name       string
	entityType string // as written
	line       int
}

// rawAnnot is one annotation the loader cares about. val is the Bool or String
// value; hasVal is false for a bare <Annotation Term="..."/>, which OData
// defines as true for Boolean terms.
type rawAnnot struct {
	term   string // as written, alias unresolved
	val    string
	hasVal bool
}

type rawExternal struct {
	target string // "Namespace.Type" or "Namespace.Type/Property", alias unresolved
	annots []rawAnnot
}

// parser walks the token stream with one function per CSDL element kind; each
// consumes tokens up to and including the end of its element.
type parser struct {
	name string
	dec  *xml.Decoder
	doc  *rawDoc
}

// parse reads a whole CSDL document.
func parse(r io.Reader, name string) (*rawDoc, error) {
	p := &parser{
		name: name,
		dec:  xml.NewDecoder(bufio.NewReaderSize(r, 64<<10)),
		doc: &rawDoc{
			aliases:  map[string]string{},
			types:    map[string]*rawType{},
			enums:    map[string]*rawEnum{},
			typeDefs: map[string]*rawTypeDef{},
		},
	}
	for {
		tok, err := p.token()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: not a CSDL document: no edmx:Edmx element", name)
		}
		if err != nil {
			return nil, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Space != nsEdmx || se.Name.Local != "Edmx" {
				return nil, p.errorf("not a CSDL document: root element is %s, want edmx:Edmx (%s)", qualifiedXMLName(se.Name), nsEdmx)
			}
			if err := p.edmx(); err != nil {
				return nil, err
			}
			return p.doc, nil
		}
	}
}

// token returns the next token; syntax errors carry the file and line.
func (p *parser) token() (xml.Token, error) {
	tok, err := p.dec.Token()
	if err == nil || err == io.EOF {
		return tok, err
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("%s:%d: malformed XML: %s", p.name, se.Line, se.Msg)
	}
	line, _ := p.dec.InputPos()
	return nil, fmt.Errorf("%s:%d: %w", p.name, line, err)
}

// errorf reports a problem at the current input line.
func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, p.line(), fmt.Sprintf(format, args...))
}

func (p *parser) line() int {
	line, _ := p.dec.InputPos()
	return line
}

// children calls fn for every child element of the element just opened and
// returns at its end tag. fn must consume the child completely (its own
// children loop or skip).
func (p *parser) children(fn func(se xml.StartElement) error) error {
	for {
		tok, err := p.token()
		if err == io.EOF {
			return fmt.Errorf("%s:%d: malformed XML: unexpected EOF", p.name, p.line())
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// skip consumes the rest of the element just opened.
func (p *parser) skip() error {
	return p.children(func(xml.StartElement) error { return p.skip() })
}

func (p *parser) edmx() error {
	return p.children(func(se xml.StartElement) error {
		switch {
		case se.Name.Space == nsEdmx && se.Name.Local == "DataServices":
			return p.children(func(se xml.StartElement) error {
				if se.Name.Space == nsEdm && se.Name.Local == "Schema" {
					return p.schema(se)
				}
				return p.skip()
			})
		case se.Name.Space == nsEdmx && se.Name.Local == "Reference":
			// <edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/>
			return p.children(func(se xml.StartElement) error {
				if se.Name.Space == nsEdmx && se.Name.Local == "Include" {
					if alias := attr(se, "Alias"); alias != "" {
						p.doc.aliases[alias] = attr(se, "Namespace")
					}
				}
				return p.skip()
			})
		}
		return p.skip()
	})
}

func (p *parser) schema(se xml.StartElement) error {
	ns := attr(se, "Namespace")
	if ns == "" {
		return p.errorf("Schema without a Namespace")
	}
	if alias := attr(se, "Alias"); alias != "" {
		p.doc.aliases[alias] = ns
	}
	return p.children(func(se xml.StartElement) error {
		if se.Name.Space != nsEdm {
			return p.skip()
		}
		switch se.Name.Local {
		case "EntityType", "ComplexType":
			return p.structured(ns, se)
		case "EnumType":
			return p.enumType(ns, se)
		case "TypeDefinition":
			p.doc.typeDefs[ns+"."+attr(se, "Name")] = &rawTypeDef{underlying: attr(se, "UnderlyingType"), maxLen: attr(se, "MaxLength")}
			return p.skip()
		case "EntityContainer":
			return p.container(se)
		case "Annotations":
			return p.annotations(se)
		}
		return p.skip()
	})
}

func (p *parser) structured(ns string, se xml.StartElement) error {
	t := &rawType{
		qname:   ns + "." + attr(se, "Name"),
		line:    p.line(),
		complex: se.Name.Local == "ComplexType",
		base:    attr(se, "BaseType"),
	}
	if _, dup := p.doc.types[t.qname]; dup {
		return p.errorf("duplicate type %s", t.qname)
	}
	p.doc.types[t.qname] = t
	return p.children(func(se xml.StartElement) error {
		if se.Name.Space != nsEdm {
			return p.skip()
		}
		switch se.Name.Local {
		case "Key":
			t.keys = []string{}
			return p.children(func(se xml.StartElement) error {
				if se.Name.Local == "PropertyRef" {
					if alias := attr(se, "Alias"); alias != "" {
						return p.errorf("type %s: key property aliases (PropertyRef Alias) are not supported", t.qname)
					}
					t.keys = append(t.keys, attr(se, "Name"))
				}
				return p.skip()
			})
		case "Property":
			prop := &rawProp{name: attr(se, "Name"), typ: attr(se, "Type"), maxLen: attr(se, "MaxLength"), line: p.line()}
			if prop.name == "" || prop.typ == "" {
				return p.errorf("type %s: Property needs Name and Type", t.qname)
			}
			t.props = append(t.props, prop)
			return p.annotated(&prop.annots)
		case "Annotation":
			return p.annotation(se, &t.annots)
		}
		return p.skip() // NavigationProperty and anything newer
	})
}

func (p *parser) enumType(ns string, se xml.StartElement) error {
	e := &rawEnum{flags: attr(se, "IsFlags") == "true"}
	p.doc.enums[ns+"."+attr(se, "Name")] = e
	return p.children(func(se xml.StartElement) error {
		if se.Name.Space == nsEdm && se.Name.Local == "Member" {
			e.members = append(e.members, attr(se, "Name"))
		}
		return p.skip()
	})
}

func (p *parser) container(se xml.StartElement) error {
	return p.children(func(se xml.StartElement) error {
		if se.Name.Space == nsEdm && se.Name.Local == "EntitySet" {
			p.doc.sets = append(p.doc.sets, rawSet{name: attr(se, "Name"), entityType: attr(se, "EntityType"), line: p.line()})
		}
		return p.skip()
	})
}

func (p *parser) annotations(se xml.StartElement) error {
	ext := rawExternal{target: attr(se, "Target")}
	if err := p.annotated(&ext.annots); err != nil {
		return err
	}
	if len(ext.annots) > 0 {
		p.doc.external = append(p.doc.external, ext)
	}
	return nil
}

// annotated reads the children of an element, keeping its Annotation children.
func (p *parser) annotated(into *[]rawAnnot) error {
	return p.children(func(se xml.StartElement) error {
		if se.Name.Space == nsEdm && se.Name.Local == "Annotation" {
			return p.annotation(se, into)
		}
		return p.skip()
	})
}

// annotation reads one <Annotation>, keeping it when its term is one the
// loader uses. The value is the Bool or String attribute or, in the element
// form, the text of a <Bool> or <String> child.
func (p *parser) annotation(se xml.StartElement, into *[]rawAnnot) error {
	term := attr(se, "Term")
	if !wantedTerm(term) || attr(se, "Qualifier") != "" {
		return p.skip()
	}
	a := rawAnnot{term: term}
	for _, at := range se.Attr {
		if at.Name.Space == "" && (at.Name.Local == "Bool" || at.Name.Local == "String") {
			a.val, a.hasVal = at.Value, true
		}
	}
	err := p.children(func(se xml.StartElement) error {
		if se.Name.Space != nsEdm || (se.Name.Local != "Bool" && se.Name.Local != "String") {
			return p.skip()
		}
		var text strings.Builder
		for {
			tok, err := p.token()
			if err != nil {
				return err
			}
			switch t := tok.(type) {
			case xml.CharData:
				text.Write(t)
			case xml.StartElement:
				if err := p.skip(); err != nil {
					return err
				}
			case xml.EndElement:
				a.val, a.hasVal = strings.TrimSpace(text.String()), true
				return nil
			}
		}
	})
	if err != nil {
		return err
	}
	*into = append(*into, a)
	return nil
}

// wantedTerm is a cheap filter on the term's simple name; the namespace is
// checked after aliases are known.
func wantedTerm(term string) bool {
	switch term[strings.LastIndexByte(term, '.')+1:] {
	case "IsRequired", "LabelId", "HelpTextId", "Description":
		return true
	}
	return false
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func qualifiedXMLName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return "{" + n.Space + "}" + n.Local
}
