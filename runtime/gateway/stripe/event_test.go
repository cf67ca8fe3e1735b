package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDecodeFixtures decodes every real event payload, whatever its API
// version (2017-05-25, 2019-02-19, 2020-08-27), and checks the typed fields
// against the payload.
func TestDecodeFixtures(t *testing.T) {
	for _, path := range fixtureEvents(t) {
		t.Run(seedName(path), func(t *testing.T) {
			payload := readFile(t, path)
			e, err := Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			want := readJSON(t, path)
			data := want["data"].(map[string]any)
			obj := data["object"].(map[string]any)
			created, _ := want["created"].(json.Number).Int64()
			objID, _ := obj["id"].(string)
			account, _ := want["account"].(string)
			if e.ID != want["id"] || e.Type != want["type"] || e.APIVersion != want["api_version"] ||
				!e.Created.Equal(time.Unix(created, 0)) || e.Created.Location() != time.UTC ||
				e.Livemode != want["livemode"] || e.ObjectID != objID || e.Account != account {
				t.Errorf("got %+v", *e)
			}
			if filepath.Base(filepath.Dir(path)) == "events" && e.Type+".json" != filepath.Base(path) {
				t.Errorf("type %q in %s", e.Type, path)
			}
			if !bytes.Equal(e.Raw, payload) {
				t.Error("Raw differs from the payload")
			}
			if got := e.Object()["object"]; got != obj["object"] {
				t.Errorf("Object().object = %v, want %v", got, obj["object"])
			}
			if fs := floats("", e.Envelope); len(fs) > 0 {
				t.Errorf("float64 values at %v", fs)
			}
		})
	}
}

func TestDecodeKeepsNumbersExact(t *testing.T) {
	payload := []byte(`{"id":"evt_1","type":"charge.succeeded","created":1648320032,
		"data":{"object":{"id":"ch_1","amount":9007199254740993,"exchange_rate":1.0999999999999999999}}}`)
	e, err := Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	obj := e.Object()
	if obj["amount"] != json.Number("9007199254740993") || obj["exchange_rate"] != json.Number("1.0999999999999999999") {
		t.Errorf("amount %#v, exchange_rate %#v", obj["amount"], obj["exchange_rate"])
	}
	if e.APIVersion != "" || e.Account != "" || e.Livemode {
		t.Errorf("absent optional fields: %+v", *e)
	}
}

func TestDecodeCopiesPayload(t *testing.T) {
	payload := readFile(t, filepath.Join(fixtures, "events", "payout.paid.json"))
	e, err := Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(payload)
	clear(payload)
	if !bytes.Equal(e.Raw, want) {
		t.Error("Raw shares the caller's buffer")
	}
}

func TestDecodeErrors(t *testing.T) {
	charge := readFile(t, filepath.Join(fixtures, "events", "charge.succeeded.json"))
	// event returns a valid minimal event with field set to value (JSON),
	// or removed when value is "".
	event := func(field, value string) string {
		m := map[string]string{
			"id":      `"evt_1"`,
			"type":    `"charge.succeeded"`,
			"created": `1648320032`,
			"data":    `{"object":{"id":"ch_1","object":"charge"}}`,
		}
		if value == "" {
			delete(m, field)
		} else {
			m[field] = value
		}
		var b strings.Builder
		b.WriteString("{")
		for _, k := range []string{"id", "type", "created", "data", "api_version", "account", "livemode"} {
			if v, ok := m[k]; ok {
				if b.Len() > 1 {
					b.WriteString(",")
				}
				b.WriteString(`"` + k + `":` + v)
			}
		}
		return b.String() + "}"
	}
	tests := []struct {
		name, payload, want string
	}{
		{"empty", "", "empty body"},
		{"white space", " \n", "empty body"},
		{"not JSON", "id=evt_1&type=charge.succeeded", "invalid character"},
		{"truncated", string(charge[:len(charge)/2]), "truncated JSON"},
		{"truncated inside a string", `{"id":"evt_`, "truncated JSON"},
		{"trailing garbage", string(charge) + "garbage", "trailing data"},
		{"two events", event("", "") + event("", ""), "trailing data"},
		{"array", "[" + event("", "") + "]", "cannot unmarshal array"},
		{"string", `"evt_1"`, "cannot unmarshal string"},
		{"null", "null", "not an object"},
		{"no id", event("id", ""), "id is missing"},
		{"null id", event("id", "null"), "id is missing"},
		{"numeric id", event("id", "1"), "id is a number, want a string"},
		{"id without evt_", event("id", `"ch_1"`), `id "ch_1" does not start with evt_`},
		{"no type", event("type", ""), "type is missing"},
		{"empty type", event("type", `""`), "type is empty"},
		{"type not a string", event("type", `["charge.succeeded"]`), "type is an array, want a string"},
		{"no created", event("created", ""), "created is missing"},
		{"created not an integer", event("created", "1648320032.5"), "created 1648320032.5 is not an integer"},
		{"created a string", event("created", `"1648320032"`), "created is a string, want an integer"},
		{"api_version not a string", event("api_version", "2020"), "api_version is a number"},
		{"account not a string", event("account", "{}"), "account is an object"},
		{"livemode not a boolean", event("livemode", `"false"`), "livemode is a string, want a boolean"},
		{"no data", event("data", ""), "data.object is missing"},
		{"data not an object", event("data", "[]"), "data.object is missing"},
		{"no data.object", event("data", `{"previous_attributes":{}}`), "data.object is missing"},
		{"null data.object", event("data", `{"object":null}`), "data.object is missing"},
		{"data.object a string", event("data", `{"object":"ch_1"}`), "data.object is missing or not an object"},
		{"data.object.id not a string", event("data", `{"object":{"id":7}}`), "data.object: id is a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Decode([]byte(tc.payload))
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want an error", tc.payload, *e)
			}
			if !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode(%q) error %q, want ErrInvalidEvent with %q", tc.payload, err, tc.want)
			}
		})
	}
	// The helper itself makes a valid event.
	if _, err := Decode([]byte(event("", ""))); err != nil {
		t.Fatalf("minimal event: %v", err)
	}
}
