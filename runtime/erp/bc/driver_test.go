package bc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/bc"
	"github.com/flowhq/flow/runtime/erp/sandbox"
)

// start runs the sandbox's BC dialect and a driver for it.
func start(t *testing.T, cfg sandbox.Config) (*sandbox.Server, *bc.Driver, string) {
	t.Helper()
	cfg.Dialect, cfg.Tenant, cfg.ClientID, cfg.ClientSecret = "bc", "test", "flowd", "s3cret"
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := bc.New(bc.Config{BaseURL: base + "/api/v2.0", TokenURL: base + "/test/oauth2/v2.0/token",
		ClientID: "flowd", ClientSecret: "s3cret", Company: sandbox.DefaultBCCompany, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return sb, d, base
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestWritesLookupsAndSettling(t *testing.T) {
	sb, d, _ := start(t, sandbox.Config{})
	ctx := context.Background()
	cust, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "customers", Key: "lookup:c1", Fields: erp.Record{"number": "cus_1", "displayName": "Ada"}})
	if err != nil {
		t.Fatal(err)
	}
	if cust["id"] == "" || cust["number"] != "cus_1" {
		t.Fatalf("customer = %v", cust)
	}
	got, ok, err := d.Lookup(ctx, "customers", erp.Record{"number": "cus_1"})
	if err != nil || !ok || got["id"] != cust["id"] {
		t.Fatalf("lookup = %v %v %v", got, ok, err)
	}
	// Upsert creates, then updates the same record (by number).
	w := erp.Write{Op: erp.Upsert, Entity: "salesOrders", Key: "stripe:ch_1",
		Fields: erp.Record{"number": "ORD-1", "customerNumber": "cus_1", "orderDate": time.Date(2022, 3, 26, 0, 0, 0, 0, time.UTC)}}
	so, err := d.Write(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if so["externalDocumentNumber"] != "stripe:ch_1" || so["customerId"] != cust["id"] || so["customerName"] != "Ada" {
		t.Fatalf("sales order = %v", so)
	}
	if od, _ := so["orderDate"].(time.Time); !od.Equal(time.Date(2022, 3, 26, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("orderDate = %v", so["orderDate"])
	}
	w.Fields["currencyCode"] = "EUR"
	so2, err := d.Write(ctx, w)
	if err != nil || so2["id"] != so["id"] || so2["currencyCode"] != "EUR" {
		t.Fatalf("upsert again = %v, %v", so2, err)
	}
	if n, _ := sb.Count("salesOrders"); n != 1 {
		t.Fatalf("%d sales orders", n)
	}
	// Find settles by the anchored key when the write names nothing else.
	pay := erp.Write{Op: erp.Create, Entity: "customerPayments", Key: "stripe-pay:ch_1", Fields: erp.Record{"customerNumber": "cus_1", "amount": dec("20.00")}}
	if _, ok, _ := d.Find(ctx, pay); ok {
		t.Fatal("found a payment before writing it")
	}
	pj, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "customerPaymentJournals", Key: "j", Fields: erp.Record{"code": "STRIPE"}})
	if err != nil {
		t.Fatal(err)
	}
	pay.Fields["journalId"] = pj["id"]
	p, err := d.Write(ctx, pay)
	if err != nil {
		t.Fatal(err)
	}
	found, ok, err := d.Find(ctx, pay)
	if err != nil || !ok || found["id"] != p["id"] || !found["amount"].(decimal.Decimal).Equal(dec("20")) {
		t.Fatalf("find = %v %v %v", found, ok, err)
	}
	// Floats, read-only fields and read-only sets are refused.
	for _, bad := range []erp.Write{
		{Op: erp.Create, Entity: "customers", Key: "x", Fields: erp.Record{"number": "c2", "creditLimit": 1.5}},
		{Op: erp.Create, Entity: "customers", Key: "x", Fields: erp.Record{"number": "c2", "lastModifiedDateTime": time.Now()}},
		{Op: erp.Create, Entity: "generalLedgerEntries", Key: "x", Fields: erp.Record{"documentNumber": "x"}},
	} {
		if _, err := d.Write(ctx, bad); erp.KindOf(err) != erp.Permanent {
			t.Errorf("%v: %v, want permanent", bad.Fields, err)
		}
	}
	// BC's errors keep their code: an unknown customer.
	_, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: "salesOrders", Key: "k2", Fields: erp.Record{"customerNumber": "nobody"}})
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.Permanent || e.Code != "Internal_RecordNotFound" {
		t.Fatalf("unknown customer: %#v", err)
	}
}

// A PATCH that meets 409 Request_EntityChanged reads the record again and
// retries once, with the new ETag.
func TestUpdateRetriesOnceAfterEntityChanged(t *testing.T) {
	sb, _, base := start(t, sandbox.Config{})
	ctx := context.Background()
	var patches atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			if patches.Add(1) == 1 { // another user changed it in between
				r.Header.Set("If-Match", `W/"stale"`)
			}
		}
		sb.Handler().ServeHTTP(w, r)
	}))
	defer proxy.Close()
	_ = base
	d, err := bc.New(bc.Config{BaseURL: proxy.URL + "/api/v2.0", TokenURL: proxy.URL + "/test/oauth2/v2.0/token",
		ClientID: "flowd", ClientSecret: "s3cret", Company: sandbox.DefaultBCCompany})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "customers", Key: "c", Fields: erp.Record{"number": "C1", "displayName": "A"}}); err != nil {
		t.Fatal(err)
	}
	rec, err := d.Write(ctx, erp.Write{Op: erp.Update, Entity: "customers", Key: "u", Fields: erp.Record{"number": "C1", "displayName": "B"}})
	if err != nil || rec["displayName"] != "B" || patches.Load() != 2 {
		t.Fatalf("update = %v, %v after %d PATCHes", rec, err, patches.Load())
	}
}

func TestJournalPostsOnceWhereverACrashStopsIt(t *testing.T) {
	ctx := context.Background()
	journal := func(n int) erp.Journal {
		j := erp.Journal{Key: "stripe-payout:po_1", HeaderEntity: "journals", LineEntity: "journalLines", LinkField: "journalId"}
		for i := range n {
			amt := dec("1.25")
			if i%2 == 1 {
				amt = amt.Neg()
			}
			j.Lines = append(j.Lines, erp.Record{"accountNumber": fmt.Sprint(10000 + i), "amount": amt, "lineNumber": int64(i + 1),
				"postingDate": time.Date(2022, 3, 27, 0, 0, 0, 0, time.UTC), "description": "line"})
		}
		return j
	}
	for _, n := range []int{4, 230} { // 230 lines take three $batch requests
		sb, d, _ := start(t, sandbox.Config{})
		hdr, lines, err := d.PostJournal(ctx, journal(n))
		if err != nil {
			t.Fatal(err)
		}
		if hdr["code"] != bc.JournalCode("stripe-payout:po_1") || len(lines) != n {
			t.Fatalf("header %v, %d lines", hdr, len(lines))
		}
		if c, _ := sb.Count("generalLedgerEntries"); c != n {
			t.Fatalf("%d G/L entries, want %d", c, n)
		}
		if c, _ := sb.Count("journalLines"); c != 0 {
			t.Fatalf("%d journal lines left after posting", c)
		}
		// Posting again finds the entries and writes nothing.
		_, again, err := d.PostJournal(ctx, journal(n))
		if err != nil || len(again) != n || again[0]["documentNumber"] != bc.DocumentNumber("stripe-payout:po_1") {
			t.Fatalf("again: %d lines, %v", len(again), err)
		}
		if c, _ := sb.Count("generalLedgerEntries"); c != n {
			t.Fatalf("posted twice: %d G/L entries", c)
		}
		if got := sb.Requests()["POST $batch"]; got != (n+bc.MaxBatch-1)/bc.MaxBatch {
			t.Fatalf("%d $batch requests for %d lines", got, n)
		}
	}
	// Every answer of the posting lost in turn: the journal still posts once.
	for lose := 1; ; lose++ {
		sb, _, _ := start(t, sandbox.Config{})
		var sent atomic.Int32
		lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := sent.Add(1)
			sb.Handler().ServeHTTP(w, r)
			if int(n) == lose {
				panic(http.ErrAbortHandler) // the answer never arrives
			}
		}))
		d, _ := bc.New(bc.Config{BaseURL: lossy.URL + "/api/v2.0", TokenURL: lossy.URL + "/test/oauth2/v2.0/token",
			ClientID: "flowd", ClientSecret: "s3cret", Company: sandbox.DefaultBCCompany, Timeout: 2 * time.Second})
		_, _, err := d.PostJournal(ctx, journal(4))
		if err == nil && int(sent.Load()) < lose {
			lossy.Close()
			t.Logf("lost each of %d answers in turn; posted once every time", lose-1)
			break // every request's answer has been lost once
		}
		for range 3 {
			if _, _, err = d.PostJournal(ctx, journal(4)); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("lost answer %d: %v", lose, err)
		}
		if c, _ := sb.Count("generalLedgerEntries"); c != 4 {
			t.Fatalf("lost answer %d: %d G/L entries, want 4", lose, c)
		}
		lossy.Close()
	}
}

func TestUnbalancedJournalAndGarbageAreClearErrors(t *testing.T) {
	ctx := context.Background()
	_, d, _ := start(t, sandbox.Config{})
	j := erp.Journal{Key: "k", HeaderEntity: "journals", LineEntity: "journalLines", LinkField: "journalId",
		Lines: []erp.Record{{"accountNumber": "1", "amount": dec("1"), "postingDate": time.Now()}}}
	_, _, err := d.PostJournal(ctx, j)
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.Permanent || !strings.Contains(e.Message, "out of balance") {
		t.Fatalf("unbalanced: %v", err)
	}
	for name, answer := range map[string]string{
		"html":      "<html>oops</html>",
		"truncated": `{"value":[{"id":"x"`,
		"wrong":     `{"value":[{"id":"5d115c9c-44e3-ea11-bb43-000d3a2feca1","balanceDue":"lots"}]}`,
		"null":      `null`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, answer)
		}))
		d, _ := bc.New(bc.Config{BaseURL: srv.URL + "/api/v2.0", Company: "5d115c9c-44e3-ea11-bb43-000d3a2feca1"})
		_, _, err := d.Lookup(ctx, "customers", erp.Record{"number": "x"})
		if erp.KindOf(err) != erp.Permanent {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
		srv.Close()
	}
}

func TestRateLimitsAreTransientWithRetryAfter(t *testing.T) {
	sb, d, _ := start(t, sandbox.Config{})
	sb.SetFaults(sandbox.Faults{RateLimit: 1, RetryAfter: 3 * time.Second})
	_, _, err := d.Lookup(context.Background(), "customers", erp.Record{"number": "x"})
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.Transient || e.RetryAfter != 3*time.Second || e.Status != 429 {
		t.Fatalf("429: %#v", err)
	}
	sb.SetFaults(sandbox.Faults{ServerError: 1})
	if _, _, err := d.Lookup(context.Background(), "customers", erp.Record{"number": "x"}); erp.KindOf(err) != erp.Transient {
		t.Fatalf("5xx: %v", err)
	}
}

// A query reads every page of the records matching its conditions.
func TestQueryReadsEveryPage(t *testing.T) {
	_, d, _ := start(t, sandbox.Config{PageSize: 2})
	ctx := context.Background()
	for i, name := range []string{"Ada", "Grace", "Ada", "Ada", "Ada"} {
		if _, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "customers", Key: fmt.Sprintf("q:%d", i),
			Fields: erp.Record{"number": fmt.Sprintf("cus_%d", i), "displayName": name}}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := d.Query(ctx, "customers", erp.Record{"displayName": "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r["number"].(string))
	}
	if strings.Join(got, ",") != "cus_0,cus_2,cus_3,cus_4" {
		t.Errorf("Ada's customers: %v, want 4 over 2-record pages", got)
	}
	recs, err = d.QueryRange(ctx, "customers", erp.Record{"displayName": "Ada"}, []erp.Range{{Field: "number", Op: ">=", Value: "cus_3"}})
	got = nil
	for _, r := range recs {
		got = append(got, r["number"].(string))
	}
	if err != nil || strings.Join(got, ",") != "cus_3,cus_4" {
		t.Errorf("Ada's customers from cus_3: %v, %v", got, err)
	}
}
