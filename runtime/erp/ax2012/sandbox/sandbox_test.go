package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/stdlib/ax2012"
)

func post(t *testing.T, url, ctype, action, body string) (int, *aif.Envelope, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/AxPort/xppservice.svc", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if action != "" {
		req.Header.Set("SOAPAction", `"`+action+`"`)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	env, _ := aif.ReadEnvelope(b)
	return resp.StatusCode, env, string(b)
}

func createCustomer(id, account string) string {
	b, _ := aif.Message{Version: aif.SOAP11, Action: aif.Action("CustomerService", "create"),
		Context: &aif.CallContext{Company: "DAT", MessageID: id},
		Body: func(w *aif.Writer) {
			w.Start(ax2012.ServicesNS, "CustomerServiceCreateRequest")
			aif.WriteDocument(w, ax2012.Tables()["CustTable"], []*aif.Entity{{Fields: map[string]string{
				"AccountNum": account, "CustGroup": "30", "Currency": "USD", "Name": "Ada"}}})
			w.End("CustomerServiceCreateRequest")
		}}.Bytes()
	return string(b)
}

func TestMalformedRequests(t *testing.T) {
	srv := httptest.NewServer(New(Config{}).Handler())
	defer srv.Close()
	action := aif.Action("CustomerService", "create")
	status, env, raw := post(t, srv.URL, "text/xml", action, "<s:Envelope")
	if status != http.StatusBadRequest || env == nil || env.Fault == nil || !strings.Contains(env.Fault.Reason, "malformed XML") {
		t.Fatalf("malformed: %d %s", status, raw)
	}
	if status, _, _ := post(t, srv.URL, "application/json", action, "{}"); status != http.StatusUnsupportedMediaType {
		t.Fatalf("json: %d", status)
	}
	status, env, raw = post(t, srv.URL, "text/xml", aif.Action("VendorService", "create"), createCustomer("", "a"))
	if status != 500 || env == nil || env.Fault == nil || !strings.Contains(env.Fault.Reason, "ActionNotSupported") {
		t.Fatalf("unknown service: %d %s", status, raw)
	}
	status, env, raw = post(t, srv.URL, "text/xml", aif.Action("CustomerService", "read"), createCustomer("", "a"))
	if status != 500 || env == nil || env.Fault == nil || !strings.Contains(env.Fault.Reason, "CustomerServiceReadRequest") {
		t.Fatalf("wrong wrapper: %d %s", status, raw)
	}
}

func TestMessageIDIsProcessedOnce(t *testing.T) {
	s := New(Config{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	id := aif.MessageID("k")
	action := aif.Action("CustomerService", "create")
	_, first, raw := post(t, srv.URL, "text/xml", action, createCustomer(id, "c1"))
	if first == nil || first.Fault != nil {
		t.Fatalf("first: %s", raw)
	}
	_, again, raw2 := post(t, srv.URL, "text/xml", action, createCustomer(strings.ToLower(id), "c1"))
	if again == nil || again.Fault != nil || raw2 != raw {
		t.Fatalf("again: %s", raw2)
	}
	_, dup, raw3 := post(t, srv.URL, "text/xml", action, createCustomer(aif.MessageID("other"), "C1"))
	if dup == nil || dup.Fault == nil || !strings.Contains(dup.Fault.Text(), "already exists") {
		t.Fatalf("a second customer c1: %s", raw3)
	}
	recs, _ := s.Records("DAT", "CustTable")
	if len(recs) != 1 || recs[0]["NameAlias"] != "Ada" {
		t.Fatalf("records = %v", recs)
	}
}

// A sandbox opened again on its file serves what the last one answered:
// the records, the number sequences and the answers by MessageId.
func TestOpenKeepsWritesAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ax.db")
	s, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	action := aif.Action("CustomerService", "create")
	id := aif.MessageID("k")
	_, first, raw := post(t, srv.URL, "text/xml", action, createCustomer(id, "c1"))
	if first == nil || first.Fault != nil {
		t.Fatalf("first: %s", raw)
	}
	if _, env, raw := post(t, srv.URL, "text/xml", action, createCustomer(aif.MessageID("numbered"), "")); env == nil || env.Fault != nil {
		t.Fatalf("numbered: %s", raw)
	}
	if err := s.Seed("dat", "CustTable", map[string]string{"AccountNum": "seeded", "CustGroup": "30", "Currency": "USD", "Name": "Bo"}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	s.Close()

	s, err = Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv = httptest.NewServer(s.Handler())
	defer srv.Close()
	recs, _ := s.Records("DAT", "CustTable")
	if len(recs) != 3 || recs[0]["AccountNum"] != "c1" || recs[1]["AccountNum"] != "C-000001" || recs[2]["AccountNum"] != "seeded" {
		t.Fatalf("records after a restart = %v", recs)
	}
	// A retry of the first message gets the first answer, and creates nothing.
	if _, again, raw2 := post(t, srv.URL, "text/xml", action, createCustomer(id, "c1")); again == nil || again.Fault != nil || raw2 != raw {
		t.Fatalf("again after a restart: %s", raw2)
	}
	// The number sequence goes on where it was.
	if _, env, raw := post(t, srv.URL, "text/xml", action, createCustomer(aif.MessageID("numbered 2"), "")); env == nil || env.Fault != nil {
		t.Fatalf("numbered: %s", raw)
	}
	recs, _ = s.Records("dat", "CustTable")
	if len(recs) != 4 || recs[3]["AccountNum"] != "C-000002" || recs[3]["RecId"] == recs[2]["RecId"] {
		t.Fatalf("records = %v", recs)
	}
}

func TestFaultRates(t *testing.T) {
	s := New(Config{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	action := aif.Action("CustomerService", "create")
	s.SetFaultRates(map[FaultKind]float64{Unavailable: 1})
	if status, _, raw := post(t, srv.URL, "text/xml", action, createCustomer(aif.MessageID("a"), "a")); status != http.StatusServiceUnavailable {
		t.Fatalf("at rate 1: %d %s", status, raw)
	}
	s.SetFaultRates(nil)
	if _, env, raw := post(t, srv.URL, "text/xml", action, createCustomer(aif.MessageID("a"), "a")); env == nil || env.Fault != nil {
		t.Fatalf("faults off: %s", raw)
	}
}
