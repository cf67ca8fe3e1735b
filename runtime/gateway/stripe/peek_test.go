package stripe

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// peekSeeds are bodies at the edges of what an event is.
var peekSeeds = []string{
	`{"id":"evt_1","type":"charge.succeeded","created":1,"data":{"object":{"id":"ch_1"}}}`,
	`{"ID":"evt_1","type":"t","created":1,"data":{"object":{}}}`,
	`{"id":"evt_1","type":"t","created":1.0,"data":{"object":{}}}`,
	`{"id":"evt_1","type":"t","created":1e3,"data":{"object":{}}}`,
	`{"id":"evt_1","type":"t","created":"1","data":{"object":{}}}`,
	`{"id":"evt_1","type":"t","created":1,"data":{"object":null}}`,
	`{"id":"evt_1","type":"t","created":1,"data":{"object":{"id":5}}}`,
	`{"id":"evt_1","type":"t","created":1,"livemode":"yes","data":{"object":{}}}`,
	`{"id":"evt_1","type":"t","created":1,"account":null,"data":{"object":{}}} `,
	`{"id":"evt_1","type":"t","created":1,"data":{"object":{}}} {}`,
	`{"id":"evt_1","id":"x","type":"t","created":1,"data":{"object":{}}}`,
	`{"id":"evt_1","type":"","created":1,"data":{"object":{}}}`,
	`{"id":"evt_1","type":"t","created":-1,"data":{"object":{}},"data":{"object":{}}}`,
	`{"id":"evt_\u0031","type":"t","created":1,"data":{"object":{"id":"\ud800"}}}`,
	`[]`, `null`, ``, `{`,
}

func TestPeekAgreesWithDecode(t *testing.T) {
	files, _ := filepath.Glob("../../../testdata/stripe/events/*.json")
	bodies := peekSeeds
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, string(b))
	}
	for _, b := range bodies {
		agree(t, []byte(b))
	}
}

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
	if derr == nil && (h.ID != ev.ID || h.Type != ev.Type) {
		t.Fatalf("%q: Peek %+v, Decode %s %s", b, h, ev.ID, ev.Type)
	}
	if perr != nil && !errors.Is(perr, ErrInvalidEvent) {
		t.Fatalf("%q: Peek error does not wrap ErrInvalidEvent: %v", b, perr)
	}
}
