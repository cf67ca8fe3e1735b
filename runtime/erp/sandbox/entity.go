package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/d365fo"
	"github.com/flowhq/flow/stdlib/schema"
)

// namespace is F&O's CSDL namespace.
const namespace = "Microsoft.Dynamics.DataEntities"

// emptyDate is how F&O serializes an unset date.
var emptyDate = time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC)

// entity is one entity set the sandbox serves.
type entity struct {
	set     string // "LedgerJournalHeaders"
	typ     string // "LedgerJournalHeader"
	obj     *schema.Object
	company bool              // has dataAreaId: records belong to a company
	keys    []*schema.Field   // key fields in key order
	parent  *link             // the header a line must point at, nil when none
	enums   map[string]string // enum member list (joined by ",") -> enum type name, shared by all entities
}

// link says that field of a line names the header's headerField.
type link struct {
	header      *entity
	field       string
	headerField string
}

// record is a stored record: field name -> string, bool, int64,
// decimal.Decimal or time.Time. Unset fields are absent.
type record map[string]any

// buildEntities indexes the connector's entity sets and links journal lines
// to their headers.
func buildEntities(c *schema.Connector) map[string]*entity {
	ents := make(map[string]*entity, len(c.Entities))
	enums := enumNames(c)
	for set, obj := range c.Entities {
		e := &entity{set: set, typ: typeName(set), obj: obj, enums: enums}
		_, e.company = obj.Field("dataAreaId")
		for _, k := range obj.Keys {
			f, _ := obj.Field(k) // schema.NewObject guarantees keys are fields
			e.keys = append(e.keys, f)
		}
		ents[set] = e
	}
	journals := c.Journals
	if journals == nil {
		journals = d365fo.WithJournals(c).Journals
	}
	for _, j := range journals {
		line, header := ents[j.Lines], ents[j.Header]
		if line == nil || header == nil {
			continue
		}
		line.parent = &link{header: header, field: j.Link, headerField: j.HeaderLink}
	}
	return ents
}

// typeName makes an entity set name singular as F&O names entity types:
// SalesOrderHeadersV2 -> SalesOrderHeaderV2, Currencies -> Currency.
func typeName(set string) string {
	base, version := set, ""
	if i := strings.LastIndexByte(set, 'V'); i > 0 && i < len(set)-1 {
		if _, err := strconv.Atoi(set[i+1:]); err == nil {
			base, version = set[:i], set[i:]
		}
	}
	switch {
	case strings.HasSuffix(base, "ies"):
		base = strings.TrimSuffix(base, "ies") + "y"
	case strings.HasSuffix(base, "s"):
		base = strings.TrimSuffix(base, "s")
	}
	return base + version
}

// tableName is what F&O's write errors call the entity's table row type.
func (e *entity) tableName() string { return e.typ + "Entity" }

// edmType names a field's type as the CSDL does.
func (e *entity) edmType(f *schema.Field) string {
	switch f.Type.Kind {
	case schema.Int:
		return "Edm.Int64"
	case schema.Bool:
		return "Edm.Boolean"
	case schema.Decimal, schema.Minor:
		return "Edm.Decimal"
	case schema.Double:
		return "Edm.Double"
	case schema.Timestamp:
		return "Edm.DateTimeOffset"
	case schema.String:
		if f.Type.Enum != nil {
			return namespace + "." + e.enums[strings.Join(f.Type.Enum, ",")]
		}
	}
	return "Edm.String"
}

// enumNames names the connector's enum types. The schema keeps only the
// member names, so NoYes is recognised and every other enum is named after
// the first field (in entity and field order) that uses it.
func enumNames(c *schema.Connector) map[string]string {
	names := map[string]string{"No,Yes": "NoYes"}
	taken := map[string]bool{"NoYes": true}
	for _, set := range c.EntityNames() {
		for _, f := range c.Entities[set].Fields {
			members := strings.Join(f.Type.Enum, ",")
			if f.Type.Kind != schema.String || f.Type.Enum == nil || names[members] != "" {
				continue
			}
			name := f.Name + "Enum"
			for i := 2; taken[name]; i++ {
				name = fmt.Sprintf("%sEnum%d", f.Name, i)
			}
			names[members], taken[name] = name, true
		}
	}
	return names
}

// defaultValue is what F&O returns for a field the record does not set.
func defaultValue(f *schema.Field) any {
	switch f.Type.Kind {
	case schema.Int:
		return int64(0)
	case schema.Bool:
		return false
	case schema.Decimal, schema.Minor, schema.Double:
		return decimal.Zero
	case schema.Timestamp:
		return emptyDate
	case schema.String:
		if e := f.Type.Enum; e != nil {
			for _, d := range []string{"No", "None"} {
				if f.Type.HasEnumValue(d) {
					return d
				}
			}
			return e[0]
		}
	}
	return ""
}

// value returns the record's value of f, or F&O's default.
func value(r record, f *schema.Field) any {
	if v, ok := r[f.Name]; ok && v != nil {
		return v
	}
	return defaultValue(f)
}

// decodeRecord converts a JSON object (request body or stored row) to a
// record, checking every property against the schema as F&O's OData layer
// does. OData annotations ("@odata.type") are ignored.
func (e *entity) decodeRecord(data []byte) (record, *httpError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, badRequest("The request body is not a valid JSON object: %v.", err)
	}
	if dec.More() {
		return nil, badRequest("The request body holds more than one JSON value.")
	}
	rec := make(record, len(raw))
	for name, v := range raw {
		if strings.HasPrefix(name, "@") || strings.Contains(name, "@odata.") {
			continue
		}
		f, ok := e.obj.Field(name)
		if !ok {
			return nil, badRequest("The property '%s' does not exist on type '%s.%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", name, namespace, e.typ)
		}
		val, err := e.convert(f, v)
		if err != nil {
			return nil, err
		}
		rec[name] = val
	}
	return rec, nil
}

// convert turns a decoded JSON value into the Go value of f's type.
func (e *entity) convert(f *schema.Field, v any) (any, *httpError) {
	bad := func() *httpError {
		return badRequest("Cannot convert the literal '%v' to the expected type '%s' of property '%s'.", v, e.edmType(f), f.Name)
	}
	if v == nil {
		if f.Type.Kind == schema.String && f.Type.Enum == nil {
			return "", nil
		}
		return nil, badRequest("A null value was found for the property named '%s', which has the expected type '%s[Nullable=False]'. The expected type '%s[Nullable=False]' does not allow null values.", f.Name, e.edmType(f), e.edmType(f))
	}
	switch f.Type.Kind {
	case schema.String:
		s, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		if !f.Type.HasEnumValue(s) {
			return nil, badRequest("The string '%s' is not a valid enumeration type constant of '%s'.", s, e.edmType(f))
		}
		return s, nil
	case schema.Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, bad()
		}
		return b, nil
	case schema.Int:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad()
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return nil, bad()
		}
		return i, nil
	case schema.Decimal, schema.Minor, schema.Double:
		var s string
		switch n := v.(type) {
		case json.Number:
			s = string(n)
		case string: // IEEE754Compatible=true sends decimals as strings
			s = n
		default:
			return nil, bad()
		}
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil, bad()
		}
		return d, nil
	case schema.Timestamp:
		s, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, bad()
		}
		return t.UTC(), nil
	}
	return v, nil
}

// wireValue is the JSON form of a field value.
func wireValue(v any) any {
	switch v := v.(type) {
	case decimal.Decimal:
		return json.Number(v.String())
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// encode renders r as a JSON object in schema order: every field when full
// (unset ones with defaults), only the set ones otherwise, and only those in
// sel when sel is not nil. annotations come first.
func (e *entity) encode(r record, full bool, sel map[string]bool, annotations ...string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	sep := func() {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
	}
	for i := 0; i+1 < len(annotations); i += 2 {
		sep()
		writeJSON(&b, annotations[i])
		b.WriteByte(':')
		writeJSON(&b, annotations[i+1])
	}
	for _, f := range e.obj.Fields {
		if sel != nil && !sel[f.Name] {
			continue
		}
		v, set := r[f.Name]
		if !set && !full {
			continue
		}
		if !set {
			v = defaultValue(f)
		}
		sep()
		writeJSON(&b, f.Name)
		b.WriteByte(':')
		writeJSON(&b, wireValue(v))
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any) {
	data, err := json.Marshal(v)
	if err != nil { // only strings, numbers and bools reach here
		data = []byte("null")
	}
	b.Write(data)
}

// checkWrite is F&O's validateWrite: required fields set, strings within
// their length.
func (e *entity) checkWrite(r record, create bool) *httpError {
	for _, f := range e.obj.Fields {
		v, set := r[f.Name]
		if s, ok := v.(string); ok && f.MaxLength > 0 && utf8.RuneCountInString(s) > f.MaxLength {
			return writeFailed(e, "The value '%s' of field '%s' is too long: the field holds at most %d characters.", s, f.Name, f.MaxLength)
		}
		if !f.Required || (!create && !set) {
			continue
		}
		if s, ok := v.(string); !set || (ok && s == "") {
			return writeFailed(e, "Field '%s' must be filled in.", f.Name)
		}
	}
	return nil
}

// keyOf returns r's canonical key: its key values, strings folded to lower
// case as SQL Server compares them. ok is false when a key field is unset.
func (e *entity) keyOf(r record) (key string, ok bool) {
	parts := make([]string, len(e.keys))
	for i, f := range e.keys {
		v, set := r[f.Name]
		if !set {
			return "", false
		}
		parts[i] = canonical(v)
	}
	data, _ := json.Marshal(parts) // a []string always marshals
	return string(data), true
}

// canonical renders a value for keys: equal values, equal text.
func canonical(v any) string {
	switch v := v.(type) {
	case string:
		return strings.ToLower(v)
	case decimal.Decimal:
		return v.String()
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}
