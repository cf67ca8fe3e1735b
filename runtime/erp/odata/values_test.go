package odata

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

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
