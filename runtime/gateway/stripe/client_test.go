package stripe

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	stripego "github.com/stripe/stripe-go/v76"
)

const testKey = "sk_test_123"

// fakeStripe serves Stripe list and object responses built from the real
// fixtures, and records what it was asked.
type fakeStripe struct {
	t     *testing.T
	pages [][]map[string]any                // balance transaction pages, in order
	list  map[string]any                    // the list envelope of the API reference example
	objs  map[string]json.RawMessage        // path -> object body
	fail  map[int]func(http.ResponseWriter) // page index -> failure to serve instead

	mu       sync.Mutex
	requests []string // starting_after of each list request, "" for the first page
}

// newFakeStripe serves the payout's two balance transactions one per page:
// the API reference's list item (a transfer), then the OpenAPI fixture's
// (a charge), inside the API reference's list envelope.
func newFakeStripe(t *testing.T) (*fakeStripe, *Client) {
	list := readJSON(t, filepath.Join(fixtures, "docs_api_reference", "balance_transactions_list.example.json"))
	openapi := readJSON(t, filepath.Join(fixtures, "openapi", "fixtures3.json"))
	resources := openapi["resources"].(map[string]any)
	first := list["data"].([]any)[0].(map[string]any)
	second := resources["balance_transaction"].(map[string]any)

	charge := readJSON(t, filepath.Join(fixtures, "events", "charge.succeeded.json"))["data"].(map[string]any)["object"]
	f := &fakeStripe{
		t:     t,
		pages: [][]map[string]any{{first}, {second}},
		list:  list,
		objs: map[string]json.RawMessage{
			"/v1/payouts/po_1OaFDbEcg9tTZuTgNYmX0PKB": readFile(t, filepath.Join(fixtures, "docs_api_reference", "payouts_object.example.json")),
			"/v1/charges/ch_000000000000000000000000": mustJSON(t, charge),
		},
		fail: map[int]func(http.ResponseWriter){},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := NewClient(testKey, srv.URL, srv.Client())
	c.backend.(*stripego.BackendImplementation).SetNetworkRetriesSleep(false)
	return f, c
}

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testKey || r.Header.Get("Stripe-Version") != stripego.APIVersion {
		stripeError(w, http.StatusUnauthorized, "invalid_request_error", "bad headers")
		return
	}
	if r.URL.Path != "/v1/balance_transactions" {
		body, ok := f.objs[r.URL.Path]
		if !ok {
			stripeError(w, http.StatusNotFound, "invalid_request_error", "No such object")
			return
		}
		w.Write(body)
		return
	}
	q := r.URL.Query()
	if q.Get("payout") != "po_1OaFDbEcg9tTZuTgNYmX0PKB" || q.Get("limit") != "100" {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "bad query "+r.URL.RawQuery)
		return
	}
	after := q.Get("starting_after")
	f.mu.Lock()
	f.requests = append(f.requests, after)
	f.mu.Unlock()

	i := 0
	if after != "" {
		i = slices.IndexFunc(f.pages, func(p []map[string]any) bool {
			return len(p) > 0 && p[len(p)-1]["id"] == after
		}) + 1
		if i == 0 {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "unknown starting_after "+after)
			return
		}
	}
	if fail := f.fail[i]; fail != nil {
		fail(w)
		return
	}
	page := map[string]any{}
	for k, v := range f.list {
		page[k] = v
	}
	page["data"] = f.pages[i]
	page["has_more"] = i+1 < len(f.pages)
	w.Write(mustJSON(f.t, page))
}

func (f *fakeStripe) listRequests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// stripeError writes an error in the Stripe API's shape.
func stripeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"type":%q,"message":%q}}`, typ, msg)
}

// collect drains a BalanceTransactions iterator.
func collect(seq func(func(map[string]any, error) bool)) (ids []string, items []map[string]any, err error) {
	for item, e := range seq {
		if e != nil {
			return ids, items, e
		}
		id, _ := item["id"].(string)
		ids = append(ids, id)
		items = append(items, item)
	}
	return ids, items, nil
}

func TestBalanceTransactionsPaginates(t *testing.T) {
	f, c := newFakeStripe(t)
	ids, items, err := collect(c.BalanceTransactions(context.Background(), "po_1OaFDbEcg9tTZuTgNYmX0PKB"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"txn_1MiN3gLkdIwHu7ixxapQrznl", "txn_1PgaxNB7WZ01zgkWEV3TLf40"}; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if want := []string{"", "txn_1MiN3gLkdIwHu7ixxapQrznl"}; !slices.Equal(f.listRequests(), want) {
		t.Errorf("starting_after of each request %q, want %q", f.listRequests(), want)
	}
	// Items are the objects as Stripe sent them, numbers exact.
	if items[0]["net"] != json.Number("-400") || items[1]["amount"] != json.Number("100") || items[1]["reporting_category"] != "charge" {
		t.Errorf("items %v", items)
	}
	for _, item := range items {
		if fs := floats("", item); len(fs) > 0 {
			t.Errorf("float64 values at %v", fs)
		}
	}
}

func TestBalanceTransactionsStopsWhenCallerBreaks(t *testing.T) {
	f, c := newFakeStripe(t)
	for _, err := range c.BalanceTransactions(context.Background(), "po_1OaFDbEcg9tTZuTgNYmX0PKB") {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if got := f.listRequests(); len(got) != 1 {
		t.Errorf("requests %q, want only the first page", got)
	}
}

func TestBalanceTransactionsErrors(t *testing.T) {
	tests := []struct {
		name      string
		fail      func(http.ResponseWriter)
		requests  int // to the failing page, retries included
		transient bool
		status    int // of the *stripego.Error, 0 for none
	}{
		{"server error is retried, then transient", func(w http.ResponseWriter) {
			stripeError(w, http.StatusInternalServerError, "api_error", "boom")
		}, 3, true, 500},
		{"rate limit is transient", func(w http.ResponseWriter) {
			stripeError(w, http.StatusTooManyRequests, "rate_limit_error", "slow down")
		}, 1, true, 429},
		{"invalid request is permanent", func(w http.ResponseWriter) {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "No such payout")
		}, 1, false, 400},
		{"proxy error page is transient", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>502 Bad Gateway</html>"))
		}, 3, true, 0},
		{"has_more with an empty page is permanent", func(w http.ResponseWriter) {
			w.Write([]byte(`{"object":"list","url":"/v1/balance_transactions","has_more":true,"data":[]}`))
		}, 1, false, 0},
		{"not a list is permanent", func(w http.ResponseWriter) {
			w.Write([]byte(`{"object":"balance_transaction","id":"txn_1"}`))
		}, 1, false, 0},
		{"null item is permanent", func(w http.ResponseWriter) {
			w.Write([]byte(`{"object":"list","url":"/v1/balance_transactions","has_more":false,"data":[null]}`))
		}, 1, false, 0},
		{"truncated body", func(w http.ResponseWriter) {
			w.Write([]byte(`{"object":"list","data":[{"id":"txn_1"`))
		}, 1, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFakeStripe(t)
			f.fail[1] = tc.fail
			ids, _, err := collect(c.BalanceTransactions(context.Background(), "po_1OaFDbEcg9tTZuTgNYmX0PKB"))
			if err == nil {
				t.Fatal("no error")
			}
			if len(ids) != 1 {
				t.Errorf("yielded %v before the error, want the first page", ids)
			}
			if got := len(f.listRequests()) - 1; got != tc.requests {
				t.Errorf("%d requests for the failing page, want %d", got, tc.requests)
			}
			if Transient(err) != tc.transient {
				t.Errorf("Transient(%v) = %v", err, !tc.transient)
			}
			var se *stripego.Error
			if status := 0; errors.As(err, &se) {
				status = se.HTTPStatusCode
				if status != tc.status {
					t.Errorf("status %d, want %d", status, tc.status)
				}
			} else if tc.status != 0 {
				t.Errorf("error %v is not a *stripe.Error", err)
			}
		})
	}
}

func TestBalanceTransactionsLoopGuard(t *testing.T) {
	f, c := newFakeStripe(t)
	same := f.pages[0]
	f.fail[1] = func(w http.ResponseWriter) { // claims more, ends where it started
		w.Write(mustJSON(t, map[string]any{"object": "list", "has_more": true, "data": same}))
	}
	n := 0
	for _, err := range c.BalanceTransactions(context.Background(), "po_1OaFDbEcg9tTZuTgNYmX0PKB") {
		if n++; n > 10 {
			t.Fatal("endless pagination")
		}
		if err != nil {
			if !errors.Is(err, ErrUnexpectedResponse) {
				t.Fatalf("got %v, want ErrUnexpectedResponse", err)
			}
			return
		}
	}
	t.Fatal("no error")
}

func TestGetObjects(t *testing.T) {
	_, c := newFakeStripe(t)
	ctx := context.Background()
	po, err := c.Payout(ctx, "po_1OaFDbEcg9tTZuTgNYmX0PKB")
	if err != nil {
		t.Fatal(err)
	}
	if po["object"] != "payout" || po["arrival_date"] != json.Number("1680652800") {
		t.Errorf("payout %v", po)
	}
	ch, err := c.Charge(ctx, "ch_000000000000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	if ch["amount"] != json.Number("2000") || ch["metadata"] == nil || ch["billing_details"] == nil {
		t.Errorf("charge %v", ch)
	}

	_, err = c.Payout(ctx, "po_missing")
	var se *stripego.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != http.StatusNotFound || Transient(err) {
		t.Errorf("missing payout: %v", err)
	}
	// The path is /v1/charges/<id>; asking for a charge under a payout ID
	// gets the wrong object back.
	_, err = c.get("charge", "/v1/payouts/%s", "po_1OaFDbEcg9tTZuTgNYmX0PKB", &stripego.ChargeParams{})
	if !errors.Is(err, ErrUnexpectedResponse) || Transient(err) {
		t.Errorf("wrong object: %v", err)
	}
	for _, err := range []error{
		func() error { _, err := c.Payout(ctx, ""); return err }(),
		func() error { _, err := c.Charge(ctx, ""); return err }(),
		func() error { _, _, err := collect(c.BalanceTransactions(ctx, "")); return err }(),
	} {
		if err == nil || Transient(err) {
			t.Errorf("empty id: %v", err)
		}
	}
}

func TestCancelledContextIsTransient(t *testing.T) {
	_, c := newFakeStripe(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Payout(ctx, "po_1OaFDbEcg9tTZuTgNYmX0PKB")
	if !errors.Is(err, context.Canceled) || !Transient(err) {
		t.Errorf("got %v", err)
	}
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := NewClient(testKey, url, nil)
	c.backend.(*stripego.BackendImplementation).SetNetworkRetriesSleep(false)
	_, err := c.Charge(context.Background(), "ch_1")
	if err == nil || !Transient(err) {
		t.Errorf("got %v, want a transient error", err)
	}
}

func TestTransient(t *testing.T) {
	status := func(code int) error {
		return fmt.Errorf("stripe: get payout po_1: %w", &stripego.Error{HTTPStatusCode: code})
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"400", status(400), false},
		{"401", status(401), false},
		{"402", status(402), false},
		{"404", status(404), false},
		{"409", status(409), true},
		{"429", status(429), true},
		{"500", status(500), true},
		{"503", status(503), true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"unexpected response", fmt.Errorf("x: %w: y", ErrUnexpectedResponse), false},
		{"certificate", fmt.Errorf("x: %w", &tls.CertificateVerificationError{Err: errors.New("unknown authority")}), false},
		{"other", errors.New("connection reset by peer"), true},
	}
	for _, tc := range tests {
		if got := Transient(tc.err); got != tc.want {
			t.Errorf("%s: Transient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
