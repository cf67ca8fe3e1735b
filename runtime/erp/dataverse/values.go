package dataverse

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	"github.com/flowhq/flow/stdlib/schema"
)

// wireValue converts a field value to its JSON form, checked against the
// field's type: decimals as JSON numbers from their exact text, an
// Edm.Date column as 2024-01-31, an instant in UTC, GUIDs checked.
func (d *Driver) wireValue(t table, f *schema.Field, col string, v any) (any, error) {
	date := d.schema.Dates[t.set][col]
	w := odata.Wire{Time: func(tm time.Time) string {
		if date {
			return tm.Format("2006-01-02")
		}
		return tm.UTC().Format(time.RFC3339Nano)
	}}
	if d.schema.Guids[t.set][col] {
		w.String = func(s string) error {
			if !guidPattern.MatchString(s) {
				return fmt.Errorf("%q is not a GUID", s)
			}
			return nil
		}
	}
	return odata.ToJSON(f, v, w)
}

// literal renders v as an OData literal for column col of field f:
// GUIDs, dates and instants bare, strings quoted.
func (d *Driver) literal(t table, f *schema.Field, col string, v any) (string, error) {
	w, err := d.wireValue(t, f, col, v)
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
		if d.schema.Guids[t.set][col] || guidPattern.MatchString(w) && strings.HasPrefix(col, "_") {
			return strings.ToLower(w), nil
		}
		return odata.Quote(w), nil
	}
	return "", fmt.Errorf("unsupported value type %T", w)
}

// encodeBody renders fields as a JSON object with sorted keys, leaving out
// the key columns skip; lookups become <nav>@odata.bind: "/<set>(<guid>)".
func (d *Driver) encodeBody(t table, fields erp.Record, skip []string) ([]byte, error) {
	out := make(map[string]any, len(fields))
	for name, v := range fields {
		if contains(skip, name) {
			continue
		}
		f, ok := t.obj.Field(name)
		if !ok {
			return nil, fmt.Errorf("%s has no field %q", t.set, name)
		}
		if b, bind := d.schema.IsBind(t.set, name); bind {
			if v == nil || v == "" {
				out[name+"@odata.bind"] = nil // clears the lookup
				continue
			}
			id, _ := v.(string)
			if !guidPattern.MatchString(id) {
				return nil, fmt.Errorf("field %s: %v is not a GUID (the %s row to link)", name, v, b.Target)
			}
			out[name+"@odata.bind"] = "/" + b.Target + "(" + strings.ToLower(id) + ")"
			continue
		}
		w, err := d.wireValue(t, f, name, v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		out[name] = w
	}
	return json.Marshal(out)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decodeRecord reads one row and its @odata.etag (odata.DecodeEntity:
// annotations such as "_customerid_value@OData.Community.Display.V1.
// FormattedValue" are dropped), and gives each lookup's navigation field
// its value column's GUID.
func (d *Driver) decodeRecord(t table, data []byte) (erp.Record, string, error) {
	rec, etag, err := odata.DecodeEntity(t.obj, data, fromWire)
	if err != nil {
		return nil, "", err
	}
	// A lookup reads back as its value column; give the navigation field
	// the same GUID so that flows can use either.
	for nav, b := range d.schema.Binds[t.set] {
		if v, ok := rec[b.Value]; ok {
			rec[nav] = v
		}
	}
	return rec, etag, nil
}

// fromWire converts a JSON value (decoded with UseNumber) to f's Go type:
// Dataverse writes Date Only columns as 2006-01-02; navigation content a
// $select did not ask for is dropped.
func fromWire(f *schema.Field, v any) (any, error) {
	switch v.(type) {
	case map[string]any, []any:
		if k := f.Type.Kind; k != schema.String && k != schema.Bool && k != schema.Int && k != schema.Decimal &&
			k != schema.Minor && k != schema.Double && k != schema.Timestamp {
			return nil, nil
		}
	}
	return odata.FromJSON(f, v, func(s string) (time.Time, error) {
		if len(s) == len("2006-01-02") {
			return time.Parse("2006-01-02", s)
		}
		return odata.Instant(s)
	})
}
