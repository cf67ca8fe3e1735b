package d365fo

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	"github.com/flowhq/flow/stdlib/schema"
)

// namespace is F&O's CSDL namespace, which qualifies enum literals.
const namespace = "Microsoft.Dynamics.DataEntities"

// wireValue converts a field value to its JSON form, checking it against
// the field's type. Decimals become JSON numbers from their exact text,
// times RFC 3339 in UTC (see wireTime), enums their member name.
func wireValue(f *schema.Field, v any) (any, error) {
	return odata.ToJSON(f, v, odata.Wire{Time: wireTime})
}

// wireTime renders t for F&O: an instant in UTC, except that a time at
// midnight in its own location is a date and stays that calendar date
// ("2024-01-31T00:00:00Z"), as F&O's date-only fields expect.
func wireTime(t time.Time) string {
	if h, m, s := t.Clock(); h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0 {
		y, mo, d := t.Date()
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// encodeBody renders fields as a JSON object with sorted keys.
func encodeBody(obj *schema.Object, fields erp.Record) ([]byte, error) {
	out := make(map[string]any, len(fields))
	for name, v := range fields {
		f, ok := obj.Field(name)
		if !ok {
			return nil, fmt.Errorf("%s has no field %q", obj.ShortName(), name)
		}
		w, err := wireValue(f, v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		out[name] = w
	}
	return json.Marshal(out)
}

// literal renders v as an OData literal for a $filter on f.
func (d *Driver) literal(f *schema.Field, v any) (string, error) {
	w, err := wireValue(f, v)
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
			return w, nil // DateTimeOffset literals are not quoted
		}
		if f.Type.Enum != nil {
			if typ := d.enumType(f); typ != "" {
				return namespace + "." + typ + odata.Quote(w), nil
			}
		}
		return odata.Quote(w), nil
	}
	return "", fmt.Errorf("unsupported value type %T", w)
}

// enumType names f's enum type for filter literals: Config.EnumTypes, or
// NoYes for a No/Yes enum; "" when unknown (a plain string literal is sent).
func (d *Driver) enumType(f *schema.Field) string {
	if t := d.cfg.EnumTypes[f.Name]; t != "" {
		return t
	}
	if slices.Equal(f.Type.Enum, []string{"No", "Yes"}) {
		return "NoYes"
	}
	return ""
}

// decodeRecord reads one entity (odata.DecodeEntity); fields the schema
// does not know (a tenant's custom fields) keep their JSON kind.
func decodeRecord(obj *schema.Object, data []byte) (erp.Record, error) {
	rec, _, err := odata.DecodeEntity(obj, data, fromWire)
	return rec, err
}

// fromWire converts a JSON value (decoded with UseNumber) to f's Go type.
func fromWire(f *schema.Field, v any) (any, error) { return odata.FromJSON(f, v, odata.Instant) }
