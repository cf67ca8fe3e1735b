package paypal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// TestDecodeFixtures decodes every event body in the fixtures and checks
// the typed fields against the JSON.
func TestDecodeFixtures(t *testing.T) {
	for _, path := range eventFixtures(t) {
		t.Run(seedName(path), func(t *testing.T) {
			payload := readFile(t, path)
			e, err := Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := jsonval.DecodeStrict(payload, &want); err != nil {
				t.Fatal(err)
			}
			res := want["resource"].(map[string]any)
			resID, _ := res["id"].(string)
			if resID == "" {
				resID, _ = res["dispute_id"].(string)
			}
			created, err := time.Parse(time.RFC3339Nano, want["create_time"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != want["id"] || e.Type != want["event_type"] || e.ResourceType != want["resource_type"] ||
				e.ResourceID != resID || !e.Created.Equal(created) || e.Created.Location() != time.UTC ||
				e.Summary != want["summary"] {
				t.Errorf("got %s %s %s %s %s %q", e.ID, e.Type, e.ResourceType, e.ResourceID, e.Created, e.Summary)
			}
			if !strings.HasPrefix(e.ID, "WH-") || e.Type != seedName(path) && !strings.Contains(path, "docs_samples") {
				t.Errorf("id %q, type %q in %s", e.ID, e.Type, path)
			}
			if !bytes.Equal(e.Raw, payload) {
				t.Error("Raw differs from the payload")
			}
			if fs := floats("", e.Envelope); len(fs) > 0 {
				t.Errorf("float64 values at %v", fs)
			}
			h, err := Peek(payload)
			if err != nil {
				t.Fatal(err)
			}
			if h != (Head{ID: e.ID, Type: e.Type, ResourceType: e.ResourceType, Created: e.Created, ResourceID: e.ResourceID}) {
				t.Errorf("Peek %+v", h)
			}
		})
	}
}

func TestDecodeKnownFixture(t *testing.T) {
	e, err := Decode(readFile(t, signedDir+"/HOOK_PAYMENT_CAPTURE_COMPLETED_V2__PAYMENT.CAPTURE.COMPLETED.body.json"))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "WH-58D329510W468432D-8HN650336L201105X" || e.Type != "PAYMENT.CAPTURE.COMPLETED" ||
		e.ResourceType != "capture" || e.ResourceID != "12A34567BC123456S" ||
		!e.Created.Equal(time.Date(2019, 2, 14, 21, 50, 7, 940e6, time.UTC)) ||
		e.EventVersion != "1.0" || e.ResourceVersion != "2.0" {
		t.Errorf("got %+v", *e)
	}
	amount := e.Resource()["amount"].(map[string]any)
	if amount["value"] != "30.00" || amount["currency_code"] != "USD" {
		t.Errorf("amount %v", amount)
	}
}

// TestDecodeDisputeID: a dispute has no resource.id; its dispute_id stands
// in.
func TestDecodeDisputeID(t *testing.T) {
	e, err := Decode(readFile(t, "testdata/docs_samples/CUSTOMER.DISPUTE.CREATED.docs_sample.extracted.json"))
	if err != nil {
		t.Fatal(err)
	}
	if e.ResourceID != "PP-000-042-663-135" {
		t.Errorf("ResourceID %q", e.ResourceID)
	}
	for _, body := range []string{
		`{"id":"WH-1","event_type":"X","resource":{"id":"A","dispute_id":"B"}}`,
		`{"id":"WH-1","event_type":"X","resource":{"id":"A","dispute_id":7}}`,
	} {
		if e, err := Decode([]byte(body)); err != nil || e.ResourceID != "A" {
			t.Errorf("%s: got %v, %v", body, e, err)
		}
	}
	if _, err := Decode([]byte(`{"id":"WH-1","event_type":"X","resource":{"dispute_id":7}}`)); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("numeric dispute_id: got %v", err)
	}
}

func TestDecodeKeepsNumbersExact(t *testing.T) {
	e, err := Decode([]byte(`{"id":"WH-1","event_type":"X","resource":{"n":9007199254740993,"r":1.0999999999999999999}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.Resource(); r["n"] != json.Number("9007199254740993") || r["r"] != json.Number("1.0999999999999999999") {
		t.Errorf("resource %#v", r)
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct{ body, why string }{
		{``, "empty body"},
		{`{`, "truncated"},
		{`[]`, "cannot unmarshal"},
		{`null`, "not an object"},
		{`{"id":"WH-1","event_type":"X","resource":{}} {}`, "trailing data"},
		{`{"event_type":"X","resource":{}}`, "id is missing"},
		{`{"id":"","event_type":"X","resource":{}}`, "id is empty"},
		{`{"id":1,"event_type":"X","resource":{}}`, "id is a number"},
		{`{"id":"WH-1","resource":{}}`, "event_type is missing"},
		{`{"id":"WH-1","event_type":null,"resource":{}}`, "event_type is missing"},
		{`{"id":"WH-1","event_type":"X"}`, "resource is missing"},
		{`{"id":"WH-1","event_type":"X","resource":null}`, "resource is missing"},
		{`{"id":"WH-1","event_type":"X","resource":[]}`, "resource is missing"},
		{`{"id":"WH-1","event_type":"X","resource":{"id":7}}`, "resource: id is a number"},
		{`{"id":"WH-1","event_type":"X","resource_type":true,"resource":{}}`, "resource_type is a boolean"},
		{`{"id":"WH-1","event_type":"X","summary":{},"resource":{}}`, "summary is an object"},
		{`{"id":"WH-1","event_type":"X","create_time":"yesterday","resource":{}}`, "create_time"},
		{`{"id":"WH-1","event_type":"X","create_time":1550181007,"resource":{}}`, "create_time is a number"},
	}
	for _, tc := range tests {
		_, err := Decode([]byte(tc.body))
		if !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("Decode(%s) = %v, want ErrInvalidEvent saying %q", tc.body, err, tc.why)
		}
		if _, err := Peek([]byte(tc.body)); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("Peek(%s) = %v, want ErrInvalidEvent", tc.body, err)
		}
	}
}

func TestDecodeOptionalFields(t *testing.T) {
	e, err := Decode([]byte(`{"id":"WH-1","event_type":"X","resource_type":null,"create_time":null,"resource":{"id":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	if e.ResourceType != "" || !e.Created.IsZero() || e.ResourceID != "" {
		t.Errorf("got %+v", *e)
	}
	e, err = Decode([]byte(`{"id":"WH-1","event_type":"X","create_time":"2024-08-02T21:33:35+02:00","resource":{}}`))
	if err != nil || !e.Created.Equal(time.Date(2024, 8, 2, 19, 33, 35, 0, time.UTC)) || e.Created.Location() != time.UTC {
		t.Errorf("got %v, %v", e, err)
	}
}

// floats returns the paths of every float64 in v: there must be none when
// numbers are decoded as json.Number.
func floats(path string, v any) []string {
	switch v := v.(type) {
	case float64:
		return []string{path}
	case map[string]any:
		var out []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, floats(path+"."+k, v[k])...)
		}
		return out
	case []any:
		var out []string
		for i, e := range v {
			out = append(out, floats(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
		return out
	}
	return nil
}
