package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Kind is the kind of a Type.
type Kind int

const (
	Any       Kind = iota // a value of unknown shape (dyn)
	String                // text; Type.Enum may restrict the values
	Int                   // a plain integer (counts, unix seconds, line numbers)
	Bool                  // true or false
	Double                // a floating-point number; never money
	Decimal               // an exact decimal amount (money in major units, rates)
	Minor                 // an integer amount in a currency's minor units (Stripe's "amount")
	Timestamp             // an instant (Edm.DateTimeOffset)
	List                  // Type.Elem
	Map                   // Type.Key -> Type.Elem
	Struct                // Type.Object names an *Object of the same connector set
)

var kindNames = [...]string{"dyn", "string", "int", "bool", "double", "decimal", "minor", "timestamp", "list", "map", "struct"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Type is a field's or value's type. Types are compared with Equal, not ==.
type Type struct {
	Kind   Kind
	Elem   *Type    // List element or Map value
	Key    *Type    // Map key
	Object string   // qualified object name for Kind == Struct, e.g. "stripe.Charge"
	Enum   []string // the allowed values of a String, sorted; nil means any string
}

// Convenience constructors for the scalar types.
var (
	AnyType       = &Type{Kind: Any}
	StringType    = &Type{Kind: String}
	IntType       = &Type{Kind: Int}
	BoolType      = &Type{Kind: Bool}
	DoubleType    = &Type{Kind: Double}
	DecimalType   = &Type{Kind: Decimal}
	MinorType     = &Type{Kind: Minor}
	TimestampType = &Type{Kind: Timestamp}
)

// ListOf returns the type list(elem).
func ListOf(elem *Type) *Type { return &Type{Kind: List, Elem: elem} }

// MapOf returns the type map(key, elem).
func MapOf(key, elem *Type) *Type { return &Type{Kind: Map, Key: key, Elem: elem} }

// ObjectOf returns a reference to the named object type.
func ObjectOf(name string) *Type { return &Type{Kind: Struct, Object: name} }

// EnumOf returns a string type restricted to values (copied and sorted).
func EnumOf(values ...string) *Type {
	v := append([]string(nil), values...)
	sort.Strings(v)
	return &Type{Kind: String, Enum: v}
}

// String renders the type as flow source would write it.
func (t *Type) String() string {
	if t == nil {
		return "dyn"
	}
	switch t.Kind {
	case List:
		return "list(" + t.Elem.String() + ")"
	case Map:
		return "map(" + t.Key.String() + ", " + t.Elem.String() + ")"
	case Struct:
		return t.Object
	}
	return t.Kind.String()
}

// Equal reports whether two types are the same, ignoring enum restrictions.
func (t *Type) Equal(u *Type) bool {
	if t == nil || u == nil {
		return t == u
	}
	if t.Kind != u.Kind {
		return false
	}
	switch t.Kind {
	case List:
		return t.Elem.Equal(u.Elem)
	case Map:
		return t.Key.Equal(u.Key) && t.Elem.Equal(u.Elem)
	case Struct:
		return t.Object == u.Object
	}
	return true
}

// HasEnumValue reports whether v is allowed by an enum type (always true when
// the type is not an enum).
func (t *Type) HasEnumValue(v string) bool {
	if t == nil || t.Enum == nil {
		return true
	}
	i := sort.SearchStrings(t.Enum, v)
	return i < len(t.Enum) && t.Enum[i] == v
}

// Field is one named member of an Object.
type Field struct {
	Name      string
	Type      *Type
	Doc       string // one paragraph from the source schema, may be empty
	Required  bool   // an ERP write must set it (entity key parts the driver fills are not Required)
	Key       bool   // part of the entity's key
	MaxLength int    // maximum length of a String in characters; 0 when unknown
}

// Object is a record type: a gateway object (stripe.Charge), a synthesized
// event envelope (stripe.ChargeEvent) or an ERP entity (d365fo.CustomersV3).
type Object struct {
	Name   string // qualified: "<connector>.<Name>"
	Doc    string
	Fields []*Field // in schema order
	Keys   []string // entity key field names, in key order (ERP entities)
	// Anchor is the field where the runtime keeps a write's idempotency key
	// ("" when the entity has none); flows leave it alone.
	Anchor string

	index map[string]*Field
}

// NewObject builds an object and its field index. Duplicate field names are an
// error because they always mean a broken schema source.
func NewObject(name, doc string, fields []*Field, keys []string) (*Object, error) {
	o := &Object{Name: name, Doc: doc, Fields: fields, Keys: keys, index: make(map[string]*Field, len(fields))}
	for _, f := range fields {
		if _, dup := o.index[f.Name]; dup {
			return nil, fmt.Errorf("schema: object %s: duplicate field %q", name, f.Name)
		}
		o.index[f.Name] = f
	}
	for _, k := range keys {
		f, ok := o.index[k]
		if !ok {
			return nil, fmt.Errorf("schema: object %s: key %q is not a field", name, k)
		}
		f.Key = true
	}
	return o, nil
}

// Field returns the named field.
func (o *Object) Field(name string) (*Field, bool) {
	f, ok := o.index[name]
	return f, ok
}

// FieldNames returns the field names in schema order.
func (o *Object) FieldNames() []string {
	names := make([]string, len(o.Fields))
	for i, f := range o.Fields {
		names[i] = f.Name
	}
	return names
}

// ShortName is the object name without its connector prefix.
func (o *Object) ShortName() string {
	if i := strings.IndexByte(o.Name, '.'); i >= 0 {
		return o.Name[i+1:]
	}
	return o.Name
}
