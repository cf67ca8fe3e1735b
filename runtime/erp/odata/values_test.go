package odata

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib/schema"
)

func TestFromJSON(t *testing.T) {
	field := func(ty *schema.Type) *schema.Field { return &schema.Field{Name: "f", Type: ty} }
	dec := field(schema.DecimalType)
	for _, in := range []any{json.Number("20.10"), "20.10"} { // a number, or IEEE754Compatible's string
		v, err := FromJSON(dec, in, Instant)
		if d, ok := v.(decimal.Decimal); err != nil || !ok || d.String() != "20.1" {
			t.Errorf("decimal from %#v: %v, %v", in, v, err)
		}
	}
	v, err := FromJSON(field(schema.TimestampType), "2022-03-26T10:00:00+01:00", Instant)
	if tm, ok := v.(time.Time); err != nil || !ok || !tm.Equal(time.Date(2022, 3, 26, 9, 0, 0, 0, time.UTC)) || tm.Location() != time.UTC {
		t.Errorf("timestamp: %v, %v", v, err)
	}
	if v, err := FromJSON(field(schema.IntType), nil, Instant); v != nil || err != nil {
		t.Errorf("null: %v, %v", v, err)
	}
	if _, err := FromJSON(field(schema.IntType), "7", Instant); err == nil || !strings.Contains(err.Error(), "string value 7 where") {
		t.Errorf("a string for an int: %v", err)
	}
}

func TestToJSON(t *testing.T) {
	field := func(ty *schema.Type) *schema.Field { return &schema.Field{Name: "f", Type: ty} }
	utc := Wire{Time: func(tm time.Time) string { return tm.UTC().Format(time.RFC3339) }}
	at := time.Date(2024, 1, 31, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		f    *schema.Field
		v    any
		want any
	}{
		{field(schema.DecimalType), decimal.RequireFromString("12345678901234567890.123456789"), json.Number("12345678901234567890.123456789")},
		{field(schema.DecimalType), int64(20), json.Number("20")},
		{field(schema.IntType), decimal.RequireFromString("3"), json.Number("3")},
		{field(schema.IntType), 7, json.Number("7")},
		{field(schema.TimestampType), at, "2024-01-31T08:30:00Z"},
		{field(schema.EnumOf("No", "Yes")), "Yes", "Yes"},
		{field(schema.BoolType), true, true},
		{field(schema.StringType), nil, nil},
	} {
		got, err := ToJSON(c.f, c.v, utc)
		if err != nil || got != c.want {
			t.Errorf("%s from %#v: %#v, %v; want %#v", c.f.Type, c.v, got, err, c.want)
		}
	}
	guid := Wire{Time: utc.Time, String: func(s string) error {
		if len(s) != 36 {
			return errors.New("not a GUID")
		}
		return nil
	}}
	for _, c := range []struct {
		f    *schema.Field
		v    any
		w    Wire
		want string
	}{
		{field(schema.DecimalType), 1.5, utc, "floating-point value 1.5"},
		{field(schema.IntType), decimal.RequireFromString("1.5"), utc, "cannot be written to a int field"},
		{field(schema.EnumOf("No", "Yes")), "Maybe", utc, "not a member of the enum"},
		{field(schema.StringType), "x", guid, "not a GUID"},
		{field(schema.StringType), []int{1}, utc, "unsupported value type"},
	} {
		if _, err := ToJSON(c.f, c.v, c.w); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s from %#v: %v, want an error with %q", c.f.Type, c.v, err, c.want)
		}
	}
}

func TestFilter(t *testing.T) {
	term := func(name string, v any, _ bool) (string, string, error) {
		if name == "Bad" {
			return "", "", errors.New("no field Bad")
		}
		return name, Quote(v.(string)), nil
	}
	got, err := Filter([]string{"dataAreaId eq 'usmf'"}, erp.Record{"B": "2", "A": "1"}, []erp.Range{{Field: "C", Op: "<=", Value: "3"}}, term)
	if err != nil || got != "dataAreaId eq 'usmf' and A eq '1' and B eq '2' and C le '3'" {
		t.Errorf("filter: %q, %v", got, err)
	}
	if _, err := Filter(nil, erp.Record{"Bad": "x"}, nil, term); err == nil {
		t.Error("a field term refuses: no error")
	}
	if _, err := Filter(nil, nil, []erp.Range{{Field: "C", Op: "~", Value: "x"}}, term); err == nil {
		t.Error("an unknown comparison: no error")
	}
}
