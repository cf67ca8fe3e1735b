package paypal

import (
	"errors"
	"testing"
)

// peekSeeds are bodies at the edges of what an event is.
var peekSeeds = []string{
	`{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"C1"}}`,
	`{"ID":"WH-1","event_type":"X","resource":{}}`,
	`{"id":"WH-1","event_type":"X","resource":{},"create_time":"2019-02-14T21:50:07.940Z"}`,
	`{"id":"WH-1","event_type":"X","resource":{},"create_time":"2019-02-14T21:50:07.940"}`,
	`{"id":"WH-1","event_type":"X","resource":{},"create_time":"2019-02-14T25:50:07Z"}`,
	`{"id":"WH-1","event_type":"X","resource":{},"create_time":""}`,
	`{"id":"WH-1","event_type":"X","resource":null}`,
	`{"id":"WH-1","event_type":"X","resource":{"id":5}}`,
	`{"id":"WH-1","event_type":"X","resource_type":null,"resource":{}} `,
	`{"id":"WH-1","event_type":"X","resource":{}} {}`,
	`{"id":"WH-1","id":"x","event_type":"X","resource":{}}`,
	`{"id":"WH-1","event_type":"","resource":{}}`,
	`{"id":"WH-1","event_type":"X","resource":{},"resource":[]}`,
	`{"id":"WH-\u0031","event_type":"X","resource":{"id":"\ud800"}}`,
	`{"id":"WH-1","event_type":"X","summary":"\ud800","resource":{}}`,
	`[]`, `null`, ``, `{`,
}

func TestPeekAgreesWithDecode(t *testing.T) {
	bodies := peekSeeds
	for _, f := range eventFixtures(t) {
		bodies = append(bodies, string(readFile(t, f)))
	}
	for _, b := range bodies {
		agree(t, []byte(b))
	}
}

// FuzzPeekAgreesWithDecode: Peek accepts exactly what Decode accepts and
// reads the same envelope.
func FuzzPeekAgreesWithDecode(f *testing.F) {
	for _, s := range peekSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, b) })
}

func agree(t *testing.T, b []byte) {
	t.Helper()
	ev, derr := Decode(b)
	h, perr := Peek(b)
	if (derr == nil) != (perr == nil) {
		t.Fatalf("%q: Decode error %v, Peek error %v", b, derr, perr)
	}
	if derr == nil && h != (Head{ID: ev.ID, Type: ev.Type, ResourceType: ev.ResourceType, Created: ev.Created, ResourceID: ev.ResourceID}) {
		t.Fatalf("%q: Peek %+v, Decode %+v", b, h, *ev)
	}
	if perr != nil && !errors.Is(perr, ErrInvalidEvent) {
		t.Fatalf("%q: Peek error does not wrap ErrInvalidEvent: %v", b, perr)
	}
}
