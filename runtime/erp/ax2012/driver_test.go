package ax2012_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012"
	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/runtime/erp/ax2012/sandbox"
)

// env is a driver talking to a sandbox over loopback HTTP.
type env struct {
	sb  *sandbox.Server
	drv *ax2012.Driver
}

func newEnv(t *testing.T, cfg sandbox.Config, soap aif.Version) *env {
	t.Helper()
	sb := sandbox.New(cfg)
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	drv, err := ax2012.New(ax2012.Config{BaseURL: base, Port: "FlowServices", Company: "DAT", SOAPVersion: soap, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &env{sb: sb, drv: drv}
}

func kindOf(err error) string {
	var e *erp.Error
	if errors.As(err, &e) {
		return e.Kind.String()
	}
	return "not an erp.Error"
}

func (e *env) customer(t *testing.T, account string) {
	t.Helper()
	_, err := e.drv.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "CustTable", Key: "lookup:" + account,
		Fields: erp.Record{"AccountNum": account, "CustGroup": "30", "Currency": "USD", "Name": "Ada Lovelace"}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCustomerAndOrder(t *testing.T) {
	for _, v := range []aif.Version{aif.SOAP11, aif.SOAP12} {
		e := newEnv(t, sandbox.Config{}, v)
		ctx := context.Background()
		e.customer(t, "cus_1")
		got, found, err := e.drv.Lookup(ctx, "CustTable", erp.Record{"Name": "ada lovelace"})
		if err != nil || !found || got["AccountNum"] != "cus_1" || got["PartyNumber"] == nil {
			t.Fatalf("lookup by name = %v %v %v", got, found, err)
		}
		so, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "SalesTable", Key: "stripe:ch_1", Fields: erp.Record{
			"CustAccount": "cus_1", "CurrencyCode": "USD", "DeliveryDate": time.Date(2022, 3, 26, 0, 0, 0, 0, time.UTC), "PurchOrderFormNum": "ORD-1"}})
		if err != nil {
			t.Fatal(err)
		}
		if so["SalesId"] != "SO-000001" || so["CustomerRef"] != "stripe:ch_1" || so["SalesStatus"] != "Backorder" {
			t.Fatalf("order = %v", so)
		}
		line, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "SalesLine", Key: "stripe-line:ch_1", Fields: erp.Record{
			"SalesId": "SO-000001", "LineNum": int64(1), "ItemId": "STRIPE", "SalesQty": decimal.NewFromInt(1), "SalesPrice": decimal.RequireFromString("20.00")}})
		if err != nil {
			t.Fatal(err)
		}
		if !line["LineAmount"].(decimal.Decimal).Equal(decimal.NewFromInt(20)) || line["SalesId"] != "SO-000001" {
			t.Fatalf("line = %v", line)
		}
		// The same line again is the line already there.
		again, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "SalesLine", Key: "stripe-line:ch_1", Fields: erp.Record{
			"SalesId": "SO-000001", "LineNum": int64(1), "ItemId": "STRIPE", "SalesQty": decimal.NewFromInt(1)}})
		if err != nil || again["RecId"] != line["RecId"] {
			t.Fatalf("again = %v, %v", again, err)
		}
		found2, ok, err := e.drv.Find(ctx, erp.Write{Op: erp.Create, Entity: "SalesTable", Key: "stripe:ch_1", Fields: erp.Record{"CustAccount": "cus_1"}})
		if err != nil || !ok || found2["SalesId"] != "SO-000001" {
			t.Fatalf("find = %v %v %v", found2, ok, err)
		}
		upd, err := e.drv.Write(ctx, erp.Write{Op: erp.Update, Entity: "SalesTable", Key: "u1", Fields: erp.Record{"SalesId": "SO-000001", "SalesName": "Ada"}})
		if err != nil || upd["SalesName"] != "Ada" || upd["PurchOrderFormNum"] != "ORD-1" {
			t.Fatalf("update = %v %v", upd, err)
		}
		if n := len(mustRecords(t, e.sb, "SalesLine")); n != 1 {
			t.Fatalf("%d lines", n)
		}
	}
}

func mustRecords(t *testing.T, sb *sandbox.Server, table string) []map[string]string {
	t.Helper()
	recs, err := sb.Records("dat", table)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestValidationFaultIsPermanent(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, aif.SOAP11)
	_, err := e.drv.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "SalesTable", Key: "k", Fields: erp.Record{
		"CustAccount": "nobody", "CurrencyCode": "USD", "DeliveryDate": time.Now()}})
	if kindOf(err) != "permanent" || !strings.Contains(err.Error(), "Customer account nobody does not exist.") {
		t.Fatalf("err = %v (%s)", err, kindOf(err))
	}
	var ee *erp.Error
	if errors.As(err, &ee); ee.Status != 500 || ee.Code != "Error" {
		t.Fatalf("err = %+v", ee)
	}
}

func TestClientSideRefusals(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, aif.SOAP11)
	ctx := context.Background()
	cases := []struct {
		name string
		w    erp.Write
		want string
	}{
		{"float amount", erp.Write{Op: erp.Create, Entity: "CustTable", Key: "k", Fields: erp.Record{"AccountNum": "a", "CreditMax": 1.5}}, "want a decimal"},
		{"unknown field", erp.Write{Op: erp.Create, Entity: "CustTable", Key: "k", Fields: erp.Record{"AccountNum": "a", "Nmae": "x"}}, `no field "Nmae"`},
		{"too long", erp.Write{Op: erp.Create, Entity: "CustTable", Key: "k", Fields: erp.Record{"AccountNum": strings.Repeat("x", 21)}}, "longer than 20"},
		{"bad enum", erp.Write{Op: erp.Create, Entity: "CustTable", Key: "k", Fields: erp.Record{"AccountNum": "a", "Blocked": "Maybe"}}, "not one of"},
		{"no key, no anchor", erp.Write{Op: erp.Create, Entity: "CustTable", Key: "k", Fields: erp.Record{"CustGroup": "1"}}, "no field for the idempotency key"},
		{"journal line alone", erp.Write{Op: erp.Create, Entity: "LedgerJournalTrans", Key: "k", Fields: erp.Record{"JournalNum": "1"}}, "post them with their header"},
		{"unknown table", erp.Write{Op: erp.Create, Entity: "VendTable", Key: "k"}, "unknown table"},
		{"line without its number", erp.Write{Op: erp.Create, Entity: "SalesLine", Key: "k", Fields: erp.Record{"SalesId": "SO-1", "ItemId": "STRIPE"}}, "set LineNum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.drv.Write(ctx, tc.w)
			if kindOf(err) != "permanent" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if n := e.sb.Requests()["CustomerService.create"]; n != 0 {
		t.Fatalf("%d creates reached the service", n)
	}
}

func TestDeadlockIsTransient(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, aif.SOAP11)
	e.sb.Inject(sandbox.Fault{Service: "CustomerService", Operation: "create", Kind: sandbox.Deadlock})
	_, err := e.drv.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "CustTable", Key: "k",
		Fields: erp.Record{"AccountNum": "c1", "CustGroup": "30", "Currency": "USD", "Name": "N"}})
	if kindOf(err) != "transient" || !strings.Contains(err.Error(), "Deadlock") {
		t.Fatalf("err = %v (%s)", err, kindOf(err))
	}
	e.sb.Inject(sandbox.Fault{Kind: sandbox.Unavailable})
	_, _, err = e.drv.Lookup(context.Background(), "CustTable", erp.Record{"AccountNum": "c1"})
	if kindOf(err) != "transient" || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v (%s)", err, kindOf(err))
	}
}

// A create whose answer is lost is in doubt; sending it again (same
// MessageId) does not create a second order, whether AX replays its first
// answer or rejects the duplicate.
func TestLostAnswerIsInDoubtAndRetryIsIdempotent(t *testing.T) {
	for _, reject := range []bool{false, true} {
		e := newEnv(t, sandbox.Config{RejectDuplicates: reject}, aif.SOAP11)
		ctx := context.Background()
		e.customer(t, "cus_1")
		w := erp.Write{Op: erp.Create, Entity: "SalesTable", Key: "stripe:ch_1", Fields: erp.Record{
			"CustAccount": "cus_1", "CurrencyCode": "USD", "DeliveryDate": time.Date(2022, 3, 26, 0, 0, 0, 0, time.UTC)}}
		e.sb.Inject(sandbox.Fault{Service: "SalesOrderService", Operation: "create", Kind: sandbox.DropAfter})
		_, err := e.drv.Write(ctx, w)
		if kindOf(err) != "in doubt" {
			t.Fatalf("reject=%v: err = %v (%s)", reject, err, kindOf(err))
		}
		rec, err := e.drv.Write(ctx, w)
		if err != nil || rec["SalesId"] != "SO-000001" {
			t.Fatalf("reject=%v: retry = %v %v", reject, rec, err)
		}
		if n := len(mustRecords(t, e.sb, "SalesTable")); n != 1 {
			t.Fatalf("reject=%v: %d orders", reject, n)
		}
		e.sb.Inject(sandbox.Fault{Kind: sandbox.DropBefore})
		if _, _, err := e.drv.Lookup(ctx, "SalesTable", erp.Record{"SalesId": "SO-000001"}); kindOf(err) != "transient" {
			t.Fatalf("a read without an answer: %v (%s)", err, kindOf(err))
		}
	}
}

func journal(key string, lines ...erp.Record) erp.Journal {
	return erp.Journal{Key: key, HeaderEntity: "LedgerJournalTable", LineEntity: "LedgerJournalTrans", LinkField: "JournalNum",
		Header: erp.Record{"JournalName": "GenJrn"}, Lines: lines}
}

func jline(account, side, amount string) erp.Record {
	field := "AmountCurDebit"
	if side == "credit" {
		field = "AmountCurCredit"
	}
	return erp.Record{"LedgerDimension": account, "AccountType": "Ledger", field: decimal.RequireFromString(amount),
		"CurrencyCode": "USD", "TransDate": time.Date(2022, 3, 27, 0, 0, 0, 0, time.UTC), "Txt": "payout"}
}

func TestPostJournal(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, aif.SOAP11)
	ctx := context.Background()
	j := journal("stripe-payout:po_000000000000000000000006", jline("110110", "debit", "176.19"), jline("110150", "credit", "176.19"))
	e.sb.Inject(sandbox.Fault{Service: "GeneralJournalService", Operation: "create", Kind: sandbox.DropAfter})
	if _, _, err := e.drv.PostJournal(ctx, j); kindOf(err) != "in doubt" {
		t.Fatalf("err = %v", err)
	}
	h, lines, err := e.drv.PostJournal(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	if h["JournalNum"] != "000001" || h["Name"] != "stripe-payout:po_000000000000000000000006" || len(lines) != 2 {
		t.Fatalf("journal = %v %v", h, lines)
	}
	if lines[0]["JournalNum"] != "000001" || !lines[1]["AmountCurCredit"].(decimal.Decimal).Equal(decimal.RequireFromString("176.19")) ||
		lines[0]["LedgerDimension"] != "110110" || lines[1]["LineNum"].(decimal.Decimal).IntPart() != 2 {
		t.Fatalf("lines = %v", lines)
	}
	if n := len(mustRecords(t, e.sb, "LedgerJournalTable")); n != 1 {
		t.Fatalf("%d journals", n)
	}
	// Unbalanced: AX refuses the whole document.
	_, _, err = e.drv.PostJournal(ctx, journal("k2", jline("110110", "debit", "1.00"), jline("110150", "credit", "0.99")))
	if kindOf(err) != "permanent" || !strings.Contains(err.Error(), "do not balance") {
		t.Fatalf("err = %v", err)
	}
	if n := len(mustRecords(t, e.sb, "LedgerJournalTrans")); n != 2 {
		t.Fatalf("%d lines after a refused journal", n)
	}
}

func TestNew(t *testing.T) {
	for _, cfg := range []ax2012.Config{{BaseURL: "ftp://x", Port: "p"}, {BaseURL: "http://x"}, {BaseURL: "http://x", Port: "p", SOAPVersion: 7}} {
		if _, err := ax2012.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// A query returns every record matching its conditions (AIF finds by one,
// the driver matches the others).
func TestQueryReturnsEveryMatchingRecord(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, aif.SOAP11)
	for _, acct := range []string{"US-001", "US-002"} {
		e.customer(t, acct)
	}
	ctx := context.Background()
	if _, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustTable", Key: "lookup:US-003",
		Fields: erp.Record{"AccountNum": "US-003", "CustGroup": "40", "Currency": "USD", "Name": "Ada Lovelace"}}); err != nil {
		t.Fatal(err)
	}
	recs, err := e.drv.Query(ctx, "CustTable", erp.Record{"Name": "Ada Lovelace", "CustGroup": "30"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprint(r["AccountNum"]))
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "US-001,US-002" {
		t.Errorf("group 30's Adas: %v", got)
	}
}
