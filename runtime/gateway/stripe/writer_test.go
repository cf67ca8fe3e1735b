package stripe

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/internal/stripemock"
)

// Creates go through stripe-mock, which checks them against Stripe's
// OpenAPI spec; finding them by metadata is a well-formed search.
func TestWriterAgainstStripeMock(t *testing.T) {
	api := stripemock.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := NewClient(testKey, api, &http.Client{Timeout: 5 * time.Second})

	cust, err := c.Write(ctx, erp.Write{Op: erp.Create, Entity: "Customer", Key: "erp-cust:usmf:US-027", Fields: erp.Record{
		"email": "ap@contoso.example", "name": "Contoso", "metadata": map[string]any{"erp_account": "US-027"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if cust["object"] != "customer" {
		t.Fatalf("created %v", cust)
	}
	ref, err := c.Write(ctx, erp.Write{Op: erp.Create, Entity: "Refund", Key: "erp-credit:usmf:CCN-1", Fields: erp.Record{
		"charge": "ch_123", "amount": int64(1250), "reason": "requested_by_customer", "metadata": map[string]any{"erp_credit_note": "CCN-1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if ref["object"] != "refund" {
		t.Fatalf("created %v", ref)
	}
	// stripe-mock's fixtures carry no flow_key: nothing is found, and
	// nothing fails.
	for _, w := range []erp.Write{
		{Op: erp.Create, Entity: "Customer", Key: "k"},
		{Op: erp.Create, Entity: "Refund", Key: "k", Fields: erp.Record{"charge": "ch_123"}},
	} {
		if _, ok, err := c.Find(ctx, w); ok || err != nil {
			t.Errorf("find %s: %v %v", w.Entity, ok, err)
		}
	}
}

// fakeCreates records create requests and answers with the object the
// first request with each Idempotency-Key created, as Stripe does.
type fakeCreates struct {
	mu    sync.Mutex
	reqs  []*http.Request
	forms []url.Values
	seen  map[string]string
}

func (f *fakeCreates) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs, f.forms = append(f.reqs, r), append(f.forms, form)
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/customers/search" {
		key := strings.TrimSuffix(strings.TrimPrefix(r.URL.Query().Get("query"), "metadata['flow_key']:'"), "'")
		data := "[]"
		if id, ok := f.seen[key]; ok {
			data = `[{"id": "` + id + `", "object": "customer", "metadata": {"flow_key": "` + key + `"}}]`
		}
		io.WriteString(w, `{"object": "search_result", "data": `+data+`, "has_more": false}`)
		return
	}
	if form.Get("email") == "bad" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error": {"type": "invalid_request_error", "code": "email_invalid", "message": "Invalid email address: bad"}}`)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	id, ok := f.seen[key]
	if !ok {
		id = "cus_" + key[5:19]
		f.seen[key] = id
	}
	io.WriteString(w, `{"id": "`+id+`", "object": "customer", "email": "`+form.Get("email")+`", "metadata": {"flow_key": "`+form.Get("metadata[flow_key]")+`"}}`)
}

// Every create carries the Idempotency-Key derived from the flow's key,
// and the same value in metadata, by which Find settles it later.
func TestWriterIdempotencyKey(t *testing.T) {
	f := &fakeCreates{seen: map[string]string{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := NewClient(testKey, srv.URL, srv.Client())
	ctx := context.Background()
	w := erp.Write{Op: erp.Create, Entity: "Customer", Key: "erp-cust:usmf:US-027", Fields: erp.Record{"email": "a@b.example", "metadata": map[string]any{"erp_account": "US-027"}}}
	first, err := c.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	want := IdempotencyKey("Customer", "erp-cust:usmf:US-027")
	for i, r := range f.reqs {
		if got := r.Header.Get("Idempotency-Key"); got != want {
			t.Errorf("request %d: Idempotency-Key %q, want %q", i, got, want)
		}
		if f.forms[i].Get("metadata[flow_key]") != want || f.forms[i].Get("metadata[erp_account]") != "US-027" {
			t.Errorf("request %d: form %v", i, f.forms[i])
		}
	}
	if first["id"] != again["id"] {
		t.Errorf("a repeated create made %v and %v", first["id"], again["id"])
	}
	found, ok, err := c.Find(ctx, w)
	if err != nil || !ok || found["id"] != first["id"] {
		t.Errorf("find: %v %v %v", found, ok, err)
	}
	if _, ok, err := c.Find(ctx, erp.Write{Op: erp.Create, Entity: "Customer", Key: "other"}); ok || err != nil {
		t.Errorf("find of another key: %v %v", ok, err)
	}

	// Stripe's 4xx is permanent.
	_, err = c.Write(ctx, erp.Write{Op: erp.Create, Entity: "Customer", Key: "k2", Fields: erp.Record{"email": "bad"}})
	var ee *erp.Error
	if !errors.As(err, &ee) || ee.Kind != erp.Permanent || ee.Status != http.StatusBadRequest {
		t.Errorf("a 400: %v", err)
	}
}

// What a flow cannot ask of Stripe fails permanently before any request.
func TestWriterRefusesBeforeSending(t *testing.T) {
	f := &fakeCreates{seen: map[string]string{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := NewClient(testKey, srv.URL, srv.Client())
	for _, w := range []erp.Write{
		{Op: erp.Upsert, Entity: "Customer", Key: "k"},
		{Op: erp.Create, Entity: "Customer", Key: ""},
		{Op: erp.Create, Entity: "Payout", Key: "k"},
		{Op: erp.Create, Entity: "Customer", Key: "k", Fields: erp.Record{"emial": "x"}},
		{Op: erp.Create, Entity: "Customer", Key: "k", Fields: erp.Record{"metadata": map[string]any{"flow_key": "x"}}},
		{Op: erp.Create, Entity: "Customer", Key: "k", Fields: erp.Record{"metadata": map[string]any{"n": int64(1)}}},
		{Op: erp.Create, Entity: "Refund", Key: "k", Fields: erp.Record{"amount": int64(100)}},
		{Op: erp.Create, Entity: "Refund", Key: "k", Fields: erp.Record{"charge": "ch_1", "amount": int64(-1)}},
		{Op: erp.Create, Entity: "Refund", Key: "k", Fields: erp.Record{"charge": "ch_1", "amount": 1.5}},
	} {
		_, err := c.Write(context.Background(), w)
		var ee *erp.Error
		if !errors.As(err, &ee) || ee.Kind != erp.Permanent {
			t.Errorf("%+v: %v, want a permanent error", w, err)
		}
	}
	if len(f.reqs) != 0 {
		t.Errorf("%d requests sent", len(f.reqs))
	}
}
