package paypal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// restDouble answers like PayPal's REST API over loopback TLS: OAuth2
// client credentials, captures, refunds (idempotent by PayPal-Request-Id),
// Transaction Search (pages cut from the recorded responses' items) and
// payouts. Its answers have the recorded shapes (testdata/reporting, the
// simulator deliveries' resources).
type restDouble struct {
	t *testing.T

	mu       sync.Mutex
	tokens   map[string]bool
	issued   int
	expireIn int
	// revoke makes the next API call answer 401 (an expired token).
	revoke bool
	// fail, when not 0, is the status the next API call answers.
	fail     int
	capture  map[string]any             // the simulator's capture resource
	refund   map[string]any             // the simulator's refund resource
	refunds  map[string]map[string]any  // by PayPal-Request-Id
	items    []map[string]any           // Transaction Search items, by time
	pageTop  map[string]any             // the recorded page, without its items
	searches []url.Values               // every Transaction Search query
	payouts  []map[string]any           // payout requests
	headers  http.Header                // the last API request's headers
	bodies   map[string]json.RawMessage // the last refund request
}

func newRESTDouble(t *testing.T) (*restDouble, *Client) {
	d := &restDouble{t: t, tokens: map[string]bool{}, expireIn: 32400, refunds: map[string]map[string]any{}}
	d.capture = resourceOf(t, "testdata/simulator_signed/HOOK_PAYMENT_CAPTURE_COMPLETED_V2__PAYMENT.CAPTURE.COMPLETED.body.json")
	d.refund = resourceOf(t, "testdata/simulator_signed/HOOK_PAYMENT_CAPTURE_REFUNDED_V2__PAYMENT.CAPTURE.REFUNDED.body.json")
	var page map[string]any
	if err := jsonval.DecodeStrict(readFile(t, "testdata/reporting/airbyte_transaction_search_sandbox_page_1.json"), &page); err != nil {
		t.Fatal(err)
	}
	var docs map[string]any
	if err := jsonval.DecodeStrict(readFile(t, "testdata/reporting/airbyte_transaction_search_docs_sample.json"), &docs); err != nil {
		t.Fatal(err)
	}
	for _, v := range append(page["transaction_details"].([]any), docs["transaction_details"].([]any)...) {
		d.items = append(d.items, v.(map[string]any))
	}
	delete(page, "transaction_details")
	d.pageTop = page

	mux := http.NewServeMux()
	mux.HandleFunc("POST "+tokenPath, d.token)
	mux.HandleFunc("GET "+capturesPath+"{id}", d.api(d.getCapture))
	mux.HandleFunc("POST "+capturesPath+"{id}/refund", d.api(d.postRefund))
	mux.HandleFunc("GET "+transactionsPath, d.api(d.search))
	mux.HandleFunc("POST "+payoutsPath, d.api(d.postPayout))
	mux.HandleFunc("GET "+payoutsPath+"/{id}", d.api(d.getPayout))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	c, err := NewClient(ClientConfig{BaseURL: srv.URL, ClientID: "client-id", Secret: "client-secret", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

func resourceOf(t *testing.T, file string) map[string]any {
	var ev map[string]any
	if err := jsonval.DecodeStrict(readFile(t, file), &ev); err != nil {
		t.Fatal(err)
	}
	return ev["resource"].(map[string]any)
}

func (d *restDouble) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != "client-id" || secret != "client-secret" || r.PostFormValue("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client","error_description":"Client Authentication failed"}`))
		return
	}
	d.mu.Lock()
	d.issued++
	tok := fmt.Sprintf("A21AA-rest-%d", d.issued)
	d.tokens[tok] = true
	exp := d.expireIn
	d.mu.Unlock()
	fmt.Fprintf(w, `{"scope":"https://uri.paypal.com/services/payments/refund","access_token":%q,"token_type":"Bearer","app_id":"APP-80W284485P519543T","expires_in":%d}`, tok, exp)
}

// api checks the token and the double's failure switches, then serves.
func (d *restDouble) api(serve func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		valid := d.tokens[tok]
		if d.revoke {
			d.revoke, valid = false, false
			delete(d.tokens, tok)
		}
		fail := d.fail
		d.fail = 0
		d.headers = r.Header.Clone()
		d.mu.Unlock()
		switch {
		case !valid:
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_token","error_description":"Access Token not found in cache"}`))
		case fail != 0:
			w.WriteHeader(fail)
			fmt.Fprintf(w, `{"name":"SERVICE_UNAVAILABLE","message":"failure %d","debug_id":"90957fca61718"}`, fail)
		default:
			serve(w, r)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (d *restDouble) getCapture(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != d.capture["id"] {
		writeJSON(w, http.StatusNotFound, map[string]any{"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist.", "debug_id": "b2c3d4",
			"details": []map[string]string{{"issue": "INVALID_RESOURCE_ID", "description": "Specified resource ID does not exist."}}})
		return
	}
	writeJSON(w, http.StatusOK, d.capture)
}

func (d *restDouble) postRefund(w http.ResponseWriter, r *http.Request) {
	reqID := r.Header.Get("PayPal-Request-Id")
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Content-Type") != "application/json" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"name": "INVALID_REQUEST"})
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bodies = body
	if prev, ok := d.refunds[reqID]; ok && reqID != "" {
		writeJSON(w, http.StatusOK, prev) // the same request again: the same refund
		return
	}
	if r.PathValue("id") != d.capture["id"] {
		writeJSON(w, http.StatusNotFound, map[string]any{"name": "RESOURCE_NOT_FOUND"})
		return
	}
	rf := map[string]any{}
	for k, v := range d.refund {
		rf[k] = v
	}
	rf["id"] = fmt.Sprintf("REFUND%011d", len(d.refunds)+1)
	if a, ok := body["amount"]; ok {
		var m map[string]any
		json.Unmarshal(a, &m)
		rf["amount"] = m
	}
	d.refunds[reqID] = rf
	writeJSON(w, http.StatusCreated, rf)
}

// search answers one page of the items whose initiation date is in
// [start_date, end_date), page_size at a time, in the recorded page's shape.
func (d *restDouble) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d.mu.Lock()
	d.searches = append(d.searches, q)
	items := d.items
	d.mu.Unlock()
	start, err1 := time.Parse(time.RFC3339, q.Get("start_date"))
	end, err2 := time.Parse(time.RFC3339, q.Get("end_date"))
	size, err3 := strconv.Atoi(q.Get("page_size"))
	page, err4 := strconv.Atoi(q.Get("page"))
	if err := errors.Join(err1, err2, err3, err4); err != nil || end.Sub(start) > 31*24*time.Hour || q.Get("fields") != "all" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"name": "INVALID_REQUEST", "message": fmt.Sprint("bad query ", q, err)})
		return
	}
	var in []any
	for _, it := range items {
		info := it["transaction_info"].(map[string]any)
		at, err := time.Parse("2006-01-02T15:04:05-0700", info["transaction_initiation_date"].(string))
		if err != nil {
			d.t.Errorf("fixture time: %v", err)
		}
		if !at.Before(start) && !at.After(end) { // both ends inclusive, the worst case
			in = append(in, it)
		}
	}
	pages := (len(in) + size - 1) / size
	out := map[string]any{}
	for k, v := range d.pageTop {
		out[k] = v
	}
	lo, hi := min((page-1)*size, len(in)), min(page*size, len(in))
	out["transaction_details"] = in[lo:hi]
	out["page"], out["total_items"], out["total_pages"] = page, len(in), pages
	writeJSON(w, http.StatusOK, out)
}

func (d *restDouble) postPayout(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"name": "INVALID_REQUEST"})
		return
	}
	d.mu.Lock()
	d.payouts = append(d.payouts, body)
	d.mu.Unlock()
	hdr := body["sender_batch_header"].(map[string]any)
	writeJSON(w, http.StatusCreated, map[string]any{"batch_header": map[string]any{
		"payout_batch_id": "5UXD2E8A7EBQJ", "batch_status": "PENDING", "sender_batch_header": hdr}})
}

func (d *restDouble) getPayout(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"batch_header": map[string]any{
		"payout_batch_id": r.PathValue("id"), "batch_status": "SUCCESS",
		"amount": map[string]any{"currency": "USD", "value": "10.00"}}})
}

func TestClientCaptureCachesItsToken(t *testing.T) {
	d, c := newRESTDouble(t)
	ctx := context.Background()
	for range 3 {
		cp, err := c.Capture(ctx, "12A34567BC123456S")
		if err != nil {
			t.Fatal(err)
		}
		amt := cp["amount"].(map[string]any)
		if cp["id"] != "12A34567BC123456S" || amt["value"] != "30.00" || amt["currency_code"] != "USD" {
			t.Fatalf("capture = %v", cp)
		}
	}
	if d.issued != 1 {
		t.Errorf("%d tokens fetched for three calls, want 1", d.issued)
	}
	// An expired token is replaced once, and the call goes through.
	d.revoke = true
	if _, err := c.Capture(ctx, "12A34567BC123456S"); err != nil {
		t.Fatal(err)
	}
	if d.issued != 2 {
		t.Errorf("%d tokens fetched after a 401, want 2", d.issued)
	}
}

func TestClientErrors(t *testing.T) {
	d, c := newRESTDouble(t)
	ctx := context.Background()
	_, err := c.Capture(ctx, "NOPE")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Name != "RESOURCE_NOT_FOUND" || ae.DebugID != "b2c3d4" || Transient(err) {
		t.Errorf("missing capture: %v (transient %v)", err, Transient(err))
	}
	if !strings.Contains(err.Error(), "INVALID_RESOURCE_ID") {
		t.Errorf("error %q does not name the issue", err)
	}
	for _, status := range []int{429, 500, 503} {
		d.fail = status
		if _, err := c.Capture(ctx, "12A34567BC123456S"); err == nil || !Transient(err) {
			t.Errorf("HTTP %d: %v, transient %v", status, err, Transient(err))
		}
	}
	d.fail = 400
	if _, err := c.Capture(ctx, "12A34567BC123456S"); err == nil || Transient(err) {
		t.Errorf("HTTP 400: %v, transient %v", err, Transient(err))
	}
	if _, err := c.Capture(ctx, ""); !errors.Is(err, errNoID) || Transient(err) {
		t.Errorf("empty id: %v", err)
	}
	// Refused credentials are permanent.
	bad, err := NewClient(ClientConfig{BaseURL: c.base, ClientID: "client-id", Secret: "wrong", Client: c.client})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Capture(ctx, "12A34567BC123456S"); err == nil || Transient(err) {
		t.Errorf("wrong secret: %v, transient %v", err, Transient(err))
	}
	// PayPal unreachable is transient.
	gone, _ := NewClient(ClientConfig{BaseURL: "https://127.0.0.1:1", ClientID: "a", Secret: "b", Timeout: time.Second})
	if _, err := gone.Capture(ctx, "X"); err == nil || !Transient(err) {
		t.Errorf("unreachable: %v, transient %v", err, Transient(err))
	}
	for _, cfg := range []ClientConfig{
		{BaseURL: "http://api-m.paypal.com", ClientID: "a", Secret: "b"},
		{BaseURL: "https://api-m.paypal.com"},
		{BaseURL: "https://user@api-m.paypal.com", ClientID: "a", Secret: "b"},
	} {
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v) did not fail", cfg)
		}
	}
}

func TestClientNotJSON(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+tokenPath, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"access_token":"t","token_type":"Bearer","expires_in":3600}`)
	})
	mux.HandleFunc("GET "+capturesPath+"{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[1, 2]`)
	})
	mux.HandleFunc("GET "+transactionsPath, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"transaction_details": [null], "page": 1, "total_pages": 1}`)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	c, _ := NewClient(ClientConfig{BaseURL: srv.URL, ClientID: "a", Secret: "b", Client: srv.Client()})
	if _, err := c.Capture(context.Background(), "X"); !errors.Is(err, ErrUnexpectedResponse) || Transient(err) {
		t.Errorf("a JSON array: %v", err)
	}
	_, err := c.List(context.Background(), "transactions", map[string]any{"start_date": time.Unix(0, 0), "end_date": time.Unix(3600, 0)})
	if !errors.Is(err, ErrUnexpectedResponse) || Transient(err) {
		t.Errorf("a null item: %v", err)
	}
}

func TestRefundIsIdempotent(t *testing.T) {
	d, c := newRESTDouble(t)
	ctx := context.Background()
	req := RefundRequest{Amount: &Money{Currency: "usd", Value: decimal.RequireFromString("10.50")}, InvoiceID: "RMA-7", NoteToPayer: "Defective"}
	first, err := c.Refund(ctx, "12A34567BC123456S", "refund:RMA-7", req)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.headers.Get("PayPal-Request-Id"); got != "refund:RMA-7" {
		t.Errorf("PayPal-Request-Id = %q", got)
	}
	if got := string(d.bodies["amount"]); got != `{"currency_code":"USD","value":"10.50"}` {
		t.Errorf("amount sent = %s", got)
	}
	if got := string(d.bodies["invoice_id"]); got != `"RMA-7"` {
		t.Errorf("invoice_id sent = %s", got)
	}
	again, err := c.Refund(ctx, "12A34567BC123456S", "refund:RMA-7", req)
	if err != nil {
		t.Fatal(err)
	}
	if first["id"] != again["id"] || len(d.refunds) != 1 {
		t.Errorf("a retried refund made another: %v, %v", first["id"], again["id"])
	}
	if amt := first["amount"].(map[string]any); amt["value"] != "10.50" {
		t.Errorf("refund amount = %v", amt)
	}
	if _, err := c.Refund(ctx, "12A34567BC123456S", "", req); err == nil {
		t.Error("a refund without a request id went out")
	}
	if _, err := c.Refund(ctx, "12A34567BC123456S", "r2", RefundRequest{Amount: &Money{Currency: "USD", Value: decimal.Zero}}); err == nil {
		t.Error("a zero refund went out")
	}
	// The zero value refunds the rest: no amount is sent.
	if _, err := c.Refund(ctx, "12A34567BC123456S", "refund:all", RefundRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.bodies["amount"]; ok || len(d.refunds) != 2 {
		t.Errorf("full refund sent %v", d.bodies)
	}
}

func TestPayouts(t *testing.T) {
	d, c := newRESTDouble(t)
	ctx := context.Background()
	p := Payout{SenderBatchID: "vendor-pay:2024-05-01", EmailSubject: "You have a payout!", Items: []PayoutItem{
		{RecipientType: "EMAIL", Receiver: "vendor@example.com", Amount: Money{Currency: "USD", Value: decimal.RequireFromString("10.00")}, SenderItemID: "VINV-1"},
	}}
	res, err := c.CreatePayout(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.headers.Get("PayPal-Request-Id"); got != p.SenderBatchID {
		t.Errorf("PayPal-Request-Id = %q", got)
	}
	sent, _ := json.Marshal(d.payouts[0])
	want := `{"items":[{"amount":{"currency":"USD","value":"10.00"},"receiver":"vendor@example.com","recipient_type":"EMAIL","sender_item_id":"VINV-1"}],"sender_batch_header":{"email_subject":"You have a payout!","sender_batch_id":"vendor-pay:2024-05-01"}}`
	if string(sent) != want {
		t.Errorf("payout sent\n%s\nwant\n%s", sent, want)
	}
	if hdr := res["batch_header"].(map[string]any); hdr["payout_batch_id"] != "5UXD2E8A7EBQJ" {
		t.Errorf("answer = %v", res)
	}
	got, err := c.Payout(ctx, "5UXD2E8A7EBQJ")
	if err != nil || got["batch_header"].(map[string]any)["batch_status"] != "SUCCESS" {
		t.Errorf("Payout = %v, %v", got, err)
	}
	for _, bad := range []Payout{
		{Items: p.Items},
		{SenderBatchID: "x"},
		{SenderBatchID: "x", Items: []PayoutItem{{Receiver: "a@b.c"}}},
	} {
		if _, err := c.CreatePayout(ctx, bad); err == nil {
			t.Errorf("CreatePayout(%+v) went out", bad)
		}
	}
}

// manyItems gives the double n transactions, one an hour from start,
// cloned from the recorded items with ids of their own.
func manyItems(d *restDouble, start time.Time, n int) {
	var out []map[string]any
	for i := range n {
		src := d.items[i%len(d.items)]
		b, _ := json.Marshal(src)
		var it map[string]any
		jsonval.DecodeStrict(b, &it)
		info := it["transaction_info"].(map[string]any)
		info["transaction_id"] = fmt.Sprintf("TX%015d", i)
		info["transaction_initiation_date"] = start.Add(time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05-0700")
		out = append(out, it)
	}
	d.items = out
}

type lister interface {
	List(ctx context.Context, list string, args map[string]any) ([]map[string]any, error)
}

var _ lister = (*Client)(nil) // engine.Lister

func TestTransactionSearchPagesAndWindows(t *testing.T) {
	d, c := newRESTDouble(t)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	manyItems(d, start, 24*75) // 75 days, one an hour: 1800 items
	end := start.Add(75 * 24 * time.Hour)
	items, err := c.List(context.Background(), "transactions", map[string]any{"start_date": start, "end_date": end})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1800 {
		t.Fatalf("%d items, want 1800", len(items))
	}
	seen := map[string]bool{}
	for i, it := range items {
		id := transactionID(it)
		if seen[id] {
			t.Fatalf("item %s twice", id)
		}
		seen[id] = true
		if want := fmt.Sprintf("TX%015d", i); id != want {
			t.Fatalf("item %d is %s, want %s (oldest first)", i, id, want)
		}
	}
	// Three windows (31 + 31 + 13 days), each read to its last page.
	var windows []string
	pages := map[string]int{}
	for _, q := range d.searches {
		w := q.Get("start_date") + "/" + q.Get("end_date")
		if pages[w] == 0 {
			windows = append(windows, w)
		}
		pages[w]++
		if q.Get("page_size") != "200" {
			t.Errorf("page_size %s", q.Get("page_size"))
		}
	}
	want := []string{"2024-01-01T00:00:00Z/2024-02-01T00:00:00Z", "2024-02-01T00:00:00Z/2024-03-03T00:00:00Z", "2024-03-03T00:00:00Z/2024-03-16T00:00:00Z"}
	if strings.Join(windows, " ") != strings.Join(want, " ") {
		t.Errorf("windows %v, want %v", windows, want)
	}
	if pages[want[0]] != 4 || pages[want[2]] != 2 { // 745 and 313 items
		t.Errorf("pages per window %v", pages)
	}
	// Times read as RFC 3339.
	info := items[0]["transaction_info"].(map[string]any)
	if got := info["transaction_initiation_date"]; got != "2024-01-01T00:00:00+00:00" {
		t.Errorf("transaction_initiation_date = %v", got)
	}
	if _, err := time.Parse(time.RFC3339, info["transaction_updated_date"].(string)); err != nil {
		t.Errorf("transaction_updated_date: %v", err)
	}
	// The amounts stay the recorded strings: exact.
	if amt := info["transaction_amount"].(map[string]any); amt["value"] != "-60.75" {
		t.Errorf("amount = %v", amt)
	}
}

func TestTransactionSearchArgsAndFailures(t *testing.T) {
	d, c := newRESTDouble(t)
	ctx := context.Background()
	day := time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC)
	items, err := c.List(ctx, "transactions", map[string]any{"start_date": "2024-02-10T00:00:00Z", "end_date": day.Add(24 * time.Hour), "transaction_type": "T0001", "transaction_currency": "USD"})
	if err != nil || len(items) != 3 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	if q := d.searches[0]; q.Get("transaction_type") != "T0001" || q.Get("transaction_currency") != "USD" {
		t.Errorf("query %v", q)
	}
	for _, args := range []map[string]any{
		{},
		{"start_date": day},
		{"start_date": day, "end_date": "tomorrow"},
		{"start_date": day, "end_date": day},
		{"start_date": day.Add(time.Hour), "end_date": day},
	} {
		if _, err := c.List(ctx, "transactions", args); err == nil {
			t.Errorf("List(%v) did not fail", args)
		}
	}
	if _, err := c.List(ctx, "balances", nil); err == nil {
		t.Error("an unknown list did not fail")
	}
	d.fail = 503
	_, err = c.List(ctx, "transactions", map[string]any{"start_date": day, "end_date": day.Add(time.Hour)})
	var tr interface{ Transient() bool }
	if !errors.As(err, &tr) || !tr.Transient() {
		t.Errorf("HTTP 503: %v is not transient", err)
	}
	// Breaking out of the iterator stops it.
	n := 0
	for _, err := range c.Transactions(ctx, TransactionQuery{Start: day, End: day.Add(24 * time.Hour)}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 {
		t.Errorf("%d items after break", n)
	}
}

func TestTransactionSearchRefusesEndlessPaging(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+tokenPath, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"access_token":"t","token_type":"Bearer","expires_in":3600}`)
	})
	mux.HandleFunc("GET "+transactionsPath, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"transaction_details": [], "page": 1, "total_pages": 100000}`)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	c, _ := NewClient(ClientConfig{BaseURL: srv.URL, ClientID: "a", Secret: "b", Client: srv.Client()})
	_, err := c.List(context.Background(), "transactions", map[string]any{"start_date": time.Unix(0, 0), "end_date": time.Unix(3600, 0)})
	if !errors.Is(err, ErrUnexpectedResponse) {
		t.Errorf("100000 pages: %v", err)
	}
}

func TestNormalizeTimes(t *testing.T) {
	v := map[string]any{"a": "2024-02-10T00:01:56+0000", "b": []any{"2024-02-10T00:01:56.5-0700", "x"}, "c": map[string]any{"d": "2024-02-10T00:01:56Z"}, "e": "+0000"}
	normalizeTimes(v)
	got, _ := json.Marshal(v)
	want := `{"a":"2024-02-10T00:01:56+00:00","b":["2024-02-10T00:01:56.5-07:00","x"],"c":{"d":"2024-02-10T00:01:56Z"},"e":"+0000"}`
	if string(got) != want {
		t.Errorf("got %s", got)
	}
}
