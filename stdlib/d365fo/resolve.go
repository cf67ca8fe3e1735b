package d365fo

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/flowhq/flow/stdlib/schema"
)

// Name is the connector's import path as flows write it.
const Name = "d365fo"

// LoadCSDL parses an OData v4 CSDL ($metadata EDMX) document into the d365fo connector schema.
// name is used in error messages (a file path). Errors carry the line when the XML is malformed.
//
// Every entity set becomes an entity; types the document does not define, or
// that have no schema counterpart, become dyn rather than an error. The
// document is streamed: memory grows with the entity types kept, not with the
// annotations and navigation bindings that make up most of a real $metadata.
func LoadCSDL(r io.Reader, name string) (*schema.Connector, error) {
	doc, err := parse(r, name)
	if err != nil {
		return nil, err
	}
	return newResolver(doc, name).connector()
}

// resolver turns a rawDoc into schema objects once all aliases are known.
type resolver struct {
	doc      *rawDoc
	name     string
	objects  map[string]*schema.Object
	enums    map[string]*schema.Type // by qualified enum name, shared by all fields
	external map[string][]rawAnnot   // by qualified target
	building map[string]bool         // complex types being built (recursion guard)
}

func newResolver(doc *rawDoc, name string) *resolver {
	r := &resolver{
		doc:      doc,
		name:     name,
		objects:  map[string]*schema.Object{},
		enums:    map[string]*schema.Type{},
		external: map[string][]rawAnnot{},
		building: map[string]bool{},
	}
	for _, ext := range doc.external {
		target := r.qualifyTarget(ext.target)
		r.external[target] = append(r.external[target], ext.annots...)
	}
	return r
}

func (r *resolver) connector() (*schema.Connector, error) {
	entities := make(map[string]*schema.Object, len(r.doc.sets))
	for _, set := range r.doc.sets {
		if _, dup := entities[set.name]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate entity set %s", r.name, set.line, set.name)
		}
		o, err := r.entity(set)
		if err != nil {
			return nil, err
		}
		if f, ok := Anchors[set.name]; ok {
			if _, exists := o.Field(f); exists {
				o.Anchor = f
			}
		}
		entities[set.name] = o
		r.objects[o.Name] = o
	}
	events := map[string]*schema.Event{}
	if err := addEvents(r.objects, events); err != nil {
		return nil, err
	}
	return &schema.Connector{
		Name:     Name,
		Kind:     schema.ERP,
		Doc:      "Dynamics 365 Finance & Operations: OData v4 data entities under /data/<EntitySet>.",
		Objects:  r.objects,
		Events:   events,
		Lists:    map[string]*schema.ListSource{},
		Entities: entities,
		Config:   configFields(),
		Reverses: map[string][]string{},
	}, nil
}

// entity builds the object for one entity set.
func (r *resolver) entity(set rawSet) (*schema.Object, error) {
	qtype := r.qualify(set.entityType)
	t, ok := r.doc.types[qtype]
	if !ok || t.complex {
		return nil, fmt.Errorf("%s:%d: entity set %s: unknown entity type %q", r.name, set.line, set.name, set.entityType)
	}
	chain, err := r.chain(t)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, c := range chain { // the most derived type declaring a Key wins
		if c.keys != nil {
			keys = c.keys
		}
	}
	name := Name + "." + set.name
	if r.objects[name] != nil {
		return nil, fmt.Errorf("%s:%d: entity set %s: object %s is already defined by a complex type", r.name, set.line, set.name, name)
	}
	fields, err := r.fields(chain)
	if err != nil {
		return nil, err
	}
	doc := fmt.Sprintf("Entity set %s (entity type %s).", set.name, qtype)
	if d := r.docOf(append(append([]rawAnnot(nil), t.annots...), r.external[qtype]...)); d != "" {
		doc = d + " " + doc
	}
	o, err := schema.NewObject(name, doc, fields, keys)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %v", r.name, t.line, err)
	}
	return o, nil
}

// chain returns t and its base types, base first.
func (r *resolver) chain(t *rawType) ([]*rawType, error) {
	chain := []*rawType{t}
	seen := map[*rawType]bool{t: true}
	for cur := t; cur.base != ""; {
		base, ok := r.doc.types[r.qualify(cur.base)]
		if !ok {
			return nil, fmt.Errorf("%s:%d: type %s: unknown base type %q", r.name, cur.line, cur.qname, cur.base)
		}
		if seen[base] {
			return nil, fmt.Errorf("%s:%d: type %s: base type cycle", r.name, cur.line, cur.qname)
		}
		seen[base] = true
		chain = append([]*rawType{base}, chain...)
		cur = base
	}
	return chain, nil
}

// fields builds fresh fields for the properties of a type chain, so that no
// two objects share a *schema.Field.
func (r *resolver) fields(chain []*rawType) ([]*schema.Field, error) {
	var fields []*schema.Field
	for _, t := range chain {
		for _, p := range t.props {
			f, err := r.field(t, p)
			if err != nil {
				return nil, err
			}
			fields = append(fields, f)
		}
	}
	return fields, nil
}

func (r *resolver) field(t *rawType, p *rawProp) (*schema.Field, error) {
	typ, maxLen, err := r.mapType(p.typ)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: property %s.%s: %v", r.name, p.line, t.qname, p.name, err)
	}
	if p.maxLen != "" && typ.Kind == schema.String {
		maxLen = parseMaxLength(p.maxLen)
	}
	if typ.Kind != schema.String || typ.Enum != nil {
		maxLen = 0
	}
	annots := p.annots
	if ext := r.external[t.qname+"/"+p.name]; ext != nil {
		annots = append(append([]rawAnnot(nil), annots...), ext...)
	}
	return &schema.Field{
		Name:      p.name,
		Type:      typ,
		Doc:       r.docOf(annots),
		Required:  r.required(annots),
		MaxLength: maxLen,
	}, nil
}

// mapType maps a CSDL type reference to a schema type and the MaxLength a
// type definition carries. Unknown types map to dyn.
func (r *resolver) mapType(ref string) (*schema.Type, int, error) {
	if inner, ok := strings.CutPrefix(ref, "Collection("); ok && strings.HasSuffix(inner, ")") {
		elem, _, err := r.mapType(strings.TrimSuffix(inner, ")"))
		if err != nil {
			return nil, 0, err
		}
		return schema.ListOf(elem), 0, nil
	}
	if t := edmType(ref); t != nil {
		return t, 0, nil
	}
	q := r.qualify(ref)
	if t, ok := r.enums[q]; ok {
		return t, 0, nil
	}
	if e, ok := r.doc.enums[q]; ok {
		t := schema.StringType // a flags enum is a comma-separated list of names
		if !e.flags && len(e.members) > 0 {
			t = schema.EnumOf(e.members...)
		}
		r.enums[q] = t
		return t, 0, nil
	}
	if td, ok := r.doc.typeDefs[q]; ok {
		t := edmType(td.underlying) // TypeDefinition's UnderlyingType is always primitive
		if t == nil {
			return schema.AnyType, 0, nil
		}
		return t, parseMaxLength(td.maxLen), nil
	}
	if ct, ok := r.doc.types[q]; ok && ct.complex {
		name, err := r.complexObject(ct)
		if err != nil {
			return nil, 0, err
		}
		return schema.ObjectOf(name), 0, nil
	}
	return schema.AnyType, 0, nil // unknown, or an entity type (navigation)
}

// complexObject builds (once) the object of a complex type, named
// "d365fo.<TypeName>".
func (r *resolver) complexObject(t *rawType) (string, error) {
	name := Name + "." + t.qname[strings.LastIndexByte(t.qname, '.')+1:]
	if r.objects[name] != nil || r.building[name] {
		return name, nil
	}
	for _, set := range r.doc.sets {
		if Name+"."+set.name == name {
			return "", fmt.Errorf("complex type %s has the same object name as entity set %s", t.qname, set.name)
		}
	}
	r.building[name] = true
	chain, err := r.chain(t)
	if err != nil {
		return "", err
	}
	fields, err := r.fields(chain)
	if err != nil {
		return "", err
	}
	doc := fmt.Sprintf("Complex type %s.", t.qname)
	if d := r.docOf(t.annots); d != "" {
		doc = d + " " + doc
	}
	o, err := schema.NewObject(name, doc, fields, nil)
	if err != nil {
		return "", fmt.Errorf("%s:%d: %v", r.name, t.line, err)
	}
	r.objects[name] = o
	delete(r.building, name)
	return name, nil
}

// edmType maps the primitive types; nil for anything else.
func edmType(ref string) *schema.Type {
	switch ref {
	case "Edm.String", "Edm.Guid", "Edm.Binary":
		return schema.StringType
	case "Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte":
		return schema.IntType
	case "Edm.Decimal":
		return schema.DecimalType
	case "Edm.Double", "Edm.Single":
		return schema.DoubleType
	case "Edm.Boolean":
		return schema.BoolType
	case "Edm.DateTimeOffset", "Edm.Date":
		return schema.TimestampType
	}
	return nil
}

// parseMaxLength reads a MaxLength facet; "max" and junk mean unknown (0).
func parseMaxLength(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// qualify resolves an alias-qualified name ("mde.NoYes") to its namespace-
// qualified form ("Microsoft.Dynamics.DataEntities.NoYes").
func (r *resolver) qualify(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name
	}
	if ns, ok := r.doc.aliases[name[:i]]; ok {
		return ns + name[i:]
	}
	return name
}

// qualifyTarget resolves the type part of an annotation target
// ("mde.CustomerV3/Name").
func (r *resolver) qualifyTarget(target string) string {
	typ, rest, found := strings.Cut(target, "/")
	if !found {
		return r.qualify(typ)
	}
	return r.qualify(typ) + "/" + rest
}

// term returns the annotation's term as Namespace.Name.
func (r *resolver) term(a rawAnnot) string { return r.qualify(a.term) }

// required reports whether the annotations carry IsRequired = true.
func (r *resolver) required(annots []rawAnnot) bool {
	req := false
	for _, a := range annots {
		if r.term(a) == nsDynamicsCore+".IsRequired" {
			req = !a.hasVal || a.val == "true"
		}
	}
	return req
}

// docOf picks a field's or type's doc text: Core.Description, else LabelId,
// else HelpTextId, skipping label references ("@SYS13342").
func (r *resolver) docOf(annots []rawAnnot) string {
	best, rank := "", 0
	for _, a := range annots {
		if !a.hasVal || a.val == "" || isLabelRef(a.val) {
			continue
		}
		n := 0
		switch r.term(a) {
		case nsODataCore + ".Description":
			n = 3
		case nsDynamicsCore + ".LabelId":
			n = 2
		case nsDynamicsCore + ".HelpTextId":
			n = 1
		}
		if n > rank {
			best, rank = a.val, n
		}
	}
	return best
}

// isLabelRef reports whether s is an unresolved F&O label id: "@SYS13342",
// "@GLS379", "@AccountsReceivable:CustCustomerV3EntityLabel".
func isLabelRef(s string) bool {
	if len(s) < 2 || s[0] != '@' {
		return false
	}
	file, id, _ := strings.Cut(s[1:], ":")
	return isIdent(file) && (id == "" && strings.IndexFunc(file, isDigit) > 0 || isIdent(id))
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isDigit(c rune) bool { return c >= '0' && c <= '9' }
