package engine

import (
	"testing"
	"time"
)

func TestDecodeD365BusinessEvent(t *testing.T) {
	for _, c := range []struct {
		in, id string
		at     time.Time
		bad    bool
	}{
		{in: `{"BusinessEventId": "SalesInvoicePostedBusinessEvent", "EventId": "{0F8FAD5B-D9CB-469F-A165-70867728950E}", "ControlNumber": 5637144576, "EventTimeIso8601": "2024-07-03T09:46:40.0000000Z"}`,
			id: "0f8fad5b-d9cb-469f-a165-70867728950e", at: time.Unix(1720000000, 0).UTC()},
		{in: `{"BusinessEventId": "X", "ControlNumber": 42, "EventTime": "/Date(1720000000000)/"}`, id: "cn:42", at: time.Unix(1720000000, 0).UTC()},
		{in: `{"BusinessEventId": "X", "ControlNumber": "42"}`, id: "cn:42"},
		{in: `{"BusinessEventId": "X", "ControlNumber": -1}`, bad: true},
		{in: `{"BusinessEventId": "X", "ControlNumber": 1.5, "EventTime": "/Date(x)/"}`, bad: true},
		{in: `{"BusinessEventId": "X"}`, bad: true},
	} {
		ev, err := DecodeEvent([]byte(c.in))
		if c.bad {
			if err == nil {
				t.Errorf("%s: no error", c.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if ev.Source != "d365fo" || ev.ID != c.id || !ev.Received.Equal(c.at) {
			t.Errorf("%s: %+v", c.in, ev)
		}
	}
}
