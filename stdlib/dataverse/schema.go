package dataverse

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/flowhq/flow/stdlib/d365fo"
	"github.com/flowhq/flow/stdlib/schema"
)

// Name is the connector's import path as flows write it.
const Name = "dataverse"

//go:embed default_metadata.xml
var defaultMetadata []byte

const defaultMetadataName = "stdlib/dataverse/default_metadata.xml"

// Bind is a lookup column written through its navigation property.
type Bind struct {
	Target string // the related entity set, "accounts"
	Value  string // the column the lookup reads back as, "_customerid_value"
}

// Schema is the Dataverse connector and what the wire needs beyond it.
// Every map is keyed by entity set; a Schema is immutable once built.
type Schema struct {
	Connector *schema.Connector
	// AlternateKeys lists each table's alternate keys, each the columns
	// it is made of, in declaration order.
	AlternateKeys map[string][][]string
	// Binds maps each table's lookup navigation properties (schema fields
	// that take a GUID) to the table they point at.
	Binds map[string]map[string]Bind
	// Guids and Dates are the Edm.Guid and Edm.Date columns.
	Guids map[string]map[string]bool
	Dates map[string]map[string]bool
	// Logical maps each entity set to its table's logical name (the
	// entity type's name: "accounts" -> "account"), which webhook events
	// are named by.
	Logical map[string]string
}

// IsBind reports whether field of set is a lookup written with @odata.bind.
func (s *Schema) IsBind(set, field string) (Bind, bool) {
	b, ok := s.Binds[set][field]
	return b, ok
}

// AlternateKeyOf returns the first alternate key of set whose columns are
// all non-empty in fields, with their values; ok is false when none is.
func (s *Schema) AlternateKeyOf(set string, fields map[string]any) (key []string, ok bool) {
	for _, k := range s.AlternateKeys[set] {
		all := len(k) > 0
		for _, f := range k {
			if v, set := fields[f]; !set || v == nil || v == "" {
				all = false
				break
			}
		}
		if all {
			return k, true
		}
	}
	return nil, false
}

// Default returns the built-in connector; built once, immutable.
func Default() *schema.Connector { return DefaultSchema().Connector }

// DefaultSchema returns the built-in schema; built once, immutable.
func DefaultSchema() *Schema { return defaultSchema() }

var defaultSchema = sync.OnceValue(func() *Schema {
	s, err := LoadCSDL(defaultMetadata, defaultMetadataName)
	if err != nil {
		panic("dataverse: embedded default metadata does not load: " + err.Error()) // guarded by tests
	}
	return s
})

// LoadCSDL parses a Dataverse $metadata document. name is used in error
// messages (a file path).
func LoadCSDL(data []byte, name string) (*Schema, error) {
	base, err := d365fo.LoadCSDL(bytes.NewReader(data), name)
	if err != nil {
		return nil, err
	}
	ext, err := scanExtras(bytes.NewReader(data), name)
	if err != nil {
		return nil, err
	}
	return build(base, ext, name)
}

// LoadFile loads a tenant's $metadata file, caching it by path, size and
// modification time.
func LoadFile(path string) (*Schema, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("metadata file: %w", err)
	}
	key := fileKey{path, st.Size(), st.ModTime().UnixNano()}
	if s, ok := tenantSchemas.Load(key); ok {
		return s.(*Schema), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("metadata file: %w", err)
	}
	s, err := LoadCSDL(data, path)
	if err != nil {
		return nil, err
	}
	tenantSchemas.Store(key, s)
	return s, nil
}

type fileKey struct {
	path        string
	size, mtime int64
}

var tenantSchemas sync.Map // fileKey -> *Schema; loaded schemas are immutable

// Load is the connector loader of `import "dataverse"`: the built-in
// schema, or the tenant's own when the import names a $metadata file
// (`metadata: "org.edmx"`, relative to the importing file's directory).
func Load(settings map[string]string, dir string) (*schema.Connector, error) {
	path := settings["metadata"]
	if path == "" {
		return Default(), nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	s, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	return s.Connector, nil
}

// configFields is what an `import "dataverse"` may configure.
func configFields() []*schema.Field {
	return []*schema.Field{
		{Name: "metadata", Type: schema.StringType,
			Doc: "Path, relative to the flow file, of the environment's $metadata (CSDL) document; the built-in schema is used when unset."},
		{Name: "url", Type: schema.StringType,
			Doc: "Environment URL without a trailing slash, e.g. https://contoso.crm.dynamics.com; the Web API lives under <url>/api/data/v9.2."},
		{Name: "tenant_id", Type: schema.StringType,
			Doc: "Microsoft Entra ID tenant (directory) id used to get tokens."},
		{Name: "client_id", Type: schema.StringType,
			Doc: "Application (client) id of the Entra app registered as an application user in the environment."},
		{Name: "client_secret", Type: schema.StringType,
			Doc: "Name of the flow secret that holds the client secret (never the secret itself)."},
	}
}

// extras is what the second pass reads, by qualified entity type.
type extras struct {
	aliases map[string]string // alias -> namespace
	types   map[string]*extraType
	sets    []extraSet
}

type extraType struct {
	base    string
	altKeys [][]string
	guids   map[string]bool
	dates   map[string]bool
	navs    []extraNav
}

type extraNav struct{ name, typ, constraint string }

type extraSet struct {
	name, typ string
	bindings  map[string]string // navigation path -> target set
}

// scanExtras streams the document for alternate keys, navigation
// properties and their bindings, and Guid and Date columns.
func scanExtras(r io.Reader, name string) (*extras, error) {
	dec := xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	ext := &extras{aliases: map[string]string{}, types: map[string]*extraType{}}
	var stack []string
	var ns string
	var cur *extraType
	var set *extraSet
	var nav *extraNav
	inAltKeys, inKeyRecord := 0, false
	var key []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return ext, nil
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			attr := func(n string) string {
				for _, a := range t.Attr {
					if a.Name.Local == n && a.Name.Space == "" {
						return a.Value
					}
				}
				return ""
			}
			switch t.Name.Local {
			case "Schema":
				ns = attr("Namespace")
				if a := attr("Alias"); a != "" {
					ext.aliases[a] = ns
				}
			case "EntityType":
				cur = &extraType{base: attr("BaseType"), guids: map[string]bool{}, dates: map[string]bool{}}
				ext.types[ns+"."+attr("Name")] = cur
			case "Property":
				if cur != nil && len(stack) >= 2 && stack[len(stack)-2] == "EntityType" {
					switch attr("Type") {
					case "Edm.Guid":
						cur.guids[attr("Name")] = true
					case "Edm.Date":
						cur.dates[attr("Name")] = true
					}
				}
			case "NavigationProperty":
				if cur != nil && !strings.HasPrefix(attr("Type"), "Collection(") {
					cur.navs = append(cur.navs, extraNav{name: attr("Name"), typ: attr("Type")})
					nav = &cur.navs[len(cur.navs)-1]
				}
			case "ReferentialConstraint":
				if nav != nil && nav.constraint == "" {
					nav.constraint = attr("Property")
				}
			case "Annotation":
				if cur != nil && strings.HasSuffix(attr("Term"), "Keys.V1.AlternateKeys") {
					inAltKeys = len(stack)
				}
			case "Record":
				if inAltKeys > 0 && strings.HasSuffix(attr("Type"), ".AlternateKey") {
					inKeyRecord, key = true, nil
				}
			case "PropertyValue":
				if inKeyRecord && attr("Property") == "Name" && attr("PropertyPath") != "" {
					key = append(key, attr("PropertyPath"))
				}
			case "EntitySet":
				ext.sets = append(ext.sets, extraSet{name: attr("Name"), typ: attr("EntityType"), bindings: map[string]string{}})
				set = &ext.sets[len(ext.sets)-1]
			case "NavigationPropertyBinding":
				if set != nil {
					set.bindings[attr("Path")] = attr("Target")
				}
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fmt.Errorf("%s: unbalanced XML", name)
			}
			switch t.Name.Local {
			case "EntityType":
				cur = nil
			case "NavigationProperty":
				nav = nil
			case "EntitySet":
				set = nil
			case "Record":
				if inKeyRecord && strings.HasSuffix(stack[len(stack)-1], "Record") && isKeyRecordEnd(stack, inAltKeys) {
					if cur != nil && len(key) > 0 {
						cur.altKeys = append(cur.altKeys, key)
					}
					inKeyRecord = false
				}
			case "Annotation":
				if inAltKeys == len(stack) {
					inAltKeys = 0
				}
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// isKeyRecordEnd reports whether the Record ending now is an AlternateKey
// record: Annotation > Collection > Record.
func isKeyRecordEnd(stack []string, annotationDepth int) bool {
	return len(stack) == annotationDepth+2
}

func (e *extras) qualify(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name
	}
	if ns, ok := e.aliases[name[:i]]; ok {
		return ns + name[i:]
	}
	return name
}

// chain returns t and its base types (cycles stop the walk).
func (e *extras) chain(t *extraType) []*extraType {
	out := []*extraType{t}
	seen := map[*extraType]bool{t: true}
	for cur := t; cur.base != ""; {
		b := e.types[e.qualify(cur.base)]
		if b == nil || seen[b] {
			break
		}
		seen[b] = true
		out = append(out, b)
		cur = b
	}
	return out
}

// build renames the F&O-loaded connector to "dataverse" and adds the
// lookup fields and the wire facts.
func build(base *schema.Connector, ext *extras, name string) (*Schema, error) {
	s := &Schema{
		AlternateKeys: map[string][][]string{},
		Binds:         map[string]map[string]Bind{},
		Guids:         map[string]map[string]bool{},
		Dates:         map[string]map[string]bool{},
		Logical:       map[string]string{},
	}
	rename := func(obj string) string {
		if rest, ok := strings.CutPrefix(obj, d365fo.Name+"."); ok {
			return Name + "." + rest
		}
		return obj
	}
	var retype func(t *schema.Type) *schema.Type
	retype = func(t *schema.Type) *schema.Type {
		if t == nil {
			return nil
		}
		switch t.Kind {
		case schema.Struct:
			return schema.ObjectOf(rename(t.Object))
		case schema.List:
			return schema.ListOf(retype(t.Elem))
		case schema.Map:
			return schema.MapOf(retype(t.Key), retype(t.Elem))
		}
		return t
	}
	copyFields := func(o *schema.Object) []*schema.Field {
		out := make([]*schema.Field, len(o.Fields))
		for i, f := range o.Fields {
			c := *f
			c.Type, c.Key, c.Required = retype(f.Type), false, false
			out[i] = &c
		}
		return out
	}
	setTypes := map[string]*extraType{}
	for _, es := range ext.sets {
		if t := ext.types[ext.qualify(es.typ)]; t != nil {
			setTypes[es.name] = t
		}
	}
	bySet := map[string]extraSet{}
	for _, es := range ext.sets {
		bySet[es.name] = es
		q := ext.qualify(es.typ)
		s.Logical[es.name] = q[strings.LastIndexByte(q, '.')+1:]
	}
	objects := map[string]*schema.Object{}
	for oname, o := range base.Objects {
		if isEntityObject(base, o) {
			continue
		}
		n, err := schema.NewObject(rename(oname), o.Doc, copyFields(o), nil)
		if err != nil {
			return nil, err
		}
		objects[n.Name] = n
	}
	entities := map[string]*schema.Object{}
	for _, set := range base.EntityNames() {
		o := base.Entities[set]
		fields := copyFields(o)
		has := map[string]bool{}
		for _, f := range fields {
			has[f.Name] = true
		}
		t := setTypes[set]
		if t != nil {
			chain := t.chain(ext)
			for i := len(chain) - 1; i >= 0; i-- {
				c := chain[i]
				for _, k := range c.altKeys {
					ok := true
					for _, f := range k {
						ok = ok && has[f]
					}
					if !ok {
						return nil, fmt.Errorf("%s: entity set %s: alternate key %v names a column the table does not have", name, set, k)
					}
					s.AlternateKeys[set] = append(s.AlternateKeys[set], k)
				}
				for f := range c.guids {
					addFlag(s.Guids, set, f)
				}
				for f := range c.dates {
					addFlag(s.Dates, set, f)
				}
				for _, nv := range c.navs {
					target := bySet[set].bindings[nv.name]
					if target == "" || has[nv.name] {
						continue // unbound (not writable here) or clashing with a column
					}
					value := nv.constraint
					if value == "" {
						value = lookupColumn(nv.name, has)
					}
					if value == "" {
						continue
					}
					if s.Binds[set] == nil {
						s.Binds[set] = map[string]Bind{}
					}
					s.Binds[set][nv.name] = Bind{Target: target, Value: value}
					has[nv.name] = true
					fields = append(fields, &schema.Field{Name: nv.name, Type: schema.StringType,
						Doc: fmt.Sprintf("Lookup to %s: the related record's GUID, written as %s@odata.bind and read back as %s.", target, nv.name, value)})
				}
			}
		}
		obj, err := schema.NewObject(Name+"."+set, o.Doc, fields, o.Keys)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		entities[set] = obj
		objects[obj.Name] = obj
	}
	for set := range s.Logical {
		if entities[set] == nil {
			delete(s.Logical, set)
		}
	}
	events, err := addEvents(objects, entities, s.Logical)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	s.Connector = &schema.Connector{
		Name:     Name,
		Kind:     schema.ERP,
		Doc:      "Microsoft Dataverse (Dynamics 365 Sales / Customer Engagement): tables under /api/data/v9.2/<entity set>.",
		Objects:  objects,
		Events:   events,
		Lists:    map[string]*schema.ListSource{},
		Entities: entities,
		Config:   configFields(),
		Reverses: map[string][]string{},
	}
	if err := s.Connector.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func (t *extraType) chain(e *extras) []*extraType { return e.chain(t) }

func isEntityObject(c *schema.Connector, o *schema.Object) bool {
	e, ok := c.Entities[o.ShortName()]
	return ok && e == o
}

func addFlag(m map[string]map[string]bool, set, field string) {
	if m[set] == nil {
		m[set] = map[string]bool{}
	}
	m[set][field] = true
}

// lookupColumn guesses the _<lookup>_value column of a navigation
// property without a ReferentialConstraint: _<nav>_value, else the
// navigation without its _<table> suffix (customerid_account ->
// _customerid_value).
func lookupColumn(nav string, has map[string]bool) string {
	if c := "_" + nav + "_value"; has[c] {
		return c
	}
	if i := strings.LastIndexByte(nav, '_'); i > 0 {
		if c := "_" + nav[:i] + "_value"; has[c] {
			return c
		}
	}
	return ""
}

// SortedAlternateKeys returns the alternate keys of set, for messages.
func (s *Schema) SortedAlternateKeys(set string) []string {
	var out []string
	for _, k := range s.AlternateKeys[set] {
		out = append(out, strings.Join(k, ","))
	}
	sort.Strings(out)
	return out
}
