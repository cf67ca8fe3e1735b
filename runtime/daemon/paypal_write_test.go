package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/gateway/paypal"
	"github.com/flowhq/flow/runtime/store"
)

// payoutsDouble is PayPal's REST API over loopback TLS as far as payouts
// go: an OAuth2 token, and batches made once per PayPal-Request-Id (a
// repeated request answered with the first batch). lose makes PayPal make
// the next batch but its answer never arrive.
type payoutsDouble struct {
	mu       sync.Mutex
	requests []string                  // the PayPal-Request-Id of every create
	bodies   []map[string]any          // every create's body
	batches  map[string]map[string]any // by PayPal-Request-Id
	lose     int
}

func startPayoutsDouble(t *testing.T) (*payoutsDouble, *paypal.Client) {
	d := &payoutsDouble{batches: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "client-id" || secret != "client-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"access_token":"A21AA-token","token_type":"Bearer","expires_in":32400}`)
	})
	mux.HandleFunc("POST /v1/payments/payouts", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Header.Get("Authorization") != "Bearer A21AA-token" || json.NewDecoder(r.Body).Decode(&body) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		reqID := r.Header.Get("PayPal-Request-Id")
		d.mu.Lock()
		d.requests, d.bodies = append(d.requests, reqID), append(d.bodies, body)
		batch, ok := d.batches[reqID]
		if !ok {
			batch = map[string]any{"batch_header": map[string]any{
				"payout_batch_id": fmt.Sprintf("5UXD2E8A7EB%02d", len(d.batches)+1), "batch_status": "PENDING",
				"sender_batch_header": body["sender_batch_header"]}}
			d.batches[reqID] = batch
		}
		lose := d.lose > 0
		if lose {
			d.lose--
		}
		d.mu.Unlock()
		if lose {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(batch)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	c, err := paypal.NewClient(paypal.ClientConfig{BaseURL: srv.URL, ClientID: "client-id", Secret: "client-secret", Client: srv.Client(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// d365VendorPayment is a VendorPaymentPostedBusinessEvent as F&O posts it.
func d365VendorPayment(eventID string, control int, vendor, voucher string) string {
	return `{"BusinessEventId": "VendorPaymentPostedBusinessEvent", "BusinessEventLegalEntity": "usmf", "ControlNumber": ` + itoa(control) +
		`, "EventId": "` + eventID + `", "EventTime": "/Date(1720000000000)/", "EventTimeIso8601": "2024-07-03T09:46:40.0000000Z", ` +
		`"MajorVersion": 0, "MinorVersion": 0, "ParentContextRecordSubjects": [], "VendorAccount": "` + vendor +
		`", "JournalBatchNumber": "APPAY-000123", "Voucher": "` + voucher + `", "PaymentReference": "INV-88121", "PaymentDate": "/Date(1719964800000)/", ` +
		`"CurrencyCode": "USD", "PaymentAmount": 1250.10, "LegalEntity": "usmf"}`
}

// A vendor payment posted in F&O becomes one PayPal payout through flowd,
// however often F&O delivers the event and even when PayPal's first answer
// is lost: the retry carries the same PayPal-Request-Id, and PayPal answers
// it with the batch it already made.
func TestD365VendorPaymentBecomesOnePayPalPayout(t *testing.T) {
	pp, client := startPayoutsDouble(t)
	pp.lose = 1
	h := start(t, func(s *setup) {
		s.Flows = "../../flows/paypal_d365"
		s.D365WebhookSecret = d365Secret
		s.Lists = map[string]engine.Lister{"paypal": client}
	})
	ev := d365VendorPayment("9c5b94b1-35ad-49bb-b118-8e8fc24abf80", 5637144700, "US-101", "VPAY-000456")
	again := d365VendorPayment("9c5b94b1-35ad-49bb-b118-8e8fc24abf81", 5637144701, "US-101", "VPAY-000456") // raised again
	other := d365VendorPayment("9c5b94b1-35ad-49bb-b118-8e8fc24abf82", 5637144702, "US-102", "VPAY-000457") // not a PayPal vendor
	for _, body := range []string{ev, ev, other} {
		if code, resp := h.postD365(body, "Bearer "+d365Secret, ""); code != http.StatusOK {
			t.Fatalf("HTTP %d %s", code, resp)
		}
	}
	if c := h.settle(20 * time.Second); c[store.Done]+c[store.Skipped] != 2 || c[store.Dead] != 0 {
		evs, _ := h.st.Events(context.Background(), store.Filter{})
		t.Fatalf("statuses %v: %+v", c, evs)
	}
	if code, resp := h.postD365(again, "Bearer "+d365Secret, ""); code != http.StatusOK {
		t.Fatalf("HTTP %d %s", code, resp)
	}
	if c := h.settle(20 * time.Second); c[store.Dead] != 0 {
		t.Fatalf("statuses %v", c)
	}

	pp.mu.Lock()
	defer pp.mu.Unlock()
	if len(pp.batches) != 1 {
		t.Fatalf("%d payout batches at PayPal, want 1", len(pp.batches))
	}
	if len(pp.requests) != 2 { // the lost one, and its settling repeat
		t.Errorf("%d payout requests, want 2", len(pp.requests))
	}
	want := paypal.RequestID(paypal.PayoutEntity, "erp-vendpay:usmf:VPAY-000456")
	for i, id := range pp.requests {
		if id != want {
			t.Errorf("request %d: PayPal-Request-Id %q, want %q", i, id, want)
		}
	}
	sent, _ := json.Marshal(pp.bodies[0]["items"])
	if s := string(sent); !strings.Contains(s, `"amount":{"currency":"USD","value":"1250.10"}`) ||
		!strings.Contains(s, `"receiver":"ap@fabrikam.example"`) || !strings.Contains(s, `"sender_item_id":"VPAY-000456"`) {
		t.Errorf("payout item sent: %s", s)
	}
	rec, ok, err := h.st.Get(context.Background(), "erp-vendpay:usmf:VPAY-000456")
	if err != nil || !ok {
		t.Fatalf("the idempotency ledger has no payout: %v %v", ok, err)
	}
	if hdr, _ := rec["batch_header"].(map[string]any); hdr["payout_batch_id"] != "5UXD2E8A7EB01" {
		t.Errorf("ledger record %v", rec)
	}
}
