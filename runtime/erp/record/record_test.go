package record_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/record"
	"github.com/flowhq/flow/stdlib/d365fo"
)

func run(t *testing.T, d *record.Driver) {
	t.Helper()
	ctx := context.Background()
	must := func(_ erp.Record, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "cust:1", Fields: erp.Record{
		"CustomerAccount": "US-001", "CreditLimit": decimal.RequireFromString("1234.50"), "OrganizationName": "O'Brien",
		"CredManLastReviewDate": time.Date(2024, 1, 31, 9, 0, 0, 0, time.FixedZone("EST", -5*3600))}}))
	must(d.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "SalesOrderHeadersV2", Key: "stripe:ch_1", Fields: erp.Record{"OrderingCustomerAccountNumber": "US-001"}}))
	must(d.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "SalesOrderHeadersV2", Key: "stripe:ch_1", Fields: erp.Record{"SalesOrderName": "again"}}))
	_, _, err := d.PostJournal(ctx, erp.Journal{Key: "payout:po_1", HeaderEntity: "LedgerJournalHeaders", Header: erp.Record{"JournalName": "GenJrn"},
		LineEntity: "LedgerJournalLines", LinkField: "JournalBatchNumber", Lines: []erp.Record{
			{"AccountDisplayValue": "110180-", "DebitAmount": decimal.RequireFromString("10.00")},
			{"AccountDisplayValue": "110150-", "CreditAmount": decimal.RequireFromString("10")},
		}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLogIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	run(t, record.New(&a, d365fo.Default()))
	run(t, record.New(&b, d365fo.Default()))
	if a.String() != b.String() {
		t.Fatalf("two equal runs logged differently:\n%s\n%s", a.String(), b.String())
	}
	want := `{"op":"create","entity":"CustomersV3","key":"cust:1","fields":{"CredManLastReviewDate":"2024-01-31T14:00:00Z","CreditLimit":1234.5,"CustomerAccount":"US-001","OrganizationName":"O'Brien"}}
{"op":"upsert","entity":"SalesOrderHeadersV2","key":"stripe:ch_1","fields":{"OrderingCustomerAccountNumber":"US-001"}}
{"op":"upsert","entity":"SalesOrderHeadersV2","key":"stripe:ch_1","fields":{"SalesOrderName":"again"}}
{"op":"journal","entity":"LedgerJournalHeaders","key":"payout:po_1","fields":{"JournalName":"GenJrn"},"line_entity":"LedgerJournalLines","lines":[{"AccountDisplayValue":"110180-","DebitAmount":10},{"AccountDisplayValue":"110150-","CreditAmount":10}]}
`
	if a.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", a.String(), want)
	}
}

func TestReadsWhatItWrote(t *testing.T) {
	var log bytes.Buffer
	d := record.New(&log, d365fo.Default())
	run(t, d)
	ctx := context.Background()

	c, ok, err := d.Lookup(ctx, "CustomersV3", erp.Record{"CreditLimit": decimal.RequireFromString("1234.5000"), "OrganizationName": "O'Brien"})
	if err != nil || !ok || c["CustomerAccount"] != "US-001" {
		t.Errorf("Lookup by an equal decimal: %v %v %v", c, ok, err)
	}
	so, ok, _ := d.Find(ctx, erp.Write{Entity: "SalesOrderHeadersV2", Key: "stripe:ch_1"})
	// Generated numbers come from the idempotency key, so two runs number alike.
	if !ok || so["SalesOrderNumber"] != "SalesOrderHeadersV2-f7d877b6" || so["SalesOrderName"] != "again" || so["OrderingCustomerAccountNumber"] != "US-001" {
		t.Errorf("upserted order: %v", so)
	}
	h, ok, _ := d.Find(ctx, erp.Write{Entity: "LedgerJournalHeaders", Key: "payout:po_1"})
	if !ok || h["JournalBatchNumber"] != "LedgerJournalHeaders-52478144" {
		t.Errorf("journal header: %v", h)
	}
	line, ok, _ := d.Lookup(ctx, "LedgerJournalLines", erp.Record{"JournalBatchNumber": "LedgerJournalHeaders-52478144", "LineNumber": int64(2)})
	if !ok || line["AccountDisplayValue"] != "110150-" {
		t.Errorf("second journal line: %v", line)
	}
	before := log.Len()
	_, lines, err := d.PostJournal(ctx, erp.Journal{Key: "payout:po_1", HeaderEntity: "LedgerJournalHeaders", LineEntity: "LedgerJournalLines", LinkField: "JournalBatchNumber"})
	if err != nil || len(lines) != 2 || log.Len() != before {
		t.Errorf("reposting a journal: %d lines, %v, logged %d more bytes", len(lines), err, log.Len()-before)
	}
	if _, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Fields: erp.Record{"CreditLimit": 1.5}}); err == nil || erp.KindOf(err) != erp.Permanent {
		t.Errorf("a float amount: %v, want a Permanent error", err)
	}
}

func TestConcurrentWrites(t *testing.T) {
	var log syncBuffer
	d := record.New(&log, d365fo.Default())
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "LedgerJournalHeaders", Key: fmt.Sprint("k", i), Fields: erp.Record{"JournalName": "GenJrn"}})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(log.String(), "\n"); n != 50 {
		t.Errorf("%d lines logged, want 50", n)
	}
	seen := map[any]bool{}
	for i := range 50 {
		r, ok, _ := d.Find(context.Background(), erp.Write{Entity: "LedgerJournalHeaders", Key: fmt.Sprint("k", i)})
		if !ok || seen[r["JournalBatchNumber"]] {
			t.Fatalf("key k%d: %v (numbers must be distinct)", i, r)
		}
		seen[r["JournalBatchNumber"]] = true
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
