package odata

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

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
