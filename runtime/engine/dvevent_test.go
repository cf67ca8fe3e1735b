package engine

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

func readDataverse(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/dataverse/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plain decodes an event's body entirely, numbers as json.Number.
func plain(t testing.TB, ev *Event) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(ev.Body.(*jsonval.Object).Raw())))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeDataverseCreate(t *testing.T) {
	raw := readDataverse(t, "account_create.json")
	ev, err := DecodeEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Source != "dataverse" || ev.Type != "account.Create" {
		t.Fatalf("source %s type %s", ev.Source, ev.Type)
	}
	if want := "rq:6b2e4d1f-9a3c-4e5b-8d7f-1a2b3c4d5e6f:Create:account:f1a2b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b:40:1"; ev.ID != want {
		t.Errorf("id %s, want %s", ev.ID, want)
	}
	if !ev.Received.Equal(time.UnixMilli(1720000000123).UTC()) {
		t.Errorf("received %v", ev.Received)
	}
	body := plain(t, ev)
	target, _ := body["target"].(map[string]any)
	for k, want := range map[string]any{
		"name":                         "Contoso Retail",
		"accountid":                    "f1a2b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b",
		"creditlimit":                  json.Number("10000.0000"),
		"statecode":                    json.Number("0"),
		"_transactioncurrencyid_value": "a3b7c8d9-2b36-ef11-8409-000d3a5a9c1f",
		"transactioncurrencyid":        "a3b7c8d9-2b36-ef11-8409-000d3a5a9c1f",
		"ownerid_systemuser":           "4026be43-6b69-e111-8f65-78e7d1620f5e",
		"createdon":                    "2024-07-03T09:46:40Z",
		"new_stripecustomerid":         nil,
	} {
		if got, ok := target[k]; !ok || got != want {
			t.Errorf("target.%s = %#v (%v), want %#v", k, got, ok, want)
		}
	}
	if _, ok := body["pre"]; ok {
		t.Error("a context without images has a pre")
	}
	if body["OperationCreatedOn"] != "2024-07-03T09:46:40.123Z" || body["Stage"] != json.Number("40") {
		t.Errorf("envelope %v", body)
	}
	if _, ok := body["InputParameters"]; ok {
		t.Error("the flat form keeps InputParameters")
	}

	// The flat form reads back as the same event (what flowd stores).
	flat, err := FlattenDataverse(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := FlattenDataverse(flat, false)
	if err != nil || string(again) != string(flat) {
		t.Fatalf("flattening twice:\n%s\n%s (%v)", flat, again, err)
	}
	ev2, err := DecodeEvent(flat)
	if err != nil || ev2.ID != ev.ID || ev2.Type != ev.Type || !ev2.Received.Equal(ev.Received) {
		t.Fatalf("flat form: %+v %v", ev2, err)
	}
}

func TestDecodeDataverseImagesAndDelete(t *testing.T) {
	ev, err := DecodeEvent(readDataverse(t, "account_update.json"))
	if err != nil {
		t.Fatal(err)
	}
	body := plain(t, ev)
	pre, _ := body["pre"].(map[string]any)
	post, _ := body["post"].(map[string]any)
	if ev.Type != "account.Update" || pre["telephone1"] != "+1 555 0100" || post["telephone1"] != "+1 555 0199" || post["new_stripecustomerid"] != "cus_QK1x2y3z4a5b6c" {
		t.Fatalf("%s: pre %v post %v", ev.Type, pre, post)
	}

	// Delete's Target is an EntityReference: the row is its key.
	del := `{"MessageName": "Delete", "PrimaryEntityName": "invoice", "PrimaryEntityId": "{AAAAAAAA-0000-4000-8000-000000000001}",
	  "RequestId": "00000000-0000-0000-0000-000000000000", "OperationId": "bbbbbbbb-0000-4000-8000-000000000002", "Stage": 40, "Depth": 1,
	  "InputParameters": [{"key": "Target", "value": {"__type": "EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts",
	    "Id": "aaaaaaaa-0000-4000-8000-000000000001", "KeyAttributes": [], "LogicalName": "invoice", "Name": null, "RowVersion": null}}]}`
	ev, err = DecodeEvent([]byte(del))
	if err != nil {
		t.Fatal(err)
	}
	target, _ := plain(t, ev)["target"].(map[string]any)
	if ev.Type != "invoice.Delete" || target["invoiceid"] != "aaaaaaaa-0000-4000-8000-000000000001" || len(target) != 1 {
		t.Fatalf("%s target %v", ev.Type, target)
	}
	if !strings.HasPrefix(ev.ID, "op:bbbbbbbb-0000-4000-8000-000000000002:Delete:invoice:aaaaaaaa-") {
		t.Errorf("id %s: the empty RequestId falls back to the OperationId", ev.ID)
	}
}

// Deliveries of one request differ in message, row, stage or depth, and
// their ids do too; a redelivery has the same id.
func TestDataverseEventIDs(t *testing.T) {
	base := map[string]any{"MessageName": "Update", "PrimaryEntityName": "account", "PrimaryEntityId": "f1a2b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b",
		"RequestId": "6b2e4d1f-9a3c-4e5b-8d7f-1a2b3c4d5e6f", "CorrelationId": "3e7d7c36-1b2f-4d3a-9a3e-2f8b7b6c2a10", "Stage": 40, "Depth": 1}
	id := func(change map[string]any) string {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range change {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		ev, err := DecodeEvent(b)
		if err != nil {
			return "error: " + err.Error()
		}
		return ev.ID
	}
	seen := map[string]string{}
	for name, change := range map[string]map[string]any{
		"base":         {},
		"another row":  {"PrimaryEntityId": "f1a2b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5c"},
		"another msg":  {"MessageName": "Create"},
		"pre-op stage": {"Stage": 20},
		"a plug-in":    {"Depth": 2},
		"no request":   {"RequestId": nil},
	} {
		got := id(change)
		if other, dup := seen[got]; dup || strings.HasPrefix(got, "error") {
			t.Errorf("%s: id %s (same as %s)", name, got, other)
		}
		seen[got] = name
	}
	if id(map[string]any{"RequestId": "{6B2E4D1F-9A3C-4E5B-8D7F-1A2B3C4D5E6F}"}) != id(nil) {
		t.Error("a GUID's case and braces change the id")
	}
	if got := id(map[string]any{"RequestId": nil, "CorrelationId": nil}); !strings.HasPrefix(got, "error") {
		t.Errorf("no request nor correlation: %s", got)
	}
}

func TestDecodeDataverseRejects(t *testing.T) {
	for _, in := range []string{
		`{"MessageName": "Create"}`, // no PrimaryEntityName: not Dataverse, and no Stripe id/type
		`{"MessageName": "Create", "PrimaryEntityName": "account"}`,
		`{"MessageName": "Create", "PrimaryEntityName": "account", "RequestId": "00000000-0000-0000-0000-000000000000"}`,
	} {
		if ev, err := DecodeEvent([]byte(in)); err == nil {
			t.Errorf("%s: decoded %+v", in, ev)
		}
	}
	for _, in := range []string{"", "[]", "{", `{"MessageName": "Create", "PrimaryEntityName": "account"} {}`, `"x"`} {
		if _, err := FlattenDataverse([]byte(in), false); err == nil {
			t.Errorf("%q flattened", in)
		}
	}
}

func FuzzFlattenDataverse(f *testing.F) {
	f.Add(readDataverse(f, "account_create.json"))
	f.Add(readDataverse(f, "account_update.json"))
	f.Add([]byte(`{"MessageName": "Delete", "PrimaryEntityName": "x", "InputParameters": [{"key": "Target", "value": {"Id": 1, "LogicalName": []}}], "PreEntityImages": [1, {"value": {"Attributes": [{"key": 1}, 2]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		flat, err := FlattenDataverse(data, true) // must not panic
		if err != nil {
			return
		}
		if _, err := jsonval.Parse(flat); err != nil {
			t.Fatalf("the flat form does not parse: %v", err)
		}
		_, _ = DecodeEvent(data)
	})
}
