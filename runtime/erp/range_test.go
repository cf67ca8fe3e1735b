package erp

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// A range compares amounts by value, instants as instants and text
// byte-wise; a missing field satisfies only != of a value.
func TestRangeMatch(t *testing.T) {
	day := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	rec := Record{"AmountCur": decimal.RequireFromString("250.00"), "DueDate": day, "Invoice": "CIV-000812", "Lines": int64(3)}
	for _, c := range []struct {
		r    Range
		want bool
	}{
		{Range{"AmountCur", ">", decimal.RequireFromString("0")}, true},
		{Range{"AmountCur", "<=", int64(250)}, true},
		{Range{"AmountCur", "<", decimal.RequireFromString("250")}, false},
		{Range{"Lines", ">=", decimal.RequireFromString("3.0")}, true},
		{Range{"DueDate", "<=", day.Add(12 * time.Hour)}, true},
		{Range{"DueDate", ">", day.In(time.FixedZone("EST", -5*3600))}, false},
		{Range{"Invoice", ">", "CIV-000811"}, true},
		{Range{"Invoice", "!=", "CIV-000812"}, false},
		{Range{"Missing", "!=", "x"}, true},
		{Range{"Missing", "<", "x"}, false},
	} {
		got, err := c.r.Match(rec)
		if err != nil || got != c.want {
			t.Errorf("%s %s %v: %v, %v; want %v", c.r.Field, c.r.Op, c.r.Value, got, err, c.want)
		}
	}
	if _, err := (Range{"Invoice", "<", day}).Match(rec); err == nil {
		t.Error("text compared with a time: no error")
	}
}
