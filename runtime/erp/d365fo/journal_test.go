package d365fo_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/d365fo"
	"github.com/flowhq/flow/runtime/erp/sandbox"
)

func journal(key string, lines ...erp.Record) erp.Journal {
	return erp.Journal{
		Key:          key,
		HeaderEntity: "LedgerJournalHeaders",
		Header:       erp.Record{"JournalName": "GenJrn"},
		LineEntity:   "LedgerJournalLines",
		Lines:        lines,
		LinkField:    "JournalBatchNumber",
	}
}

func ledgerLine(account, side, amount string) erp.Record {
	r := erp.Record{"AccountType": "Ledger", "AccountDisplayValue": account, "CurrencyCode": "USD",
		"TransDate": time.Date(2024, 7, 3, 0, 0, 0, 0, time.UTC), "Text": "payout po_1"}
	if account == "" {
		delete(r, "AccountDisplayValue")
	}
	r[side] = decimal.RequireFromString(amount)
	return r
}

func TestPostJournal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	j := journal("payout:po_1",
		ledgerLine("110180-", "DebitAmount", "100.10"),
		ledgerLine("618100-", "DebitAmount", "2.90"),
		ledgerLine("110150-", "CreditAmount", "103.00"))
	header, lines, err := e.drv.PostJournal(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	if header["JournalBatchNumber"] != "GJ-000001" || header["Description"] != "payout:po_1" || len(lines) != 3 {
		t.Fatalf("header %v with %d lines", header, len(lines))
	}
	for i, l := range lines {
		if l["JournalBatchNumber"] != "GJ-000001" || !l["LineNumber"].(decimal.Decimal).Equal(decimal.NewFromInt(int64(i+1))) {
			t.Errorf("line %d: %v / %v", i+1, l["JournalBatchNumber"], l["LineNumber"])
		}
	}
	if d := lines[0]["DebitAmount"].(decimal.Decimal); d.String() != "100.1" {
		t.Errorf("debit %v", d)
	}
	r := e.sb.Requests()
	if r["POST $batch"] != 1 || r["batch POST collection"] != 3 || r["POST collection"] != 1 {
		t.Errorf("requests %v: want the header POST and one $batch with 3 lines", r)
	}

	// Posting again with the same key finds the journal and writes nothing.
	again, lines2, err := e.drv.PostJournal(ctx, j)
	if err != nil || again["JournalBatchNumber"] != "GJ-000001" || len(lines2) != 3 {
		t.Fatalf("repost: %v, %d lines, %v", again, len(lines2), err)
	}
	if e.count(t, "LedgerJournalHeaders") != 1 || e.count(t, "LedgerJournalLines") != 3 {
		t.Errorf("repost wrote again: %d headers, %d lines", e.count(t, "LedgerJournalHeaders"), e.count(t, "LedgerJournalLines"))
	}
	found, ok, err := e.drv.Find(ctx, erp.Write{Entity: "LedgerJournalHeaders", Key: "payout:po_1"})
	if err != nil || !ok || found["JournalBatchNumber"] != "GJ-000001" {
		t.Errorf("Find: %v %v %v", found, ok, err)
	}
}

func TestPostJournalIsAtomic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bad := journal("payout:po_2",
		ledgerLine("110180-", "DebitAmount", "50"),
		ledgerLine("", "CreditAmount", "50")) // no account: validateWrite fails
	_, _, err := e.drv.PostJournal(ctx, bad)
	if err == nil || kindOf(t, err) != erp.Permanent || !strings.Contains(err.Error(), "Field 'AccountDisplayValue' must be filled in.") ||
		!strings.Contains(err.Error(), "operation 2") {
		t.Fatalf("bad line: %v, want a Permanent error from operation 2", err)
	}
	if n := e.count(t, "LedgerJournalLines"); n != 0 {
		t.Fatalf("a failed changeset left %d lines", n)
	}

	// The corrected journal reuses the header the failed attempt created.
	good := journal("payout:po_2", ledgerLine("110180-", "DebitAmount", "50"), ledgerLine("110150-", "CreditAmount", "50"))
	header, lines, err := e.drv.PostJournal(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if header["JournalBatchNumber"] != "GJ-000001" || len(lines) != 2 || e.count(t, "LedgerJournalHeaders") != 1 {
		t.Errorf("retry: header %v, %d lines, %d headers", header["JournalBatchNumber"], len(lines), e.count(t, "LedgerJournalHeaders"))
	}
}

// TestFaultsMapToKinds injects each sandbox fault and checks the kind the
// driver reports for a read, a write and a journal.
func TestFaultsMapToKinds(t *testing.T) {
	tests := []struct {
		name   string
		faults sandbox.Faults
		read   erp.Kind
		write  erp.Kind
		status int // 0: no answer
	}{
		{"rate limit", sandbox.Faults{RateLimit: 1, RetryAfter: 3 * time.Second}, erp.Transient, erp.Transient, 429},
		{"server error", sandbox.Faults{ServerError: 1}, erp.Transient, erp.Transient, -1},
		{"timeout", sandbox.Faults{Timeout: 1}, erp.Transient, erp.InDoubt, 0},
		{"lost reply", sandbox.Faults{LostReply: 1}, erp.Transient, erp.InDoubt, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *d365fo.Config) { c.Timeout = 300 * time.Millisecond })
			ctx := context.Background()
			if _, _, err := e.drv.Lookup(ctx, "Currencies", erp.Record{}); err != nil { // fetch the token first
				t.Fatal(err)
			}
			e.sb.SetFaults(tc.faults)
			_, _, rerr := e.drv.Lookup(ctx, "Currencies", erp.Record{"CurrencyCode": "USD"})
			_, werr := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "cust:1", Fields: customer("US-001")})
			_, _, jerr := e.drv.PostJournal(ctx, journal("payout:po_9", ledgerLine("110180-", "DebitAmount", "1"), ledgerLine("110150-", "CreditAmount", "1")))
			for what, c := range map[string]struct {
				err  error
				want erp.Kind
			}{"read": {rerr, tc.read}, "write": {werr, tc.write}, "journal": {jerr, tc.read}} { // a journal starts with a lookup
				var ee *erp.Error
				if !errors.As(c.err, &ee) || ee.Kind != c.want {
					t.Errorf("%s: %v, want kind %v", what, c.err, c.want)
					continue
				}
				if tc.status > 0 && ee.Status != tc.status || tc.status == 0 && ee.Status != 0 || tc.status < 0 && ee.Status < 500 {
					t.Errorf("%s: status %d", what, ee.Status)
				}
				if tc.status == 429 && ee.RetryAfter != 3*time.Second {
					t.Errorf("%s: RetryAfter %v, want 3s", what, ee.RetryAfter)
				}
			}
			if tc.write != erp.InDoubt {
				return
			}
			// Settle the writes in doubt: Find tells whether they landed.
			e.sb.SetFaults(sandbox.Faults{})
			_, found, err := e.drv.Find(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "cust:1", Fields: customer("US-001")})
			if err != nil || found != (tc.name == "lost reply") {
				t.Errorf("Find after %s: found=%v err=%v", tc.name, found, err)
			}
			_, found, err = e.drv.Find(ctx, erp.Write{Entity: "LedgerJournalHeaders", Key: "payout:po_9"})
			if err != nil || found {
				t.Errorf("Find of the journal after %s: found=%v err=%v (its header POST already failed)", tc.name, found, err)
			}
		})
	}
}

// TestLostJournalReplyIsSettled loses the answer to the lines' $batch: the
// lines landed, Find says so, and posting again adds nothing.
func TestLostJournalReplyIsSettled(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	j := journal("payout:po_3", ledgerLine("110180-", "DebitAmount", "7"), ledgerLine("110150-", "CreditAmount", "7"))
	if _, _, err := e.drv.Lookup(ctx, "Currencies", erp.Record{}); err != nil {
		t.Fatal(err)
	}
	e.drv = freshDriver(t, e, &onlyBatch{sb: e.sb})
	_, _, err := e.drv.PostJournal(ctx, j)
	if err == nil || kindOf(t, err) != erp.InDoubt {
		t.Fatalf("lost $batch answer: %v, want InDoubt", err)
	}
	e.sb.SetFaults(sandbox.Faults{})
	if _, found, err := e.drv.Find(ctx, erp.Write{Entity: "LedgerJournalHeaders", Key: "payout:po_3"}); err != nil || !found {
		t.Fatalf("Find: found=%v err=%v", found, err)
	}
	_, lines, err := e.drv.PostJournal(ctx, j)
	if err != nil || len(lines) != 2 || e.count(t, "LedgerJournalLines") != 2 {
		t.Errorf("repost after the lost answer: %d lines returned, %d stored, %v", len(lines), e.count(t, "LedgerJournalLines"), err)
	}
}

// onlyBatch is a transport that turns the sandbox's LostReply fault on just
// before a $batch request goes out, so the header POST before it succeeds.
type onlyBatch struct{ sb *sandbox.Server }

func (o *onlyBatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/$batch") {
		o.sb.SetFaults(sandbox.Faults{LostReply: 1})
	}
	return http.DefaultTransport.RoundTrip(r)
}

// freshDriver is a second driver on e's sandbox, as after a restart,
// sending through rt (nil: the default transport).
func freshDriver(t *testing.T, e *env, rt http.RoundTripper) *d365fo.Driver {
	t.Helper()
	drv, err := d365fo.New(d365fo.Config{BaseURL: e.base, TokenURL: e.base + "/contoso/oauth2/token", ClientID: "app",
		ClientSecret: "s3cret", Company: "usmf", Timeout: 2 * time.Second, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	return drv
}

// TestLostReplySettledAfterRestart loses the answer to a create, then asks
// a fresh driver (the process crashed): the anchor field settles it.
func TestLostReplySettledAfterRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, _, err := e.drv.Lookup(ctx, "Currencies", erp.Record{}); err != nil {
		t.Fatal(err)
	}
	e.sb.SetFaults(sandbox.Faults{LostReply: 1})
	_, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "SalesOrderHeadersV2", Key: "stripe:ch_42",
		Fields: erp.Record{"OrderingCustomerAccountNumber": "US-001"}})
	if err == nil || kindOf(t, err) != erp.InDoubt {
		t.Fatalf("lost reply: %v, want InDoubt", err)
	}
	e.sb.SetFaults(sandbox.Faults{})
	fresh := freshDriver(t, e, nil)
	rec, found, err := fresh.Find(ctx, erp.Write{Entity: "SalesOrderHeadersV2", Key: "stripe:ch_42"})
	if err != nil || !found || rec["SalesOrderNumber"] != "SO-000001" {
		t.Errorf("Find from a fresh driver: %v %v %v", rec["SalesOrderNumber"], found, err)
	}
	if _, found, _ := fresh.Find(ctx, erp.Write{Entity: "SalesOrderHeadersV2", Key: "stripe:ch_43"}); found {
		t.Error("Find found a key never written")
	}
}
