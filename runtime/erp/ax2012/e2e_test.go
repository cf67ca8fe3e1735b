package ax2012_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/runtime/erp/ax2012/sandbox"
)

// The flows of flows/stripe_ax, run by the engine against the sandbox over
// loopback HTTP.

type memLedger struct {
	mu sync.Mutex
	m  map[string]erp.Record
}

func (l *memLedger) Get(_ context.Context, key string) (erp.Record, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[key]
	return r, ok, nil
}

func (l *memLedger) Put(_ context.Context, key, _ string, rec erp.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.m[key]; !ok {
		l.m[key] = rec
	}
	return nil
}

type lister []map[string]any

func (l lister) List(context.Context, string, map[string]any) ([]map[string]any, error) {
	return l, nil
}

func loadFlows(t *testing.T) *engine.Program {
	t.Helper()
	prog, diags, err := engine.Load("../../../flows/stripe_ax", compiler.Config{})
	if err != nil || prog == nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	return prog
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func demoEvent(t *testing.T, name string) *engine.Event {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/demo/" + name)
	if err != nil {
		t.Fatal(err)
	}
	body := decodeJSON(t, b)
	created, _ := body["created"].(json.Number).Int64()
	return &engine.Event{ID: body["id"].(string), Source: "stripe", Type: body["type"].(string), Received: time.Unix(created, 0), Body: body}
}

func runAll(t *testing.T, prog *engine.Program, env *engine.Env, ev *engine.Event, opts engine.Options) error {
	t.Helper()
	flows := prog.Flows(ev.Source, ev.Type)
	if len(flows) != 1 {
		t.Fatalf("%d flows for %s", len(flows), ev.Type)
	}
	_, err := flows[0].Run(context.Background(), env, ev, opts)
	return err
}

func classOf(err error) engine.Class {
	var e *engine.Error
	if errors.As(err, &e) {
		return e.Class
	}
	return -1
}

func TestOrderToCashEndToEnd(t *testing.T) {
	prog := loadFlows(t)
	e := newEnv(t, sandbox.Config{}, aif.SOAP11)
	env := &engine.Env{ERP: map[string]erp.Driver{"erp": e.drv}, Ledger: &memLedger{m: map[string]erp.Record{}},
		Now: func() time.Time { return time.Unix(1648320032, 0) }}

	// The first charge: a customer, an order, a line.
	if err := runAll(t, prog, env, demoEvent(t, "01-charge.succeeded.json"), engine.Options{}); err != nil {
		t.Fatal(err)
	}
	custs := mustRecords(t, e.sb, "CustTable")
	orders := mustRecords(t, e.sb, "SalesTable")
	lines := mustRecords(t, e.sb, "SalesLine")
	if len(custs) != 1 || custs[0]["AccountNum"] != "cus_00000000000001" || custs[0]["Name"] != "Ada Lovelace" || custs[0]["Currency"] != "USD" {
		t.Fatalf("customers = %v", custs)
	}
	if len(orders) != 1 || orders[0]["CustomerRef"] != "stripe:ch_000000000000000000000001" || orders[0]["PurchOrderFormNum"] != "ORD-1001" ||
		orders[0]["DeliveryDate"] != "2022-03-26" {
		t.Fatalf("orders = %v", orders)
	}
	if len(lines) != 1 || lines[0]["SalesId"] != orders[0]["SalesId"] || lines[0]["SalesPrice"] != "20" || lines[0]["LineNum"] != "1" {
		t.Fatalf("lines = %v", lines)
	}

	// The second charge's line is refused once (an AIF validation fault):
	// the run is dead-lettered, the order stays, and a replay completes it.
	e.sb.Inject(sandbox.Fault{Service: "SalesOrderService", Operation: "update", Kind: sandbox.Validation, Message: "Item number STRIPE-SALE does not exist."})
	ev2 := demoEvent(t, "02-charge.succeeded.json")
	err := runAll(t, prog, env, ev2, engine.Options{})
	if classOf(err) != engine.Dead || !bytes.Contains([]byte(err.Error()), []byte("Item number STRIPE-SALE does not exist.")) {
		t.Fatalf("err = %v (class %d)", err, classOf(err))
	}
	if err := runAll(t, prog, env, ev2, engine.Options{}); err != nil {
		t.Fatal(err)
	}

	// The third charge's order is sent but the connection drops before the
	// answer: the engine settles the write in doubt with Find, which finds
	// the order by its anchor, and goes on to add the line.
	e.sb.Inject(sandbox.Fault{Service: "SalesOrderService", Operation: "create", Kind: sandbox.DropAfter})
	creates := e.sb.Requests()["SalesOrderService.create"]
	if err := runAll(t, prog, env, demoEvent(t, "03-charge.succeeded.json"), engine.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := e.sb.Requests()["SalesOrderService.create"] - creates; n != 1 {
		t.Fatalf("%d creates for the third order", n)
	}
	// A crash after a write that reached AX: the engine's ledger lost it, and
	// the run settles again.
	env.Ledger = &memLedger{m: map[string]erp.Record{}}
	env.Lookups = nil
	// Replaying every event writes nothing new.
	for _, name := range []string{"01-charge.succeeded.json", "02-charge.succeeded.json", "03-charge.succeeded.json"} {
		if err := runAll(t, prog, env, demoEvent(t, name), engine.Options{Settle: true}); err != nil {
			t.Fatal(err)
		}
	}
	if o, l := len(mustRecords(t, e.sb, "SalesTable")), len(mustRecords(t, e.sb, "SalesLine")); o != 3 || l != 3 {
		t.Fatalf("%d orders, %d lines; want 3 and 3", o, l)
	}

	// A refund of the first charge: a credit note with a negative line.
	refund := decodeJSON(t, []byte(`{"id": "evt_r1", "object": "event", "created": 1648323632, "type": "refund.created",
		"data": {"object": {"id": "re_1", "object": "refund", "amount": 1500, "charge": "ch_000000000000000000000001", "created": 1648323632, "currency": "usd"}}}`))
	if err := runAll(t, prog, env, &engine.Event{ID: "evt_r1", Source: "stripe", Type: "refund.created", Received: time.Unix(1648323632, 0), Body: refund}, engine.Options{}); err != nil {
		t.Fatal(err)
	}
	orders = mustRecords(t, e.sb, "SalesTable")
	lines = mustRecords(t, e.sb, "SalesLine")
	cn, cl := orders[len(orders)-1], lines[len(lines)-1]
	if cn["CustAccount"] != "cus_00000000000001" || cn["PurchOrderFormNum"] != "ORD-1001" || cl["SalesQty"] != "-1" || cl["SalesPrice"] != "15" || cl["SalesId"] != cn["SalesId"] {
		t.Fatalf("credit note = %v, line %v", cn, cl)
	}
}

func TestPayoutJournalEndToEnd(t *testing.T) {
	prog := loadFlows(t)
	e := newEnv(t, sandbox.Config{RejectDuplicates: true}, aif.SOAP12)
	var items lister
	for _, s := range []string{
		`{"id": "txn_1", "amount": 2000, "currency": "usd", "fee": 88, "fee_details": [{"amount": 88, "type": "stripe_fee"}], "net": 1912, "reporting_category": "charge", "type": "charge"}`,
		`{"id": "txn_2", "amount": 4550, "currency": "usd", "fee": 162, "net": 4388, "reporting_category": "charge", "type": "charge"}`,
		`{"id": "txn_3", "amount": 12999, "currency": "usd", "fee": 407, "fee_details": [{"amount": 347, "type": "stripe_fee"}, {"amount": 40, "type": "application_fee"}, {"amount": 20, "type": "tax"}], "net": 12592, "reporting_category": "charge", "type": "charge"}`,
		`{"id": "txn_4", "amount": 780, "currency": "usd", "fee": 53, "net": 727, "reporting_category": "charge", "type": "charge"}`,
		`{"id": "txn_5", "amount": -2000, "currency": "usd", "fee": 0, "net": -2000, "reporting_category": "refund", "type": "refund"}`,
		`{"id": "txn_6", "amount": -17619, "currency": "usd", "fee": 0, "net": -17619, "reporting_category": "payout", "type": "payout"}`,
	} {
		items = append(items, decodeJSON(t, []byte(s)))
	}
	env := &engine.Env{ERP: map[string]erp.Driver{"erp": e.drv}, Lists: map[string]engine.Lister{"stripe": items},
		Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := demoEvent(t, "06-payout.paid.json")

	// The journal is created but the connection drops before the answer.
	e.sb.Inject(sandbox.Fault{Service: "GeneralJournalService", Operation: "create", Kind: sandbox.DropAfter})
	err := runAll(t, prog, env, ev, engine.Options{})
	if classOf(err) != engine.Retry {
		t.Fatalf("err = %v (class %d)", err, classOf(err))
	}
	if err := runAll(t, prog, env, ev, engine.Options{Settle: true}); err != nil {
		t.Fatal(err)
	}
	heads := mustRecords(t, e.sb, "LedgerJournalTable")
	lines := mustRecords(t, e.sb, "LedgerJournalTrans")
	if len(heads) != 1 || heads[0]["Name"] != "stripe-payout:po_000000000000000000000006" || heads[0]["JournalName"] != "GenJrn" {
		t.Fatalf("journals = %v", heads)
	}
	if len(lines) != 9 {
		t.Fatalf("%d lines: %v", len(lines), lines)
	}
	debit, credit := decimal.Zero, decimal.Zero
	for _, l := range lines {
		if l["JournalNum"] != heads[0]["JournalNum"] || l["CurrencyCode"] != "USD" || l["TransDate"] != "2022-03-27" {
			t.Fatalf("line = %v", l)
		}
		if v, ok := l["AmountCurDebit"]; ok {
			debit = debit.Add(decimal.RequireFromString(v))
		}
		if v, ok := l["AmountCurCredit"]; ok {
			credit = credit.Add(decimal.RequireFromString(v))
		}
	}
	if !debit.Equal(credit) || !debit.Equal(decimal.RequireFromString("399.48")) {
		t.Fatalf("debits %s, credits %s", debit, credit)
	}
	if lines[0]["LedgerDimension"] != "110150" || lines[0]["AmountCurCredit"] != "203.29" || lines[8]["LineNum"] != "9" {
		t.Fatalf("lines = %v", lines)
	}
}
