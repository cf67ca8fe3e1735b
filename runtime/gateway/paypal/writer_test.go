package paypal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
)

// writeDouble is restDouble with PayPal's idempotent creates: refunds
// (restDouble's, by PayPal-Request-Id) and payout batches, answered again
// for a request id PayPal has seen and refused, with a link to the
// original, for a sender_batch_id it has seen. drop makes the next creates
// happen with their answer lost (the connection closes), forget makes
// PayPal forget the request ids it holds.
type writeDouble struct {
	*restDouble

	batches    map[string]map[string]any // by payout_batch_id
	byRequest  map[string]string         // PayPal-Request-Id -> payout_batch_id
	bySender   map[string]string         // sender_batch_id -> payout_batch_id
	requestIDs []string                  // every create's PayPal-Request-Id
	drop       int
	retryAfter string // sent with the next failure
}

func newWriteDouble(t *testing.T) (*writeDouble, *Client) {
	t.Helper()
	d := &writeDouble{
		restDouble: &restDouble{t: t, tokens: map[string]bool{}, expireIn: 32400, refunds: map[string]map[string]any{}},
		batches:    map[string]map[string]any{}, byRequest: map[string]string{}, bySender: map[string]string{},
	}
	d.capture = resourceOf(t, "testdata/simulator_signed/HOOK_PAYMENT_CAPTURE_COMPLETED_V2__PAYMENT.CAPTURE.COMPLETED.body.json")
	d.refund = resourceOf(t, "testdata/simulator_signed/HOOK_PAYMENT_CAPTURE_REFUNDED_V2__PAYMENT.CAPTURE.REFUNDED.body.json")
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+tokenPath, d.token)
	mux.HandleFunc("POST "+capturesPath+"{id}/refund", d.guard(d.create(d.postRefund)))
	mux.HandleFunc("POST "+payoutsPath, d.guard(d.create(d.postBatch)))
	mux.HandleFunc("GET "+payoutsPath+"/{id}", d.guard(d.getBatch))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	c, err := NewClient(ClientConfig{BaseURL: srv.URL, ClientID: "client-id", Secret: "client-secret", Client: srv.Client(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// guard is restDouble.api, with a Retry-After on the failure it answers.
func (d *writeDouble) guard(serve http.HandlerFunc) http.HandlerFunc {
	api := d.api(serve)
	return func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		if r.Method == http.MethodPost {
			d.requestIDs = append(d.requestIDs, r.Header.Get("PayPal-Request-Id"))
		}
		if d.fail != 0 && d.retryAfter != "" {
			w.Header().Set("Retry-After", d.retryAfter)
			d.retryAfter = ""
		}
		d.mu.Unlock()
		api(w, r)
	}
}

// create loses the answer when told to.
func (d *writeDouble) create(serve http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		drop := d.drop > 0
		if drop {
			d.drop--
		}
		d.mu.Unlock()
		if !drop {
			serve(w, r)
			return
		}
		serve(httptest.NewRecorder(), r) // done, but nobody hears of it
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			d.t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}
}

func (d *writeDouble) postBatch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Header map[string]any `json:"sender_batch_header"`
		Items  []struct {
			Amount map[string]string `json:"amount"`
		} `json:"items"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Items) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"name": "INVALID_REQUEST"})
		return
	}
	if a := body.Items[0].Amount; a["currency"] == "" || a["value"] == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"name": "VALIDATION_ERROR", "message": "Invalid request - see details",
			"details": []map[string]string{{"field": "items[0].amount.currency", "location": "body", "issue": "Required field is missing."}}})
		return
	}
	reqID := r.Header.Get("PayPal-Request-Id")
	sender, _ := body.Header["sender_batch_id"].(string)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.payouts = append(d.payouts, map[string]any{"sender_batch_header": body.Header, "amount": body.Items[0].Amount})
	if id, ok := d.byRequest[reqID]; ok && reqID != "" {
		writeJSON(w, http.StatusCreated, d.batches[id])
		return
	}
	if id, ok := d.bySender[sender]; ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"name": "USER_BUSINESS_ERROR", "message": "User business error.", "debug_id": "a1b2c3",
			"details": []map[string]string{{"field": "SENDER_BATCH_ID", "location": "body", "issue": "Batch with given sender_batch_id already exists"}},
			"links":   []map[string]string{{"href": "https://api-m.sandbox.paypal.com" + payoutsPath + "/" + id, "rel": "self", "method": "GET"}}})
		return
	}
	id := fmt.Sprintf("5UXD2E8A7EB%02d", len(d.batches)+1)
	batch := map[string]any{"batch_header": map[string]any{"payout_batch_id": id, "batch_status": "PENDING", "sender_batch_header": body.Header},
		"links": []map[string]string{{"href": "https://api-m.sandbox.paypal.com" + payoutsPath + "/" + id, "rel": "self", "method": "GET"}}}
	d.batches[id], d.bySender[sender], d.byRequest[reqID] = batch, id, id
	writeJSON(w, http.StatusCreated, batch)
}

func (d *writeDouble) getBatch(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.batches[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"name": "RESOURCE_NOT_FOUND"})
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (d *writeDouble) forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byRequest = map[string]string{}
	d.refunds = map[string]map[string]any{}
}

func refundWrite(key string) erp.Write {
	return erp.Write{Op: erp.Create, Entity: RefundEntity, Key: key, Fields: erp.Record{
		"capture_id": "12A34567BC123456S", "amount": decimal.RequireFromString("12.5"), "currency": "usd",
		"invoice_id": "CCN-000042", "note_to_payer": "Credit note CCN-000042",
	}}
}

func payoutWrite(key string) erp.Write {
	return erp.Write{Op: erp.Create, Entity: PayoutEntity, Key: key, Fields: erp.Record{
		"receiver": "ap@fabrikam.example", "amount": decimal.RequireFromString("1250"), "currency": "USD",
		"note": "Payment VPAY-0001", "sender_item_id": "VPAY-0001",
	}}
}

func kindOf(t *testing.T, err error) (erp.Kind, *erp.Error) {
	t.Helper()
	var e *erp.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v (%T) is not an *erp.Error", err, err)
	}
	return e.Kind, e
}

// Every attempt of one write, retried after a failure or repeated, carries
// the same PayPal-Request-Id, and PayPal makes one refund of it.
func TestWriterRequestIDIsStable(t *testing.T) {
	d, c := newWriteDouble(t)
	ctx := context.Background()
	w := refundWrite("erp-credit:usmf:CCN-000042")
	d.fail = http.StatusServiceUnavailable
	if _, err := c.Write(ctx, w); err == nil {
		t.Fatal("a 503 succeeded")
	} else if k, _ := kindOf(t, err); k != erp.Transient {
		t.Errorf("a 503 is %v, want transient", k)
	}
	first, err := c.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	want := RequestID(RefundEntity, "erp-credit:usmf:CCN-000042")
	if len(d.requestIDs) != 3 {
		t.Errorf("%d creates reached PayPal, want 3", len(d.requestIDs))
	}
	for i, id := range d.requestIDs {
		if id != want {
			t.Errorf("create %d: PayPal-Request-Id %q, want %q", i, id, want)
		}
	}
	if got := d.headers.Get("PayPal-Request-Id"); got != want {
		t.Errorf("last request's PayPal-Request-Id %q", got)
	}
	if first["id"] != again["id"] || len(d.refunds) != 1 {
		t.Errorf("a repeated refund made another: %v, %v (%d refunds)", first["id"], again["id"], len(d.refunds))
	}
	if got := string(d.bodies["amount"]); got != `{"currency_code":"USD","value":"12.50"}` {
		t.Errorf("amount sent %s", got)
	}
	if got := string(d.bodies["invoice_id"]); got != `"CCN-000042"` {
		t.Errorf("invoice_id sent %s", got)
	}
	if RequestID(RefundEntity, "k") == RequestID(PayoutEntity, "k") || len(want) > 108 {
		t.Errorf("request ids %q: one per entity, short enough for PayPal", want)
	}
	// A refund of what is left sends no amount.
	if _, err := c.Write(ctx, erp.Write{Op: erp.Create, Entity: RefundEntity, Key: "all", Fields: erp.Record{"capture_id": "12A34567BC123456S"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.bodies["amount"]; ok {
		t.Errorf("a full refund sent %v", d.bodies)
	}
}

// A create whose answer is lost is in doubt; Find settles it with the
// object that create made, and PayPal holds one.
func TestWriterFindAfterLostAnswer(t *testing.T) {
	d, c := newWriteDouble(t)
	ctx := context.Background()
	for _, w := range []erp.Write{refundWrite("erp-credit:usmf:CCN-7"), payoutWrite("erp-vendpay:usmf:VPAY-0001")} {
		d.drop = 1
		_, err := c.Write(ctx, w)
		if err == nil {
			t.Fatalf("%s: a lost answer succeeded", w.Entity)
		}
		if k, _ := kindOf(t, err); k != erp.InDoubt {
			t.Fatalf("%s: a lost answer is %v (%v), want in doubt", w.Entity, k, err)
		}
		found, ok, err := c.Find(ctx, w)
		if err != nil || !ok {
			t.Fatalf("%s: find: %v %v", w.Entity, ok, err)
		}
		switch w.Entity {
		case RefundEntity:
			if len(d.refunds) != 1 || found["id"] != d.refunds[RequestID(w.Entity, w.Key)]["id"] {
				t.Errorf("found refund %v; PayPal holds %v", found["id"], d.refunds)
			}
		case PayoutEntity:
			hdr := found["batch_header"].(map[string]any)
			if len(d.batches) != 1 || d.batches[hdr["payout_batch_id"].(string)] == nil {
				t.Errorf("found batch %v; PayPal holds %v", hdr, d.batches)
			}
			if sent := hdr["sender_batch_header"].(map[string]any); sent["sender_batch_id"] != RequestID(w.Entity, w.Key) {
				t.Errorf("sender_batch_id %v", sent["sender_batch_id"])
			}
		}
	}
	// Find while PayPal is still away does not settle, and is transient.
	d.fail = http.StatusBadGateway
	if _, ok, err := c.Find(ctx, refundWrite("erp-credit:usmf:CCN-7")); ok || err == nil {
		t.Errorf("find during an outage: %v %v", ok, err)
	} else if k, _ := kindOf(t, err); k != erp.Transient {
		t.Errorf("find during an outage is %v", k)
	}
}

// Payouts go out as PayPal's Payouts API takes them, once per key: PayPal
// refuses a sender_batch_id it has seen (after it forgot the request id)
// with a link to the batch, which the writer returns.
func TestWriterPayout(t *testing.T) {
	d, c := newWriteDouble(t)
	ctx := context.Background()
	w := payoutWrite("erp-vendpay:usmf:VPAY-0001")
	w.Fields["email_subject"] = "Payment from Contoso"
	first, err := c.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := json.Marshal(d.payouts[0])
	id := RequestID(PayoutEntity, w.Key)
	want := `{"amount":{"currency":"USD","value":"1250.00"},"sender_batch_header":{"email_subject":"Payment from Contoso","sender_batch_id":"` + id + `"}}`
	if string(sent) != want {
		t.Errorf("payout sent\n%s\nwant\n%s", sent, want)
	}
	d.forget()
	again, err := c.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := first["batch_header"].(map[string]any), again["batch_header"].(map[string]any)
	if len(d.batches) != 1 || h1["payout_batch_id"] != h2["payout_batch_id"] {
		t.Errorf("a repeated payout made another: %v, %v", h1, h2)
	}
	// Another key's batch named as the duplicate is not taken for this one.
	d.bySender[RequestID(PayoutEntity, "other")] = h1["payout_batch_id"].(string)
	if _, err := c.Write(ctx, payoutWrite("other")); err == nil {
		t.Error("another key's batch was taken")
	} else if k, _ := kindOf(t, err); k != erp.Permanent {
		t.Errorf("another key's batch: %v", k)
	}
}

func TestWriterErrorClasses(t *testing.T) {
	d, c := newWriteDouble(t)
	ctx := context.Background()
	w := refundWrite("erp-credit:usmf:CCN-9")
	for _, tc := range []struct {
		status int
		kind   erp.Kind
	}{
		{http.StatusBadRequest, erp.Permanent},
		{http.StatusForbidden, erp.Permanent},
		{http.StatusNotFound, erp.Permanent},
		{http.StatusUnprocessableEntity, erp.Permanent},
		{http.StatusConflict, erp.Transient}, // the same request id still in progress
		{http.StatusTooManyRequests, erp.Transient},
		{http.StatusInternalServerError, erp.Transient},
		{http.StatusServiceUnavailable, erp.Transient},
	} {
		d.fail = tc.status
		if tc.status == http.StatusTooManyRequests {
			d.retryAfter = "7"
		}
		_, err := c.Write(ctx, w)
		if err == nil {
			t.Fatalf("HTTP %d succeeded", tc.status)
		}
		k, e := kindOf(t, err)
		if k != tc.kind || e.Status != tc.status {
			t.Errorf("HTTP %d: %v, status %d; want %v", tc.status, k, e.Status, tc.kind)
		}
		if tc.status == http.StatusTooManyRequests && e.RetryAfter != 7*time.Second {
			t.Errorf("HTTP 429: RetryAfter %v", e.RetryAfter)
		}
	}
	// PayPal's own 404 of a capture: permanent, with its error name.
	bad := refundWrite("k")
	bad.Fields["capture_id"] = "NOPE"
	_, err := c.Write(ctx, bad)
	if k, e := kindOf(t, err); k != erp.Permanent || e.Code != "RESOURCE_NOT_FOUND" {
		t.Errorf("unknown capture: %v %v", k, err)
	}
	// Refused credentials are permanent; nothing was sent.
	wrong, err := NewClient(ClientConfig{BaseURL: c.base, ClientID: "client-id", Secret: "wrong", Client: c.client})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Write(ctx, w); err == nil {
		t.Error("refused credentials succeeded")
	} else if k, _ := kindOf(t, err); k != erp.Permanent {
		t.Errorf("refused credentials: %v", k)
	}
	// PayPal unreachable: the request never left, so it is transient.
	gone, _ := NewClient(ClientConfig{BaseURL: "https://127.0.0.1:1", ClientID: "a", Secret: "b", Timeout: time.Second})
	if _, err := gone.Write(ctx, w); err == nil {
		t.Error("unreachable succeeded")
	} else if k, _ := kindOf(t, err); k != erp.Transient {
		t.Errorf("unreachable: %v (%v)", k, err)
	}
	if _, ok, err := gone.Find(ctx, w); ok || err == nil {
		t.Errorf("find, unreachable: %v %v", ok, err)
	} else if k, _ := kindOf(t, err); k != erp.Transient {
		t.Errorf("find, unreachable: %v", k)
	}
}

// What a flow cannot ask of PayPal fails permanently before any request.
func TestWriterRefusesBeforeSending(t *testing.T) {
	d, c := newWriteDouble(t)
	dec := decimal.RequireFromString
	rf := func(f erp.Record) erp.Write {
		return erp.Write{Op: erp.Create, Entity: RefundEntity, Key: "k", Fields: f}
	}
	po := func(f erp.Record) erp.Write {
		base := erp.Record{"receiver": "a@b.example", "amount": dec("10"), "currency": "USD"}
		for k, v := range f {
			base[k] = v
		}
		return erp.Write{Op: erp.Create, Entity: PayoutEntity, Key: "k", Fields: base}
	}
	for _, w := range []erp.Write{
		{Op: erp.Upsert, Entity: RefundEntity, Key: "k", Fields: erp.Record{"capture_id": "X"}},
		{Op: erp.Create, Entity: RefundEntity, Key: "", Fields: erp.Record{"capture_id": "X"}},
		{Op: erp.Create, Entity: "Order", Key: "k"},
		rf(erp.Record{}),
		rf(erp.Record{"capture_id": "X", "captureid": "Y"}),
		rf(erp.Record{"capture_id": "X", "amount": 12.5, "currency": "USD"}),
		rf(erp.Record{"capture_id": "X", "amount": dec("12.345"), "currency": "USD"}),
		rf(erp.Record{"capture_id": "X", "amount": dec("100.5"), "currency": "JPY"}),
		rf(erp.Record{"capture_id": "X", "amount": dec("-1"), "currency": "USD"}),
		rf(erp.Record{"capture_id": "X", "amount": dec("0"), "currency": "USD"}),
		rf(erp.Record{"capture_id": "X", "amount": dec("1")}),
		rf(erp.Record{"capture_id": "X", "amount": dec("1"), "currency": "US$"}),
		rf(erp.Record{"capture_id": "X", "currency": "USD"}),
		rf(erp.Record{"capture_id": "X", "note_to_payer": strings.Repeat("x", 256)}),
		rf(erp.Record{"capture_id": int64(7)}),
		po(erp.Record{"receiver": ""}),
		po(erp.Record{"amount": nil}),
		po(erp.Record{"currency": nil}),
		po(erp.Record{"recipient_type": "IBAN"}),
		po(erp.Record{"sender_item_id": strings.Repeat("x", 64)}),
		po(erp.Record{"sender_batch_id": "mine"}),
	} {
		_, err := c.Write(context.Background(), w)
		if err == nil {
			t.Errorf("%+v went out", w)
			continue
		}
		if k, _ := kindOf(t, err); k != erp.Permanent {
			t.Errorf("%+v: %v, want permanent", w, err)
		}
		if _, ok, err := c.Find(context.Background(), w); ok || err == nil {
			t.Errorf("find %+v: %v %v", w, ok, err)
		}
	}
	if len(d.requestIDs) != 0 || d.issued != 0 {
		t.Errorf("%d creates sent, %d tokens fetched", len(d.requestIDs), d.issued)
	}
	if _, _, err := c.Lookup(context.Background(), RefundEntity, nil); err == nil {
		t.Error("a lookup went out")
	}
	if _, _, err := c.PostJournal(context.Background(), erp.Journal{}); err == nil {
		t.Error("a journal went out")
	}
}

// Amounts go out with their currency's places, exactly.
func TestWriterMoney(t *testing.T) {
	for _, tc := range []struct{ amount, currency, want string }{
		{"12.5", "usd", "USD 12.50"},
		{"12.50", "EUR", "EUR 12.50"},
		{"1250", "USD", "USD 1250.00"},
		{"1250", "JPY", "JPY 1250"},
		{"1250.00", "huf", "HUF 1250"},
		{"0.01", "GBP", "GBP 0.01"},
	} {
		m, err := money(decimal.RequireFromString(tc.amount), tc.currency)
		if err != nil || m.Currency+" "+m.Value != tc.want {
			t.Errorf("money(%s, %s) = %v, %v; want %s", tc.amount, tc.currency, m, err, tc.want)
		}
	}
	if _, err := money(decimal.RequireFromString("1e40"), "USD"); err == nil {
		t.Error("an amount of 41 digits went out")
	}
}
