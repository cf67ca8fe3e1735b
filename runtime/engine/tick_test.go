package engine

import (
	"testing"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// A test's tick, {"schedule": flow, "time": ...}, reads as flowd's ticks
// do: source schedule, the flow as its type, "<flow>@<time>" as its id.
func TestDecodeScheduleTick(t *testing.T) {
	ev, err := DecodeEvent([]byte(`{"schedule": "paypal_withdrawals", "time": "2024-08-03T06:00:00-04:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Source != ScheduleSource || ev.Type != "paypal_withdrawals" || ev.ID != "paypal_withdrawals@2024-08-03T10:00:00Z" {
		t.Fatalf("tick = %s %s %s", ev.Source, ev.Type, ev.ID)
	}
	if at, _ := ev.Body.(*jsonval.Object).Get("time"); at != "2024-08-03T10:00:00Z" {
		t.Errorf("tick.time = %v", at)
	}
	for _, bad := range []string{`{"schedule": "f"}`, `{"schedule": "f", "time": "tomorrow"}`} {
		if _, err := DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("DecodeEvent(%s) took it", bad)
		}
	}
}
