package bc

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	bcschema "github.com/flowhq/flow/stdlib/bc"
	"github.com/flowhq/flow/stdlib/schema"
)

// wireValue converts a field value to its JSON form, checking it against
// the field's type: decimals as JSON numbers from their exact text, a date
// field as 2024-01-31 (the calendar date in the time's own location), an
// instant as RFC 3339 in UTC, GUIDs checked.
func wireValue(set string, f *schema.Field, v any) (any, error) {
	wt := bcschema.WireType(set, f.Name)
	w := odata.Wire{Time: func(tm time.Time) string {
		if wt == "date" {
			return tm.Format("2006-01-02")
		}
		return tm.UTC().Format(time.RFC3339Nano)
	}}
	if wt == "GUID" {
		w.String = func(s string) error {
			if s != "" && !guidPattern.MatchString(s) {
				return fmt.Errorf("%q is not a GUID", s)
			}
			return nil
		}
	}
	return odata.ToJSON(f, v, w)
}

// encodeBody renders fields as a JSON object with sorted keys.
func encodeBody(set string, obj *schema.Object, fields erp.Record) ([]byte, error) {
	out := make(map[string]any, len(fields))
	for name, v := range fields {
		f, ok := obj.Field(name)
		if !ok {
			return nil, fmt.Errorf("%s has no field %q", set, name)
		}
		w, err := wireValue(set, f, v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		out[name] = w
	}
	return json.Marshal(out)
}

// literal renders v as an OData literal for a $filter on f: GUIDs, dates
// and instants bare, strings quoted.
func literal(set string, f *schema.Field, v any) (string, error) {
	w, err := wireValue(set, f, v)
	if err != nil {
		return "", err
	}
	switch w := w.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(w), nil
	case json.Number:
		return string(w), nil
	case string:
		if _, isTime := v.(time.Time); isTime {
			return w, nil
		}
		if bcschema.WireType(set, f.Name) == "GUID" && w != "" {
			return strings.ToLower(w), nil
		}
		return odata.Quote(w), nil
	}
	return "", fmt.Errorf("unsupported value type %T", w)
}

// decodeRecord reads one entity and its @odata.etag (odata.DecodeEntity)
// with Business Central's dates.
func decodeRecord(set string, obj *schema.Object, data []byte) (erp.Record, string, error) {
	return odata.DecodeEntity(obj, data, func(f *schema.Field, v any) (any, error) { return fromWire(set, f, v) })
}

// fromWire converts a JSON value (decoded with UseNumber) to f's Go type:
// Business Central writes dates as 2006-01-02, instants in RFC 3339.
func fromWire(set string, f *schema.Field, v any) (any, error) {
	return odata.FromJSON(f, v, func(s string) (time.Time, error) {
		if bcschema.WireType(set, f.Name) == "date" || len(s) == len("2006-01-02") {
			return time.Parse("2006-01-02", s)
		}
		return odata.Instant(s)
	})
}
