package dataverse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/sandbox"
)

// start runs the sandbox's Dataverse dialect and a driver for it.
func start(t *testing.T) (*Driver, *sandbox.Server) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Dialect: "dataverse", Tenant: "t1", ClientID: "app", ClientSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	d, err := New(Config{BaseURL: srv.URL, TokenURL: srv.URL + "/t1/oauth2/v2.0/token", ClientID: "app", ClientSecret: "s3cret", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return d, sb
}

func kindOf(t *testing.T, err error) erp.Kind {
	t.Helper()
	var e *erp.Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *erp.Error: %v", err)
	}
	return e.Kind
}

func TestUpsertByAlternateKeyIsIdempotent(t *testing.T) {
	d, sb := start(t)
	ctx := context.Background()
	w := erp.Write{Op: erp.Upsert, Entity: "accounts", Key: "stripe:cus_1", Fields: erp.Record{"new_stripecustomerid": "cus_1", "name": "Ada O'Brien", "creditlimit": decimal.RequireFromString("1500.25")}}
	a, err := d.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := a["accountid"].(string)
	if !guidPattern.MatchString(id) || a["name"] != "Ada O'Brien" || a["creditlimit"].(decimal.Decimal).String() != "1500.25" {
		t.Fatalf("row %v", a)
	}
	w.Fields["name"] = "Ada Lovelace"
	b, err := d.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if b["accountid"] != id || b["name"] != "Ada Lovelace" {
		t.Fatalf("second upsert %v", b)
	}
	if n, _ := sb.Count("accounts"); n != 1 {
		t.Fatalf("%d accounts, want 1", n)
	}
	got, ok, err := d.Find(ctx, w)
	if err != nil || !ok || got["accountid"] != id {
		t.Fatalf("Find = %v %v %v", got, ok, err)
	}
	got, ok, err = d.Lookup(ctx, "accounts", erp.Record{"name": "Ada Lovelace"})
	if err != nil || !ok || got["new_stripecustomerid"] != "cus_1" {
		t.Fatalf("Lookup = %v %v %v", got, ok, err)
	}
	if _, ok, err := d.Lookup(ctx, "accounts", erp.Record{"new_stripecustomerid": "cus_none"}); ok || err != nil {
		t.Fatalf("Lookup of a missing row: %v %v", ok, err)
	}
	// A create of a row that exists is refused (If-None-Match: *).
	_, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: "accounts", Key: "k", Fields: erp.Record{"new_stripecustomerid": "cus_1", "name": "x"}})
	if err == nil || kindOf(t, err) != erp.Permanent || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate create: %v", err)
	}
	// An update of a row that does not exist is refused.
	_, err = d.Write(ctx, erp.Write{Op: erp.Update, Entity: "accounts", Key: "k", Fields: erp.Record{"new_stripecustomerid": "cus_2", "name": "x"}})
	if err == nil || kindOf(t, err) != erp.Permanent {
		t.Fatalf("update of a missing row: %v", err)
	}
	// An update by primary key reads the ETag and sends If-Match.
	u, err := d.Write(ctx, erp.Write{Op: erp.Update, Entity: "accounts", Key: "k", Fields: erp.Record{"accountid": id, "telephone1": "555"}})
	if err != nil || u["telephone1"] != "555" || u["name"] != "Ada Lovelace" {
		t.Fatalf("update = %v, %v", u, err)
	}
}

func TestLookupsBindAndWritesWithoutAKeyAreRefused(t *testing.T) {
	d, sb := start(t)
	ctx := context.Background()
	acct, err := d.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "accounts", Key: "a", Fields: erp.Record{"new_stripecustomerid": "cus_9", "name": "Grace"}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "invoices", Key: "stripe:ch_1", Fields: erp.Record{
		"new_stripechargeid": "ch_1", "name": "Stripe ch_1", "customerid_account": acct["accountid"],
		"totalamount": decimal.RequireFromString("20.00"), "statecode": int64(2), "statuscode": int64(100001),
		"datedelivered": time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	if inv["_customerid_value"] != acct["accountid"] || inv["customerid_account"] != acct["accountid"] {
		t.Fatalf("invoice %v", inv)
	}
	got, ok, err := d.Lookup(ctx, "invoices", erp.Record{"customerid_account": acct["accountid"]})
	if err != nil || !ok || got["new_stripechargeid"] != "ch_1" {
		t.Fatalf("lookup by the lookup: %v %v %v", got, ok, err)
	}
	// A bind to a row that does not exist fails: Dataverse checks it.
	_, err = d.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "invoices", Key: "x", Fields: erp.Record{
		"new_stripechargeid": "ch_2", "name": "x", "customerid_account": "00000000-0000-4000-a000-000000000001"}})
	if err == nil || kindOf(t, err) != erp.Permanent {
		t.Fatalf("bind to a missing row: %v", err)
	}
	for _, w := range []erp.Write{
		{Op: erp.Create, Entity: "invoices", Key: "k", Fields: erp.Record{"name": "no key"}},
		{Op: erp.Upsert, Entity: "nope", Key: "k", Fields: erp.Record{}},
		{Op: erp.Upsert, Entity: "accounts", Key: "k", Fields: erp.Record{"new_stripecustomerid": "c", "nope": 1}},
		{Op: erp.Upsert, Entity: "accounts", Key: "k", Fields: erp.Record{"new_stripecustomerid": "c", "creditlimit": 1.5}},
		{Op: erp.Upsert, Entity: "accounts", Key: "k", Fields: erp.Record{"accountid": "not-a-guid"}},
		{Op: erp.Upsert, Entity: "accounts", Key: "k", Fields: erp.Record{"new_stripecustomerid": "c", "name": strings.Repeat("x", 161)}},
	} {
		if _, err := d.Write(ctx, w); err == nil || kindOf(t, err) != erp.Permanent {
			t.Errorf("%+v: %v, want a permanent error", w, err)
		}
	}
	// A create without an idempotency key and without a key POSTs.
	p, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "contacts", Fields: erp.Record{"lastname": "Noether"}})
	if err != nil || !guidPattern.MatchString(p["contactid"].(string)) {
		t.Fatalf("POST = %v, %v", p, err)
	}
	if _, _, err := d.PostJournal(ctx, erp.Journal{Key: "j"}); err == nil || kindOf(t, err) != erp.Permanent {
		t.Fatalf("PostJournal: %v", err)
	}
	if n, _ := sb.Count("invoices"); n != 1 {
		t.Fatalf("%d invoices", n)
	}
}

func TestWriteChangesetIsAtomic(t *testing.T) {
	d, sb := start(t)
	ctx := context.Background()
	ws := []erp.Write{
		{Op: erp.Upsert, Entity: "accounts", Fields: erp.Record{"new_stripecustomerid": "cus_a", "name": "A"}},
		{Op: erp.Upsert, Entity: "new_stripepayments", Fields: erp.Record{"new_stripechargeid": "ch_a", "new_name": "ch_a", "new_amount": decimal.RequireFromString("12.34")}},
	}
	recs, err := d.WriteChangeset(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1]["new_amount"].(decimal.Decimal).String() != "12.34" {
		t.Fatalf("rows %v", recs)
	}
	// Run again: idempotent.
	if _, err := d.WriteChangeset(ctx, ws); err != nil {
		t.Fatal(err)
	}
	// One failing operation takes the others down.
	bad := []erp.Write{
		{Op: erp.Upsert, Entity: "accounts", Fields: erp.Record{"new_stripecustomerid": "cus_b", "name": "B"}},
		{Op: erp.Create, Entity: "new_stripepayments", Fields: erp.Record{"new_stripechargeid": "ch_a", "new_name": "dup"}},
	}
	if _, err := d.WriteChangeset(ctx, bad); err == nil || kindOf(t, err) != erp.Permanent {
		t.Fatalf("failing changeset: %v", err)
	}
	if n, _ := sb.Count("accounts"); n != 1 {
		t.Fatalf("%d accounts: the failed changeset left a row", n)
	}
}

func TestServiceProtectionAndFaults(t *testing.T) {
	d, sb := start(t)
	ctx := context.Background()
	sb.SetFaults(sandbox.Faults{RateLimit: 1, RetryAfter: 3 * time.Second})
	_, err := d.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "accounts", Fields: erp.Record{"new_stripecustomerid": "c", "name": "x"}})
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.Transient || e.Code != CodeRequests || e.RetryAfter != 3*time.Second {
		t.Fatalf("429: %#v", err)
	}
	sb.SetFaults(sandbox.Faults{ServerError: 1})
	if _, _, err := d.Lookup(ctx, "accounts", erp.Record{"name": "x"}); err == nil || kindOf(t, err) != erp.Transient {
		t.Fatalf("5xx: %v", err)
	}
	sb.SetFaults(sandbox.Faults{LostReply: 1})
	w := erp.Write{Op: erp.Upsert, Entity: "accounts", Fields: erp.Record{"new_stripecustomerid": "c", "name": "x"}}
	if _, err := d.Write(ctx, w); err == nil || kindOf(t, err) != erp.InDoubt {
		t.Fatalf("lost reply: %v", err)
	}
	sb.SetFaults(sandbox.Faults{})
	if rec, ok, err := d.Find(ctx, w); err != nil || !ok || rec["name"] != "x" {
		t.Fatalf("Find after a lost reply: %v %v %v", rec, ok, err)
	}
	// A throttling code in a 503 (no 429) is still transient.
	if e := d.failure("x", answer{status: 400, header: http.Header{}, body: []byte(`{"error":{"code":"0x80072321","message":"Combined execution time"}}`)}); e.Kind != erp.Transient {
		t.Fatalf("0x80072321: %v", e)
	}
}

// TestGarbageAnswers: answers that break the protocol are clear permanent
// errors, never a panic.
func TestGarbageAnswers(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"html":       func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200); w.Write([]byte("<html>")) },
		"no value":   func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"x":1}`)) },
		"wrong kind": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"value":[{"creditlimit":"abc"}]}`)) },
		"null":       func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"value":[null]}`)) },
		"off service": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"value":[],"@odata.nextLink":"http://evil/x"}`))
		},
		"float": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"value":[{"statecode":1.5}]}`)) },
	} {
		srv := httptest.NewServer(h)
		d, err := New(Config{BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = d.Lookup(context.Background(), "accounts", erp.Record{"name": "x"})
		if err == nil || kindOf(t, err) != erp.Permanent {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
		_, err = d.Write(context.Background(), erp.Write{Op: erp.Upsert, Entity: "accounts", Fields: erp.Record{"new_stripecustomerid": "c"}})
		if err == nil {
			t.Errorf("%s: a write accepted garbage", name)
		}
		srv.Close()
	}
}

// A query reads every row matching its conditions.
func TestQueryReadsEveryRow(t *testing.T) {
	d, _ := start(t)
	ctx := context.Background()
	for i, limit := range []string{"10", "20", "10", "10"} {
		if _, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "accounts", Key: fmt.Sprintf("q:%d", i),
			Fields: erp.Record{"new_stripecustomerid": fmt.Sprintf("cus_%d", i), "name": "Ada", "creditlimit": decimal.RequireFromString(limit)}}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := d.Query(ctx, "accounts", erp.Record{"creditlimit": decimal.RequireFromString("10")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r["new_stripecustomerid"].(string))
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "cus_0,cus_2,cus_3" {
		t.Errorf("accounts with a limit of 10: %v", got)
	}
	recs, err = d.QueryRange(ctx, "accounts", erp.Record{"name": "Ada"}, []erp.Range{{Field: "creditlimit", Op: ">", Value: decimal.RequireFromString("15")}})
	if err != nil || len(recs) != 1 || recs[0]["new_stripecustomerid"] != "cus_1" {
		t.Errorf("accounts with a limit over 15: %v, %v", recs, err)
	}
}
