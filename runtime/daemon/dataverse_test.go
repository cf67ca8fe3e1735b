package daemon

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/gateway/stripe"
	"github.com/flowhq/flow/runtime/internal/stripemock"
	"github.com/flowhq/flow/runtime/store"
)

const dataverseKey = "dv-webhook-k3y"

// dataverseCreate is the fixture Create of account (see
// runtime/engine/testdata/dataverse/SOURCES.md) with its row id and
// request id replaced.
func dataverseCreate(t testing.TB, accountID, requestID string) string {
	t.Helper()
	b, err := os.ReadFile("../engine/testdata/dataverse/account_create.json")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "f1a2b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b", accountID)
	return strings.ReplaceAll(s, "6b2e4d1f-9a3c-4e5b-8d7f-1a2b3c4d5e6f", requestID)
}

// postDataverse delivers body to /webhooks/dataverse with the given
// headers and query appended to the URL.
func (h *harness) postDataverse(body, query string, header map[string]string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+"/webhooks/dataverse"+query, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) sourceEvents(source string) []*store.Event {
	h.t.Helper()
	evs, err := h.st.Events(context.Background(), store.Filter{Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*store.Event
	for _, e := range evs {
		if e.Source == source {
			out = append(out, e)
		}
	}
	return out
}

func dataverseERP(t testing.TB) erpCase {
	for _, c := range erps {
		if c.name == "dataverse" {
			return c
		}
	}
	t.Skip("no dataverse row in the ERP table")
	return erpCase{}
}

// Dataverse deliveries are authenticated by the key (code parameter,
// x-api-key header or bearer token), stored once per request, message,
// row, stage and depth, and acknowledged; a wrong key or a malformed
// context stores nothing.
func TestDataverseWebhookAuthDedupeAndMalformed(t *testing.T) {
	h := start(t, onERP(dataverseERP(t)), func(s *setup) { s.DataverseWebhookKey = dataverseKey })
	ev1 := dataverseCreate(t, "f1a2b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b", "6b2e4d1f-9a3c-4e5b-8d7f-1a2b3c4d5e6f")
	code := "?code=" + dataverseKey
	for _, c := range []struct {
		name, body, query string
		header            map[string]string
		status            int
		want              string
	}{
		{"no key", ev1, "", nil, http.StatusUnauthorized, "unauthorized"},
		{"wrong code", ev1, "?code=nope", nil, http.StatusUnauthorized, "unauthorized"},
		{"wrong header", ev1, "", map[string]string{"x-api-key": "nope"}, http.StatusUnauthorized, "unauthorized"},
		{"empty code", ev1, "?code=", map[string]string{"x-api-key": ""}, http.StatusUnauthorized, "unauthorized"},
		{"not JSON", "{", code, nil, http.StatusBadRequest, "malformed"},
		{"an array", "[" + ev1 + "]", code, nil, http.StatusBadRequest, "malformed"},
		{"no MessageName", `{"PrimaryEntityName": "account", "RequestId": "6b2e4d1f-9a3c-4e5b-8d7f-1a2b3c4d5e6f"}`, code, nil, http.StatusBadRequest, "MessageName"},
		{"no request id", `{"MessageName": "Create", "PrimaryEntityName": "account"}`, code, nil, http.StatusBadRequest, "RequestId"},
		{"not JSON content", ev1, code, map[string]string{"Content-Type": "text/plain"}, http.StatusBadRequest, "content_type"},
	} {
		status, body := h.postDataverse(c.body, c.query, c.header)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: HTTP %d %s, want %d with %q", c.name, status, body, c.status, c.want)
		}
	}
	if evs := h.sourceEvents("dataverse"); len(evs) != 0 {
		t.Fatalf("rejected deliveries stored %d events", len(evs))
	}

	status, body := h.postDataverse(ev1, code, nil)
	if status != http.StatusOK || !strings.Contains(body, `"accepted": 1`) {
		t.Fatalf("first delivery: HTTP %d %s", status, body)
	}
	// Dataverse retries the system job with the same context: a duplicate,
	// whichever way the key comes.
	for _, header := range []map[string]string{{"x-api-key": dataverseKey}, {"Authorization": "Bearer " + dataverseKey}} {
		status, body = h.postDataverse(ev1, "", header)
		if status != http.StatusOK || !strings.Contains(body, `"duplicates": 1`) {
			t.Fatalf("redelivery with %v: HTTP %d %s", header, status, body)
		}
	}
	// Another request on the same row is another event.
	status, body = h.postDataverse(dataverseCreate(t, "f1a2b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b", "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"), code, nil)
	if status != http.StatusOK || !strings.Contains(body, `"accepted": 1`) {
		t.Fatalf("second request: HTTP %d %s", status, body)
	}
	evs := h.sourceEvents("dataverse")
	if len(evs) != 2 {
		t.Fatalf("stored %d events, want 2", len(evs))
	}
	for _, e := range evs {
		if e.Type != "account.Create" || !strings.HasPrefix(e.GatewayID(), "rq:") {
			t.Errorf("stored %s %s", e.Type, e.GatewayID())
		}
	}
}

// Without a configured key the route refuses everything.
func TestDataverseWebhookNotConfigured(t *testing.T) {
	h := start(t, onERP(dataverseERP(t)))
	status, body := h.postDataverse(dataverseCreate(t, "f1a2b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b", "6b2e4d1f-9a3c-4e5b-8d7f-1a2b3c4d5e6f"), "?code=", nil)
	if status != http.StatusNotFound || !strings.Contains(body, "not_configured") {
		t.Fatalf("HTTP %d %s", status, body)
	}
}

// An account created in Dataverse becomes a Stripe customer through
// stripe-mock, created once however often Dataverse delivers the event,
// and the account gets the customer's id back (account_to_stripe.flow).
func TestDataverseAccountBecomesAStripeCustomer(t *testing.T) {
	api := stripemock.Start(t)
	h := start(t, onERP(dataverseERP(t)), func(s *setup) {
		s.DataverseWebhookKey = dataverseKey
		s.Lists = map[string]engine.Lister{"stripe": stripe.NewClient("sk_test_123", api, nil)}
	})
	ctx := context.Background()
	rec, err := h.d.cfg.ERP.Write(ctx, erp.Write{Op: erp.Create, Entity: "accounts", Fields: erp.Record{
		"name": "Contoso Retail", "emailaddress1": "ap@contoso.example", "accountnumber": "ACC-1042"}})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := rec["accountid"].(string)
	if id == "" {
		t.Fatalf("the sandbox gave the account no id: %v", rec)
	}
	ev := dataverseCreate(t, id, "6b2e4d1f-9a3c-4e5b-8d7f-1a2b3c4d5e6f")
	for range 2 {
		if status, body := h.postDataverse(ev, "?code="+dataverseKey, nil); status != http.StatusOK {
			t.Fatalf("HTTP %d %s", status, body)
		}
	}
	if c := h.settle(20 * time.Second); c[store.Done] != 1 || c[store.Dead] != 0 {
		evs, _ := h.st.Events(ctx, store.Filter{})
		t.Fatalf("statuses %v: %+v", c, evs)
	}
	cus, ok, err := h.st.Get(ctx, "crm-account:"+id)
	if err != nil || !ok {
		t.Fatalf("the idempotency ledger has no Stripe customer: %v %v", ok, err)
	}
	cusID, _ := cus["id"].(string)
	if cus["object"] != "customer" || !strings.HasPrefix(cusID, "cus_") {
		t.Fatalf("ledger record %v", cus)
	}
	accounts, err := h.sb.Records("accounts")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range accounts {
		if strings.EqualFold(a["accountid"].(string), id) {
			found = true
			if a["new_stripecustomerid"] != cusID {
				t.Errorf("the account's new_stripecustomerid is %v, want %s", a["new_stripecustomerid"], cusID)
			}
		}
	}
	if !found || len(accounts) != 1 {
		t.Fatalf("accounts %v", accounts)
	}
}
