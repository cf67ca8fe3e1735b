package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
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
