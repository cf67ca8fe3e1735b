package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/runtime/erp"
)

// memERP is an in-memory ERP for unit tests of the engine; the real driver
// is tested against the sandbox over HTTP.
type memERP struct {
	mu      sync.Mutex
	records map[string][]erp.Record
	keys    map[string]erp.Record
	next    int
	fail    error // returned once by the next Write
	lookups int   // Lookup calls
	// existing makes Find report a record for every write, as a natural
	// key lookup does when the record was in the ERP before the flow ran.
	existing bool
}

func newMemERP() *memERP {
	return &memERP{records: map[string][]erp.Record{}, keys: map[string]erp.Record{}}
}

func (m *memERP) Lookup(_ context.Context, entity string, where erp.Record) (erp.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
next:
	for _, r := range m.records[entity] {
		for k, v := range where {
			if fmt.Sprint(r[k]) != fmt.Sprint(v) {
				continue next
			}
		}
		return r, true, nil
	}
	return nil, false, nil
}

func (m *memERP) Write(_ context.Context, w erp.Write) (erp.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := erp.Record{}
	for k, v := range w.Fields {
		rec[k] = v
	}
	if w.Entity == "CustomerPaymentJournalHeaders" || w.Entity == "LedgerJournalHeaders" {
		m.next++
		rec["JournalBatchNumber"] = fmt.Sprintf("JB-%05d", m.next)
	}
	m.records[w.Entity] = append(m.records[w.Entity], rec)
	m.keys[w.Key] = rec
	if err := m.fail; err != nil {
		m.fail = nil
		return nil, err
	}
	return rec, nil
}

func (m *memERP) Find(_ context.Context, w erp.Write) (erp.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.existing {
		return erp.Record{"existing": true}, true, nil
	}
	r, ok := m.keys[w.Key]
	return r, ok, nil
}

func (m *memERP) PostJournal(ctx context.Context, j erp.Journal) (erp.Record, []erp.Record, error) {
	h, err := m.Write(ctx, erp.Write{Op: erp.Create, Entity: j.HeaderEntity, Key: j.Key, Fields: j.Header})
	if err != nil {
		return nil, nil, err
	}
	var lines []erp.Record
	for _, l := range j.Lines {
		l[j.LinkField] = h[j.LinkField]
		r, err := m.Write(ctx, erp.Write{Op: erp.Create, Entity: j.LineEntity, Fields: l})
		if err != nil {
			return nil, nil, err
		}
		lines = append(lines, r)
	}
	return h, lines, nil
}

func (m *memERP) count(entity string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.records[entity])
}

type memLedger struct {
	sync.Mutex
	m map[string]erp.Record
}

func (l *memLedger) Get(_ context.Context, key string) (erp.Record, bool, error) {
	l.Lock()
	defer l.Unlock()
	r, ok := l.m[key]
	return r, ok, nil
}

func (l *memLedger) Put(_ context.Context, key, _ string, rec erp.Record) error {
	l.Lock()
	defer l.Unlock()
	if _, ok := l.m[key]; !ok {
		l.m[key] = rec
	}
	return nil
}

type listFunc func(list string, args map[string]any) ([]map[string]any, error)

func (f listFunc) List(_ context.Context, list string, args map[string]any) ([]map[string]any, error) {
	return f(list, args)
}

// loadSource loads one flow file's source as a program.
func loadSource(t *testing.T, src string) *Program {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "l.flow"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	prog, diags, err := Load(dir, compiler.Config{})
	if err != nil || prog == nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	return prog
}

func loadProgram(t *testing.T) *Program {
	t.Helper()
	p, diags, err := Load("../../flows/stripe_d365", compiler.Config{})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	return p
}

func event(t *testing.T, file string, edit func(obj map[string]any)) *Event {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytesReader(b))
	d.UseNumber()
	var body map[string]any
	if err := d.Decode(&body); err != nil {
		t.Fatal(err)
	}
	obj := body["data"].(map[string]any)["object"].(map[string]any)
	if edit != nil {
		edit(obj)
	}
	return &Event{ID: body["id"].(string), Source: "stripe", Type: body["type"].(string), Received: time.Unix(1700000000, 0), Body: body}
}

func TestOrderToCash(t *testing.T) {
	prog := loadProgram(t)
	ev := event(t, "../../testdata/stripe/events/charge.succeeded.json", func(o map[string]any) {
		o["customer"] = "cus_9s6XKzkNRiz8i3"
		o["metadata"] = map[string]any{"order_id": "SO-1001"}
		o["billing_details"].(map[string]any)["name"] = "Jenny Rosen"
	})
	flows := prog.Flows("stripe", "charge.succeeded")
	if len(flows) != 1 {
		t.Fatalf("%d flows for charge.succeeded", len(flows))
	}
	m := newMemERP()
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	res, err := flows[0].Run(context.Background(), env, ev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Done || res.Writes != 4 {
		t.Fatalf("result = %+v", res)
	}
	cust := m.records["CustomersV3"][0]
	if cust["CustomerAccount"] != "cus_9s6XKzkNRiz8i3" || cust["OrganizationName"] != "Jenny Rosen" || cust["SalesCurrencyCode"] != "USD" {
		t.Errorf("customer = %v", cust)
	}
	line := m.records["CustomerPaymentJournalLines"][0]
	if amt, ok := line["CreditAmount"].(decimal.Decimal); !ok || amt.String() != "20" {
		t.Errorf("CreditAmount = %#v, want decimal 20 (2000 cents)", line["CreditAmount"])
	}
	if line["JournalBatchNumber"] != "JB-00001" || line["AccountDisplayValue"] != "cus_9s6XKzkNRiz8i3" {
		t.Errorf("line = %v", line)
	}
	if d, ok := line["TransactionDate"].(time.Time); !ok || d.Format("2006-01-02") == "" {
		t.Errorf("TransactionDate = %#v", line["TransactionDate"])
	}

	// The same event again writes nothing: every key is in the ledger.
	res, err = flows[0].Run(context.Background(), env, ev, Options{})
	if err != nil || res.Writes != 0 || res.Reused != 3 {
		t.Fatalf("second run = %+v, %v", res, err)
	}
	if n := m.count("SalesOrderHeadersV2"); n != 1 {
		t.Fatalf("%d sales orders after a redelivery", n)
	}
}

func TestWriteInDoubtIsSettledNotRepeated(t *testing.T) {
	prog := loadProgram(t)
	ev := event(t, "../../testdata/stripe/events/charge.succeeded.json", func(o map[string]any) {
		o["customer"] = "cus_1"
		o["metadata"] = map[string]any{"order_id": "SO-1"}
	})
	m := newMemERP()
	m.fail = &erp.Error{Kind: erp.InDoubt, Message: "connection reset after the request was sent"}
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	f := prog.Flows("stripe", "charge.succeeded")[0]
	if _, err := f.Run(context.Background(), env, ev, Options{}); err != nil {
		t.Fatal(err)
	}
	// The customer create's answer was lost; it was found again by lookup,
	// and nothing was written twice.
	for _, e := range []string{"CustomersV3", "SalesOrderHeadersV2", "CustomerPaymentJournalHeaders", "CustomerPaymentJournalLines"} {
		if n := m.count(e); n != 1 {
			t.Errorf("%s: %d records, want 1", e, n)
		}
	}
}

func TestGuardSkipsAndCELErrorsAreDead(t *testing.T) {
	prog := loadProgram(t)
	f := prog.Flows("stripe", "charge.succeeded")[0]
	env := &Env{ERP: map[string]erp.Driver{"erp": newMemERP()}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := event(t, "../../testdata/stripe/events/charge.succeeded.json", nil) // no order_id
	res, err := f.Run(context.Background(), env, ev, Options{})
	if err != nil || res.Status != Skipped {
		t.Fatalf("no order_id: %+v, %v", res, err)
	}
	ev = event(t, "../../testdata/stripe/events/charge.succeeded.json", func(o map[string]any) {
		o["metadata"] = map[string]any{"order_id": "SO-1"}
		o["amount"] = "twenty" // not what the schema promises
	})
	_, err = f.Run(context.Background(), env, ev, Options{})
	var e *Error
	if !asError(err, &e) || e.Class != Dead {
		t.Fatalf("bad amount: err = %v", err)
	}
}

func TestPayoutJournalBalances(t *testing.T) {
	prog := loadProgram(t)
	// The payout is what its transactions net to.
	ev := event(t, "../../testdata/stripe/events/payout.paid.json", func(o map[string]any) { o["amount"] = json.Number("10680") })
	f := prog.Flows("stripe", "payout.paid")[0]
	m := newMemERP()
	bts := func(string, map[string]any) ([]map[string]any, error) {
		mk := func(cat string, net int64) map[string]any {
			n := json.Number(fmt.Sprint(net))
			return map[string]any{"reporting_category": cat, "currency": "usd", "amount": n, "fee": json.Number("0"), "net": n}
		}
		return []map[string]any{mk("charge", 10000), mk("charge", 2500), mk("refund", -1500), mk("fee", -320)}, nil
	}
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)},
		Ledger: &memLedger{m: map[string]erp.Record{}}}
	res, err := f.Run(context.Background(), env, ev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := m.records["LedgerJournalLines"]
	if len(lines) != 6 || res.Writes != 7 {
		t.Fatalf("%d lines, %d writes; want 6 lines (3 groups x 2) and 7 writes", len(lines), res.Writes)
	}
	debit, credit := decimal.Zero, decimal.Zero
	for _, l := range lines {
		if d, ok := l["DebitAmount"].(decimal.Decimal); ok {
			debit = debit.Add(d)
		}
		if c, ok := l["CreditAmount"].(decimal.Decimal); ok {
			credit = credit.Add(c)
		}
	}
	if !debit.Equal(credit) || debit.String() != "143.2" {
		t.Fatalf("debits %s, credits %s; want both 143.20 (125 + 15 + 3.20)", debit, credit)
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func asError(err error, target **Error) bool { return errors.As(err, target) }

// A retried run must still apply an upsert to a record that existed before
// the flow ran: settling is for creates, whose repetition would double.
func TestSettleDoesNotSkipUpserts(t *testing.T) {
	prog := loadProgram(t)
	ev := event(t, "../../testdata/stripe/events/charge.succeeded.json", func(o map[string]any) {
		o["customer"] = "cus_1"
		o["metadata"] = map[string]any{"order_id": "SO-1"}
	})
	m := newMemERP()
	m.existing = true
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	if _, err := prog.Flows("stripe", "charge.succeeded")[0].Run(context.Background(), env, ev, Options{Settle: true}); err != nil {
		t.Fatal(err)
	}
	if n := m.count("SalesOrderHeadersV2"); n != 1 {
		t.Fatalf("the upsert was skipped on a retry (%d writes)", n)
	}
	if n := m.count("CustomerPaymentJournalHeaders"); n != 0 {
		t.Fatalf("a create was repeated although Find had the record (%d writes)", n)
	}
}

// Zero- and three-decimal currencies keep their exponents through the
// ledger: the balance transactions are the real fixture shape with the
// currency and net changed (JPY has no minor unit, KWD has three).
func TestPayoutJournalInZeroAndThreeDecimalCurrencies(t *testing.T) {
	prog := loadProgram(t)
	f := prog.Flows("stripe", "payout.paid")[0]
	for _, tc := range []struct {
		currency string
		net      int64
		want     string
	}{{"jpy", 1000, "1000"}, {"kwd", 1234, "1.234"}, {"usd", 1234, "12.34"}} {
		m := newMemERP()
		bts := func(string, map[string]any) ([]map[string]any, error) {
			n := json.Number(fmt.Sprint(tc.net))
			return []map[string]any{{"reporting_category": "charge", "currency": tc.currency, "amount": n, "fee": json.Number("0"), "net": n}}, nil
		}
		env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)},
			Ledger: &memLedger{m: map[string]erp.Record{}}}
		ev := event(t, "../../testdata/stripe/events/payout.paid.json", func(o map[string]any) {
			o["id"], o["currency"], o["amount"] = "po_"+tc.currency, tc.currency, json.Number(fmt.Sprint(tc.net))
		})
		if _, err := f.Run(context.Background(), env, ev, Options{}); err != nil {
			t.Fatalf("%s: %v", tc.currency, err)
		}
		lines := m.records["LedgerJournalLines"]
		if len(lines) != 2 {
			t.Fatalf("%s: %d lines", tc.currency, len(lines))
		}
		if got := lines[0]["CreditAmount"].(decimal.Decimal).String(); got != tc.want || lines[0]["CurrencyCode"] != strings.ToUpper(tc.currency) {
			t.Errorf("%s: credit %s %v, want %s", tc.currency, got, lines[0]["CurrencyCode"], tc.want)
		}
	}
}

// A journal whose postings all have amounts that do not cancel out is
// caught before anything is written, with the difference.
func TestUnbalancedJournalIsADeadLetterAndWritesNothing(t *testing.T) {
	prog := loadSource(t, `package p

import "stripe"
import "d365fo" as erp

ledger l {
    on stripe.payout.paid as ev
    for bt in stripe.balance_transactions(payout: ev.data.object.id)
    group by bt.currency as currency
    journal erp.LedgerJournalLines key "po:" + ev.data.object.id {
        header { JournalName: "GenJrn" }
        CurrencyCode: upper(currency),
        TransDate: date(ev.data.object.arrival_date, "UTC"),
        credit "401100" amount money(sum(bt.net), currency)
        debit "110150" amount money(sum(bt.fee), currency)
    }
}
`)
	m := newMemERP()
	bts := func(string, map[string]any) ([]map[string]any, error) {
		return []map[string]any{{"currency": "usd", "net": json.Number("9680"), "fee": json.Number("320")}}, nil
	}
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := event(t, "../../testdata/stripe/events/payout.paid.json", func(o map[string]any) { o["amount"] = json.Number("9680") })
	_, err := prog.Flows("stripe", "payout.paid")[0].Run(context.Background(), env, ev, Options{})
	var e *Error
	if !errors.As(err, &e) || e.Class != Dead || !strings.Contains(err.Error(), `debits 3.2, credits 96.8, difference -93.6`) {
		t.Fatalf("err = %v", err)
	}
	if len(m.records) != 0 {
		t.Fatalf("an unbalanced journal wrote %v", m.records)
	}
}

// A ledger whose balancing posting does not carry what the items net to (a
// flow posting gross amounts and forgetting the fees) is caught before
// anything is written, with the group, the difference and the items.
func TestClearingThatMissesAFeePostsNothing(t *testing.T) {
	prog := loadSource(t, `package p

import "stripe"
import "d365fo" as erp

ledger l {
    on stripe.payout.paid as ev
    for bt in stripe.balance_transactions(payout: ev.data.object.id)
    group by bt.reporting_category as category, bt.currency as currency
    journal erp.LedgerJournalLines key "po:" + ev.data.object.id {
        header { JournalName: "GenJrn" }
        CurrencyCode: upper(currency),
        TransDate: date(ev.data.object.arrival_date, "UTC"),
        credit "401100" amount money(sum(bt.amount), currency)
        debit "110150"
    }
}
`)
	m := newMemERP()
	bts := func(string, map[string]any) ([]map[string]any, error) {
		return []map[string]any{
			{"id": "txn_1", "type": "charge", "reporting_category": "charge", "currency": "usd", "amount": json.Number("1000"), "fee": json.Number("59"), "net": json.Number("941")},
			{"id": "txn_2", "type": "charge", "reporting_category": "charge", "currency": "usd", "amount": json.Number("159"), "fee": json.Number("0"), "net": json.Number("159")},
		}, nil
	}
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := event(t, "../../testdata/stripe/events/payout.paid.json", nil) // amount 1100
	_, err := prog.Flows("stripe", "payout.paid")[0].Run(context.Background(), env, ev, Options{})
	var e *Error
	want := "the balancing line of group category=charge, currency=usd carries 11.59, but its 2 item(s) net to 11.00 USD (difference 0.59; items [txn_1 txn_2])"
	if !errors.As(err, &e) || e.Class != Dead || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if len(m.records) != 0 {
		t.Fatalf("posted %v", m.records)
	}
}

// A payout whose transactions do not add up to it (a list read short, a
// transaction missing) posts nothing and says by how much.
func TestPayoutThatDoesNotMatchItsTransactionsPostsNothing(t *testing.T) {
	prog := loadProgram(t)
	m := newMemERP()
	bts := func(string, map[string]any) ([]map[string]any, error) {
		return []map[string]any{
			{"id": "txn_1", "type": "charge", "reporting_category": "charge", "currency": "usd", "net": json.Number("1000")},
			{"id": "txn_2", "type": "payout", "reporting_category": "payout", "currency": "usd", "net": json.Number("-1100")},
		}, nil
	}
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := event(t, "../../testdata/stripe/events/payout.paid.json", nil) // amount 1100
	_, err := prog.Flows("stripe", "payout.paid")[0].Run(context.Background(), env, ev, Options{})
	var e *Error
	if !errors.As(err, &e) || e.Class != Dead || !strings.Contains(err.Error(), "net summing to 1000, but po_000000000000000000000000's amount is 1100 (difference -100)") {
		t.Fatalf("err = %v", err)
	}
	if len(m.records) != 0 {
		t.Fatalf("posted %v", m.records)
	}
}

// A payout whose amounts are all zero posts no empty journal.
func TestNothingToPostWritesNothing(t *testing.T) {
	prog := loadProgram(t)
	m := newMemERP()
	bts := func(string, map[string]any) ([]map[string]any, error) { return nil, nil }
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := event(t, "../../testdata/stripe/events/payout.paid.json", func(o map[string]any) { o["amount"] = json.Number("0") })
	res, err := prog.Flows("stripe", "payout.paid")[0].Run(context.Background(), env, ev, Options{Trace: true})
	if err != nil || len(m.records) != 0 || res.Writes != 0 {
		t.Fatalf("res %+v, err %v, wrote %v", res, err, m.records)
	}
}

// A customer a lookup found is reused for the cache's TTL: the ERP is not
// asked again for it, and is after the TTL.
func TestLookupCache(t *testing.T) {
	prog := loadProgram(t)
	f := prog.Flows("stripe", "charge.succeeded")[0]
	m := newMemERP()
	now := time.Unix(1700000000, 0)
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Ledger: &memLedger{m: map[string]erp.Record{}},
		Lookups: NewLookupCache(time.Minute, 10), Now: func() time.Time { return now }}
	for i := range 3 {
		ev := event(t, "../../testdata/stripe/events/charge.succeeded.json", func(o map[string]any) {
			o["id"], o["customer"] = fmt.Sprintf("ch_%d", i), "cus_1"
			o["metadata"] = map[string]any{"order_id": fmt.Sprintf("SO-%d", i)}
		})
		if _, err := f.Run(context.Background(), env, ev, Options{}); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			now = now.Add(2 * time.Minute) // the cached customer expires
		}
	}
	// Run 1: a miss, then the lookup again under the create lock; run 2:
	// cached; run 3: expired, asked once more.
	if m.lookups != 3 {
		t.Fatalf("%d lookups, want 3", m.lookups)
	}
}

// A journal in the ERP's accounting currency converts with a rate table the
// flow declares, by the rate date; a date the table does not have is a dead
// letter naming the missing rate, never a silent rate of 1.
func TestRateTableConvertsByDateAndAMissingRateFails(t *testing.T) {
	prog := loadSource(t, `package p

import "stripe"
import "d365fo" as erp

// EUR per unit of the settlement currency, by the payout's arrival date.
table eur_per: map(string, decimal) = {
    "2022-03-28/USD": decimal("0.9092"),
}

ledger l {
    on stripe.payout.paid as ev
    let po = ev.data.object
    let rate_key = format_time(po.arrival_date, "YYYY-MM-DD", "UTC") + "/" + upper(po.currency)
    for bt in stripe.balance_transactions(payout: po.id)
    group by bt.reporting_category as category, bt.currency as currency
    journal erp.LedgerJournalLines key "po:" + po.id {
        header { JournalName: "GenJrn" }
        CurrencyCode: "EUR",
        TransDate: date(po.arrival_date, "UTC"),
        credit "401100" amount convert(money(sum(bt.amount), currency), eur_per[rate_key], "eur")
        debit "618100" amount convert(money(sum(bt.fee), currency), eur_per[rate_key], "eur")
        debit "110150"
    }
}
`)
	bts := func(string, map[string]any) ([]map[string]any, error) {
		return []map[string]any{
			{"id": "txn_1", "type": "charge", "reporting_category": "charge", "currency": "usd", "amount": json.Number("1159"), "fee": json.Number("59"), "net": json.Number("1100")},
		}, nil
	}
	run := func(arrival string) (*memERP, error) {
		m := newMemERP()
		env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)}, Ledger: &memLedger{m: map[string]erp.Record{}}}
		ev := event(t, "../../testdata/stripe/events/payout.paid.json", func(o map[string]any) { o["arrival_date"] = json.Number(arrival) })
		_, err := prog.Flows("stripe", "payout.paid")[0].Run(context.Background(), env, ev, Options{})
		return m, err
	}

	m, err := run("1648425600") // 2022-03-28
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range m.records["LedgerJournalLines"] {
		for _, f := range []string{"DebitAmount", "CreditAmount"} {
			if d, ok := l[f].(decimal.Decimal); ok {
				got = append(got, fmt.Sprintf("%s %s %s %s", l["AccountDisplayValue"], f, d.StringFixed(2), l["CurrencyCode"]))
			}
		}
	}
	// 11.59 USD x 0.9092 = 10.537628 -> 10.54; 0.59 x 0.9092 = 0.536428 -> 0.54.
	want := []string{"401100 CreditAmount 10.54 EUR", "618100 DebitAmount 0.54 EUR", "110150 DebitAmount 10.00 EUR"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines %v, want %v", got, want)
	}

	m, err = run("1648512000") // 2022-03-29: no rate
	var e *Error
	if !errors.As(err, &e) || e.Class != Dead || !strings.Contains(err.Error(), "2022-03-29/USD") {
		t.Fatalf("a missing rate: err = %v, want a dead letter naming 2022-03-29/USD", err)
	}
	if len(m.records) != 0 {
		t.Fatalf("posted %v", m.records)
	}
}

// A table keyed by int finds its keys (the plan keeps them as JSON text),
// and if/else runs one branch.
func TestIntKeyedTableAndIf(t *testing.T) {
	prog := loadSource(t, `package p

import "d365fo" as erp {
    company: "usmf",
}

table wait_days: map(int, int) = {1: 3, 2: 5}

flow f {
    on schedule "0 7 * * *" as tick
    let n = 2
    if n in wait_days && wait_days[n] == 5 {
        upsert erp.SalesOrderHeadersV2 key "then:" + tick.id {
            OrderingCustomerAccountNumber: "X",
            SalesOrderNumber: string(wait_days[n]),
        }
    } else {
        upsert erp.SalesOrderHeadersV2 key "else:" + tick.id {
            OrderingCustomerAccountNumber: "X",
            SalesOrderNumber: "else",
        }
    }
}
`)
	ev, err := DecodeEvent([]byte(`{"schedule": "f", "time": "2024-07-01T07:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	m := newMemERP()
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	if _, err := prog.Flow("f").Run(context.Background(), env, ev, Options{}); err != nil {
		t.Fatal(err)
	}
	got := m.records["SalesOrderHeadersV2"]
	if len(got) != 1 || got[0]["SalesOrderNumber"] != "5" {
		t.Fatalf("wrote %v, want the then branch's one order numbered 5", got)
	}
}
