package daemon

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/gateway/stripe"
	"github.com/flowhq/flow/runtime/internal/stripemock"
	"github.com/flowhq/flow/runtime/store"
)

const d365Secret = "d365-shared-s3cret"

// d365Customer is a CustomerCreatedBusinessEvent as F&O posts it.
func d365Customer(eventID string, control int, account string) string {
	return `{"BusinessEventId": "CustomerCreatedBusinessEvent", "BusinessEventLegalEntity": "usmf", "ControlNumber": ` +
		itoa(control) + `, "EventId": "` + eventID + `", "EventTime": "/Date(1720000000000)/", "EventTimeIso8601": "2024-07-03T09:46:40.0000000Z", ` +
		`"MajorVersion": 0, "MinorVersion": 0, "ParentContextRecordSubjects": [], "CustomerAccount": "` + account +
		`", "OrganizationName": "Contoso", "PrimaryContactEmail": "ap@contoso.example", "CustomerGroupId": "30", "LegalEntity": "usmf"}`
}

func itoa(n int) string {
	var b []byte
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// postD365 delivers body to /webhooks/d365fo with auth as the Authorization
// header ("" for none) and query appended to the URL.
func (h *harness) postD365(body, auth, query string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+"/webhooks/d365fo"+query, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) d365Events() []*store.Event {
	h.t.Helper()
	evs, err := h.st.Events(context.Background(), store.Filter{Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*store.Event
	for _, e := range evs {
		if e.Source == "d365fo" {
			out = append(out, e)
		}
	}
	return out
}

// Business events are authenticated, stored once per EventId (or
// ControlNumber) and acknowledged; a wrong secret or a malformed delivery
// stores nothing.
func TestD365WebhookAuthDedupeAndMalformed(t *testing.T) {
	h := start(t, func(s *setup) { s.D365WebhookSecret = d365Secret })
	bearer := "Bearer " + d365Secret
	ev1 := d365Customer("{0F8FAD5B-D9CB-469F-A165-70867728950E}", 5637144576, "US-001")

	for _, c := range []struct {
		name, body, auth, query string
		code                    int
		want                    string
	}{
		{"no secret", ev1, "", "", http.StatusUnauthorized, "unauthorized"},
		{"wrong secret", ev1, "Bearer nope", "", http.StatusUnauthorized, "unauthorized"},
		{"wrong code", ev1, "", "?code=nope", http.StatusUnauthorized, "unauthorized"},
		{"not JSON", "{", bearer, "", http.StatusBadRequest, "malformed"},
		{"a string", `"x"`, bearer, "", http.StatusBadRequest, "malformed"},
		{"no BusinessEventId", `{"EventId": "a", "ControlNumber": 1}`, bearer, "", http.StatusBadRequest, "malformed"},
		{"no id", `{"BusinessEventId": "CustomerCreatedBusinessEvent"}`, bearer, "", http.StatusBadRequest, "EventId"},
		{"empty array", `[]`, bearer, "", http.StatusBadRequest, "malformed"},
		{"one bad in an array", "[" + ev1 + `, {"BusinessEventId": "X"}]`, bearer, "", http.StatusBadRequest, "event 1"},
	} {
		code, body := h.postD365(c.body, c.auth, c.query)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: HTTP %d %s, want %d with %q", c.name, code, body, c.code, c.want)
		}
	}
	if evs := h.d365Events(); len(evs) != 0 {
		t.Fatalf("rejected deliveries stored %d events", len(evs))
	}

	code, body := h.postD365(ev1, bearer, "")
	if code != http.StatusOK || !strings.Contains(body, `"accepted": 1`) {
		t.Fatalf("first delivery: HTTP %d %s", code, body)
	}
	// F&O retries with the same EventId (here lower-case, without braces):
	// a duplicate; an array may carry it again beside a new event, and the
	// code parameter authenticates as well as the bearer token.
	code, body = h.postD365(d365Customer("0f8fad5b-d9cb-469f-a165-70867728950e", 5637144576, "US-001"), bearer, "")
	if code != http.StatusOK || !strings.Contains(body, `"duplicates": 1`) {
		t.Fatalf("redelivery: HTTP %d %s", code, body)
	}
	batch := "[" + ev1 + ", " + d365Customer("", 5637144590, "US-002") + "]"
	code, body = h.postD365(batch, "", "?code="+d365Secret)
	if code != http.StatusOK || !strings.Contains(body, `"accepted": 1`) || !strings.Contains(body, `"duplicates": 1`) {
		t.Fatalf("batch: HTTP %d %s", code, body)
	}
	// The endpoint test F&O sends is acknowledged, not stored.
	code, body = h.postD365(`{"BusinessEventId": "BusinessEventsTestEndpointContract", "ControlNumber": 1, "EventId": "t"}`, bearer, "")
	if code != http.StatusOK || !strings.Contains(body, `"tests": 1`) {
		t.Fatalf("test event: HTTP %d %s", code, body)
	}
	ids := map[string]string{}
	for _, e := range h.d365Events() {
		ids[e.GatewayID()] = e.Type
	}
	if len(ids) != 2 || ids["0f8fad5b-d9cb-469f-a165-70867728950e"] != "CustomerCreatedBusinessEvent" || ids["cn:5637144590"] == "" {
		t.Fatalf("stored %v", ids)
	}
}

// Without a configured secret the route refuses everything.
func TestD365WebhookNotConfigured(t *testing.T) {
	h := start(t)
	code, body := h.postD365(d365Customer("a", 1, "US-001"), "Bearer ", "")
	if code != http.StatusNotFound || !strings.Contains(body, "not_configured") {
		t.Fatalf("HTTP %d %s", code, body)
	}
}

// A customer created in F&O becomes a Stripe customer through stripe-mock,
// created once under the flow's idempotency key however often F&O
// delivers the event.
func TestD365CustomerBecomesAStripeCustomer(t *testing.T) {
	api := stripemock.Start(t)
	h := start(t, func(s *setup) {
		s.D365WebhookSecret = d365Secret
		s.Lists = map[string]engine.Lister{"stripe": stripe.NewClient("sk_test_123", api, nil)}
	})
	ev := d365Customer("7c9e6679-7425-40de-944b-e07fc1f90ae7", 5637144600, "US-027")
	for range 2 {
		if code, body := h.postD365(ev, "Bearer "+d365Secret, ""); code != http.StatusOK {
			t.Fatalf("HTTP %d %s", code, body)
		}
	}
	if c := h.settle(20 * time.Second); c[store.Done] != 1 || c[store.Dead] != 0 {
		evs, _ := h.st.Events(context.Background(), store.Filter{})
		t.Fatalf("statuses %v: %+v", c, evs)
	}
	rec, ok, err := h.st.Get(context.Background(), "erp-cust:usmf:US-027")
	if err != nil || !ok {
		t.Fatalf("the idempotency ledger has no Stripe customer: %v %v", ok, err)
	}
	if rec["object"] != "customer" || !strings.HasPrefix(rec["id"].(string), "cus_") {
		t.Fatalf("ledger record %v", rec)
	}
}
