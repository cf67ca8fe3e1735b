package record

import (
	"bytes"
	"encoding/json"
	"testing"
)

func sameAsMarshal(t *testing.T, l line) {
	t.Helper()
	want, werr := json.Marshal(l)
	got, gerr := appendLine(nil, l)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%+v: json.Marshal error %v, appendLine error %v", l, werr, gerr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("appendLine\n%s\njson.Marshal\n%s", got, want)
	}
}

func TestAppendLineMatchesMarshal(t *testing.T) {
	sameAsMarshal(t, line{Op: "create", Entity: "E", Key: `k"<&>`, Fields: map[string]any{
		"s": "a\nb\t\x01\u2028é\xff", "n": json.Number("-12.50"), "b": true, "z": nil, "f": false}})
	sameAsMarshal(t, line{Op: "journal", Entity: "H", Fields: map[string]any{}, LineEntity: "L",
		Lines: []map[string]any{{"a": json.Number("1")}, {"b": "x"}}})
	sameAsMarshal(t, line{Op: "create", Entity: "E", Fields: nil})
	sameAsMarshal(t, line{Op: "create", Entity: "E", Fields: map[string]any{"bad": json.Number("1x")}})
}

func FuzzAppendLine(f *testing.F) {
	f.Add("create", "k\u2029", "v<\x00>", "3.5")
	f.Fuzz(func(t *testing.T, op, key, s, num string) {
		sameAsMarshal(t, line{Op: op, Entity: "E", Key: key, Fields: map[string]any{key: s, "n": json.Number(num), s: nil}})
	})
}
