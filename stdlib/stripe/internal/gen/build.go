package main

import (
	"fmt"
	"go/ast"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// object is one generated object type, named by its stripe-go type name.
type object struct {
	Name   string
	Doc    string
	Fields []*field
}

// field is one member of an object. Type uses the compact grammar that
// stdlib/stripe decodes:
//
//	string | int | bool | double | decimal | minor | dyn   scalars
//	enum:<GoType>                                a string with the constants of GoType
//	list:<type> | map:<type>                     map keys are always strings
//	obj:<GoType>                                 a nested object
type field struct {
	Name string
	Type string
	Doc  string
	raw  string // the full Go doc comment, for money and timestamp detection
}

// builder walks stripe-go's types from the roots (event subjects and list
// elements) and maps every reachable struct to an object.
type builder struct {
	lib     *library
	objects map[string]*object
	queue   []string
	enums   map[string][]string

	// Decisions worth a human review, printed by main.
	minor     []string // Object.field (reason)
	expanded  []string // Object.field -> Type (pointer to an expandable type kept as an ID)
	inline    []string // Object.field -> Type (pointer to an expandable type kept as an object)
	idLists   []string // Object.field: list of expandable IDs
	objLists  []string // Object.field: list of an expandable type, kept as objects
	timestamp int
}

func newBuilder(lib *library) *builder {
	return &builder{lib: lib, objects: map[string]*object{}, enums: map[string][]string{}}
}

// need schedules a Go struct type to become an object and returns its type.
func (b *builder) need(name string) string {
	if _, ok := b.objects[name]; !ok {
		b.objects[name] = nil // reserved; filled by run
		b.queue = append(b.queue, name)
	}
	return "obj:" + name
}

// run maps every queued type until the closure is complete.
func (b *builder) run() error {
	for len(b.queue) > 0 {
		name := b.queue[0]
		b.queue = b.queue[1:]
		d := b.lib.types[name]
		if d == nil || d.structType() == nil {
			return fmt.Errorf("type %s is not a struct in stripe-go", name)
		}
		var (
			o   *object
			err error
		)
		if elem, ok := b.lib.listElem(d); ok {
			o, err = b.listObject(d, elem)
		} else if vs := b.lib.unionVariants(d); len(vs) > 0 {
			o, err = b.unionObject(d, vs)
		} else {
			o, err = b.structObject(d)
		}
		if err != nil {
			return err
		}
		b.objects[name] = o
	}
	return nil
}

// structObject maps a plain struct; embedded structs are flattened.
func (b *builder) structObject(d *typeDecl) (*object, error) {
	o := &object{Name: d.name, Doc: cleanDoc(d.doc)}
	fields, err := b.structFields(d.name, d.structType())
	if err != nil {
		return nil, err
	}
	o.Fields = fields
	b.classify(o)
	return o, nil
}

func (b *builder) structFields(owner string, st *ast.StructType) ([]*field, error) {
	var out []*field
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 { // embedded: APIResource carries no JSON, ListMeta does
			id, ok := f.Type.(*ast.Ident)
			if !ok {
				continue
			}
			emb := b.lib.types[id.Name]
			if emb == nil || emb.structType() == nil {
				return nil, fmt.Errorf("%s: embedded %s is not a struct", owner, id.Name)
			}
			more, err := b.structFields(owner, emb.structType())
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
			continue
		}
		name := jsonName(f)
		if name == "" {
			continue
		}
		doc := f.Doc.Text()
		typ, note, err := b.mapType(owner, name, doc, f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", owner, name, err)
		}
		if stringOption(f) { // `json:",string"`: a number sent as a string
			if typ != "double" && typ != "int" {
				return nil, fmt.Errorf("%s.%s: ,string option on %s", owner, name, typ)
			}
			typ, note = "string", "Sent as a JSON string holding an exact decimal number."
		}
		if doc == "" && strings.HasPrefix(typ, "obj:") { // stripe-go leaves some nested objects undocumented
			doc = b.lib.types[strings.TrimPrefix(typ, "obj:")].doc
		}
		out = append(out, &field{Name: name, Type: typ, Doc: joinDoc(cleanDoc(doc), note), raw: doc})
	}
	return out, nil
}

// listObject maps a list wrapper such as RefundList to an object with the
// list envelope fields; its data elements are full objects.
func (b *builder) listObject(d *typeDecl, elem string) (*object, error) {
	o := &object{Name: d.name, Doc: fmt.Sprintf("A page of stripe.%s objects, as returned by a list endpoint or embedded in an object.", elem)}
	o.Fields = append(o.Fields, &field{Name: "object", Type: "string", Doc: `String representing the object's type: always "list".`})
	fields, err := b.structFields(d.name, d.structType())
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		if f.Name == "data" {
			f.Type = "list:" + b.need(elem)
			f.Doc = fmt.Sprintf("The stripe.%s objects of this page (always full objects, never IDs).", elem)
		}
		if f.Name == "total_count" {
			f.Doc = "Total number of objects in the collection; only in some legacy responses."
		}
	}
	o.Fields = append(o.Fields, fields...)
	return o, nil
}

// unionObject maps a polymorphic wrapper (PaymentSource: a card, a bank
// account or a source) to the union of its variants' fields. A field whose
// type differs between variants becomes dyn.
func (b *builder) unionObject(d *typeDecl, variants []string) (*object, error) {
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = "stripe." + v
	}
	o := &object{Name: d.name, Doc: "One of " + strings.Join(names, ", ") + ", selected by `object`; has the fields of all of them."}
	own, err := b.structFields(d.name, d.structType())
	if err != nil {
		return nil, err
	}
	index := map[string]*field{}
	ownField := map[string]bool{} // the wrapper's own fields (id, object) keep their type
	add := func(f *field) {
		if g, ok := index[f.Name]; ok {
			if g.Type != f.Type && g.Type != "dyn" && !ownField[f.Name] {
				g.Type = "dyn"
				g.Doc = joinDoc(g.Doc, "Type varies by `object`.")
			}
			return
		}
		index[f.Name] = f
		o.Fields = append(o.Fields, f)
	}
	for _, f := range own {
		if f.Name == "object" {
			f.Doc = "The object type: " + strings.Join(b.lib.consts[d.name+"Type"], ", ") + "."
		}
		add(f)
		ownField[f.Name] = true
	}
	for _, v := range variants {
		vd := b.lib.types[v]
		fields, err := b.structFields(v, vd.structType())
		if err != nil {
			return nil, err
		}
		b.classify(&object{Name: v, Fields: fields})
		for _, f := range fields {
			add(f)
		}
	}
	return o, nil
}

// mapType maps one Go field type. note is appended to the field's doc.
func (b *builder) mapType(owner, name, doc string, expr ast.Expr) (typ, note string, err error) {
	switch t := expr.(type) {
	case *ast.Ident:
		return b.mapIdent(owner, name, doc, t.Name)
	case *ast.StarExpr:
		id, ok := t.X.(*ast.Ident)
		if !ok {
			return "", "", fmt.Errorf("unsupported pointer type %T", t.X)
		}
		d := b.lib.types[id.Name]
		if d == nil || d.structType() == nil {
			return b.mapIdent(owner, name, doc, id.Name)
		}
		key := owner + "." + name
		if b.lib.expandable[id.Name] && !b.inlineRef(key, doc, d) {
			b.expanded = append(b.expanded, key+" -> "+id.Name)
			return "string", fmt.Sprintf("Expandable: the ID of a stripe.%s unless expanded.", id.Name), nil
		}
		if b.lib.expandable[id.Name] {
			b.inline = append(b.inline, key+" -> "+id.Name)
		}
		return b.need(id.Name), "", nil
	case *ast.ArrayType:
		if se, ok := t.Elt.(*ast.StarExpr); ok {
			if id, ok := se.X.(*ast.Ident); ok && b.lib.expandable[id.Name] {
				key := owner + "." + name + " -> " + id.Name
				if b.idList(owner, name, doc) {
					b.idLists = append(b.idLists, key)
					return "list:string", fmt.Sprintf("Expandable: IDs of stripe.%s objects unless expanded.", id.Name), nil
				}
				b.objLists = append(b.objLists, key) // elements are full objects
				return "list:" + b.need(id.Name), "", nil
			}
		}
		elem, _, err := b.mapType(owner, name, doc, t.Elt)
		if err != nil {
			return "", "", err
		}
		return "list:" + elem, "", nil
	case *ast.MapType:
		if k, _, err := b.mapType(owner, name, doc, t.Key); err != nil || (k != "string" && !strings.HasPrefix(k, "enum:")) {
			return "", "", fmt.Errorf("map key must be a string type")
		}
		elem, _, err := b.mapType(owner, name, doc, t.Value)
		if err != nil {
			return "", "", err
		}
		return "map:" + elem, "", nil
	case *ast.InterfaceType, *ast.SelectorExpr:
		return "dyn", "", nil
	}
	return "", "", fmt.Errorf("unsupported type %T", expr)
}

func (b *builder) mapIdent(owner, name, doc, ident string) (string, string, error) {
	switch ident {
	case "string":
		return "string", "", nil
	case "bool":
		return "bool", "", nil
	case "int", "int32", "int64", "uint32", "uint64":
		return "int", "", nil
	case "float32", "float64":
		return "double", "", nil
	}
	d := b.lib.types[ident]
	if d == nil {
		return "", "", fmt.Errorf("unknown type %s", ident)
	}
	switch u := d.expr.(type) {
	case *ast.StructType:
		return b.need(ident), "", nil
	case *ast.Ident:
		if u.Name == "string" && len(b.lib.consts[ident]) > 0 && !plainStrings[ident] {
			b.enums[ident] = b.lib.consts[ident]
			return "enum:" + ident, "", nil
		}
		return b.mapIdent(owner, name, doc, u.Name)
	}
	return "dyn", "", nil
}

// classify marks money amounts (Minor) and Unix timestamps once all of an
// object's fields are known (money by name needs the object's currency).
func (b *builder) classify(o *object) {
	hasCurrency := b.hasCurrency(o.Name)
	for _, f := range o.Fields {
		key := o.Name + "." + f.Name
		switch f.Type {
		case "list:int", "map:int": // amounts keyed by source type: only by override
			if moneyOverride[key] {
				f.Type = strings.TrimSuffix(f.Type, "int") + "minor"
				b.minor = append(b.minor, key+" (override)")
			}
		case "double":
			// Exchange rates multiply amounts: exact decimals, never floats
			// (stripe-go decodes them into float64; the JSON has the digits).
			if strings.HasSuffix(f.Name, "exchange_rate") {
				f.Type = "decimal"
			}
		case "int":
			if reason := moneyReason(key, f.Name, f.raw, hasCurrency); reason != "" {
				f.Type = "minor"
				if !moneyDoc.MatchString(f.Doc) {
					f.Doc = joinDoc(f.Doc, "In the currency's minor units.")
				}
				b.minor = append(b.minor, key+" ("+reason+")")
			} else if isTimestamp(f.Name, f.raw) {
				f.Doc = joinDoc(strings.TrimSpace(epochSentence.ReplaceAllString(f.Doc, "")), "Unix seconds.")
				b.timestamp++
			}
		}
	}
}

// hasCurrency reports whether the Go struct name, or a struct it is nested in
// by stripe-go's naming (CheckoutSessionTotalDetails in CheckoutSession), has
// a "currency" field. Amounts of nested objects are in the parent's currency.
func (b *builder) hasCurrency(name string) bool {
	for i := len(name); i > 0; i-- {
		if i < len(name) && !unicode.IsUpper(rune(name[i])) {
			continue
		}
		if d := b.lib.types[name[:i]]; d != nil && d.structType() != nil {
			for _, f := range d.structType().Fields.List {
				if jsonName(f) == "currency" {
					return true
				}
			}
		}
	}
	return false
}

func (b *builder) sortedObjects() []*object {
	out := make([]*object, 0, len(b.objects))
	for _, o := range b.objects {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// epochSentence is stripe-go's way of saying "Unix seconds".
var epochSentence = regexp.MustCompile(`(?i)\s*Measured in seconds since (the )?Unix epoch\.?`)

func joinDoc(doc, note string) string {
	switch {
	case note == "":
		return doc
	case doc == "":
		return note
	case !strings.HasSuffix(doc, ".") && !strings.HasSuffix(doc, "?") && !strings.HasSuffix(doc, "!"):
		doc += "."
	}
	return doc + " " + note
}
