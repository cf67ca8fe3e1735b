package odata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib/schema"
)

// FromJSON converts a JSON value (decoded with UseNumber) to f's Go type:
// string, bool, int64, decimal.Decimal (numbers, or strings in
// IEEE754Compatible answers) and time.Time, which timestamp parses because
// the OData dialects write dates differently. Other kinds come back as
// they are, numbers as decimals.
func FromJSON(f *schema.Field, v any, timestamp func(string) (time.Time, error)) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.Type.Kind {
	case schema.String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case schema.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case schema.Int:
		if n, ok := v.(json.Number); ok {
			return strconv.ParseInt(string(n), 10, 64)
		}
	case schema.Decimal, schema.Minor, schema.Double:
		switch n := v.(type) {
		case json.Number:
			return decimal.NewFromString(string(n))
		case string:
			return decimal.NewFromString(n)
		}
	case schema.Timestamp:
		if s, ok := v.(string); ok {
			return timestamp(s)
		}
	default:
		if n, ok := v.(json.Number); ok {
			return decimal.NewFromString(string(n))
		}
		return v, nil
	}
	return nil, fmt.Errorf("%s value %v where %s was expected", JSONKind(v), v, f.Type)
}

// Instant parses an RFC 3339 timestamp, in UTC.
func Instant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err
}

// JSONKind names a decoded JSON value's kind for error messages.
func JSONKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// Comparison is the $filter operator of a query's comparison ("<=" is
// "le"), or false for one OData has not.
func Comparison(op string) (string, bool) {
	o, ok := comparisons[op]
	return o, ok
}

var comparisons = map[string]string{"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}

// DecodeEntity reads one entity (a record, a row) from a JSON object and
// returns it with its @odata.etag. conv converts each property by its
// field in obj; a property obj does not know is converted as dyn (keeps
// its JSON kind, numbers as decimal.Decimal: nothing becomes a float).
// Annotations (names with an "@") are dropped.
func DecodeEntity(obj *schema.Object, data []byte, conv func(f *schema.Field, v any) (any, error)) (erp.Record, string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, "", fmt.Errorf("not a JSON object: %w", err)
	}
	if raw == nil {
		return nil, "", fmt.Errorf("not a JSON object: null")
	}
	etag, _ := raw["@odata.etag"].(string)
	rec := make(erp.Record, len(raw))
	for name, v := range raw {
		if strings.Contains(name, "@") {
			continue
		}
		f, ok := obj.Field(name)
		if !ok {
			f = &schema.Field{Name: name, Type: schema.AnyType}
		}
		val, err := conv(f, v)
		if err != nil {
			return nil, "", fmt.Errorf("field %s: %w", name, err)
		}
		rec[name] = val
	}
	return rec, etag, nil
}

// Wire is what differs between the ERPs in how ToJSON writes a value.
type Wire struct {
	// Time renders a time for the field (an instant, or a date-only
	// field's calendar date).
	Time func(time.Time) string
	// String, when set, checks a string beyond the field's enum (a GUID
	// field's ids).
	String func(string) error
}

// ToJSON converts a field value (a plain Go value: string, bool, an
// integer, decimal.Decimal, time.Time or nil) to its JSON form, checked
// against the field's type: decimals as JSON numbers from their exact
// text, enum members by name, times as w says. A float is refused: amounts
// are exact.
func ToJSON(f *schema.Field, v any, w Wire) (any, error) {
	if v == nil {
		return nil, nil
	}
	want := f.Type.Kind
	switch v := v.(type) {
	case string:
		if want == schema.String || want == schema.Any {
			if !f.Type.HasEnumValue(v) {
				return nil, fmt.Errorf("%q is not a member of the enum (%v)", v, f.Type.Enum)
			}
			if w.String != nil {
				if err := w.String(v); err != nil {
					return nil, err
				}
			}
			return v, nil
		}
	case bool:
		if want == schema.Bool || want == schema.Any {
			return v, nil
		}
	case int:
		return ToJSON(f, int64(v), w)
	case int32:
		return ToJSON(f, int64(v), w)
	case int64:
		switch want {
		case schema.Int, schema.Decimal, schema.Minor, schema.Double, schema.Any:
			return json.Number(strconv.FormatInt(v, 10)), nil
		}
	case decimal.Decimal:
		switch want {
		case schema.Decimal, schema.Minor, schema.Double, schema.Any:
			return json.Number(v.String()), nil
		case schema.Int:
			if v.IsInteger() {
				return json.Number(v.String()), nil
			}
		}
	case time.Time:
		if want == schema.Timestamp || want == schema.Any {
			return w.Time(v), nil
		}
	case float32, float64:
		return nil, fmt.Errorf("floating-point value %v: amounts must be decimal.Decimal", v)
	default:
		return nil, fmt.Errorf("unsupported value type %T", v)
	}
	return nil, fmt.Errorf("a %T cannot be written to a %s field", v, f.Type)
}

// Filter renders a query's conditions as a $filter: the terms first, then
// where's equalities (by field name) and the ranges, joined by "and".
// term gives a condition's column and literal (compare says it is a
// range's), or says why the field cannot be filtered on.
func Filter(first []string, where erp.Record, ranges []erp.Range, term func(field string, v any, compare bool) (col, lit string, err error)) (string, error) {
	names := make([]string, 0, len(where))
	for name := range where {
		names = append(names, name)
	}
	sort.Strings(names)
	terms := append([]string(nil), first...)
	for _, name := range names {
		col, lit, err := term(name, where[name], false)
		if err != nil {
			return "", err
		}
		terms = append(terms, col+" eq "+lit)
	}
	for _, rg := range ranges {
		op, known := Comparison(rg.Op)
		if !known {
			return "", fmt.Errorf("%s: no comparison %q in OData", rg.Field, rg.Op)
		}
		col, lit, err := term(rg.Field, rg.Value, true)
		if err != nil {
			return "", err
		}
		terms = append(terms, col+" "+op+" "+lit)
	}
	return strings.Join(terms, " and "), nil
}
