package dynsl

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
)

// The flows of flows/stripe_sl, run by the engine against this driver on a
// local SQLite database with the SL schema.

type memLedger struct {
	mu sync.Mutex
	m  map[string]erp.Record
}

func newLedger() *memLedger { return &memLedger{m: map[string]erp.Record{}} }

func (l *memLedger) Get(_ context.Context, key string) (erp.Record, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[key]
	return r, ok, nil
}

func (l *memLedger) Put(_ context.Context, key, _ string, rec erp.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[key] = rec
	return nil
}

type lister map[string][]map[string]any

func (l lister) List(_ context.Context, list string, _ map[string]any) ([]map[string]any, error) {
	return l[list], nil
}

func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatal(err)
	}
}

func demoEvent(t *testing.T, name string) *engine.Event {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/demo/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	decodeJSON(t, b, &body)
	return &engine.Event{ID: body["id"].(string), Source: "stripe", Type: body["type"].(string), Received: time.Date(2022, 3, 28, 9, 0, 0, 0, time.UTC), Body: body}
}

// payoutItems are the balance transactions of the demo payout (as in
// flows/stripe_sl/payout_journal.flowtest).
const payoutItems = `[
{"id": "txn_1", "amount": 2000, "currency": "usd", "fee": 88, "fee_details": [{"amount": 88, "currency": "usd", "type": "stripe_fee"}], "net": 1912, "reporting_category": "charge", "type": "charge"},
{"id": "txn_2", "amount": 4550, "currency": "usd", "fee": 162, "fee_details": [], "net": 4388, "reporting_category": "charge", "type": "charge"},
{"id": "txn_3", "amount": 12999, "currency": "usd", "fee": 407, "fee_details": [{"amount": 347, "currency": "usd", "type": "stripe_fee"}, {"amount": 40, "currency": "usd", "type": "application_fee"}, {"amount": 20, "currency": "usd", "type": "tax"}], "net": 12592, "reporting_category": "charge", "type": "charge"},
{"id": "txn_4", "amount": 780, "currency": "usd", "fee": 53, "fee_details": [], "net": 727, "reporting_category": "charge", "type": "charge"},
{"id": "txn_5", "amount": -2000, "currency": "usd", "fee": 0, "fee_details": [], "net": -2000, "reporting_category": "refund", "type": "refund"},
{"id": "txn_6", "amount": -17619, "currency": "usd", "fee": 0, "fee_details": [], "net": -17619, "reporting_category": "payout", "type": "payout"}]`

type world struct {
	t    *testing.T
	prog *engine.Program
	d    *Driver
	db   *sql.DB
	env  *engine.Env
}

func newWorld(t *testing.T) *world {
	prog, diags, err := engine.Load("../../../flows/stripe_sl", compiler.Config{})
	if err != nil || prog == nil || diags.HasErrors() {
		t.Fatalf("load flows/stripe_sl: %v %v", err, diags)
	}
	d, db := testDB(t, Config{})
	var items []map[string]any
	decodeJSON(t, []byte(payoutItems), &items)
	env := &engine.Env{ERP: map[string]erp.Driver{"erp": d}, Lists: map[string]engine.Lister{"stripe": lister{"balance_transactions": items}},
		Ledger: newLedger(), Now: func() time.Time { return time.Date(2022, 3, 28, 9, 0, 0, 0, time.UTC) }}
	return &world{t: t, prog: prog, d: d, db: db, env: env}
}

// run runs every flow the event triggers and returns the writes.
func (w *world) run(ev *engine.Event, opts engine.Options) int {
	w.t.Helper()
	flows := w.prog.Flows(ev.Source, ev.Type)
	if len(flows) == 0 {
		w.t.Fatalf("no flow for %s", ev.Type)
	}
	writes := 0
	for _, f := range flows {
		res, err := f.Run(context.Background(), w.env, ev, opts)
		if err != nil {
			w.t.Fatalf("%s: %v", f.Plan.Name, err)
		}
		writes += res.Writes
	}
	return writes
}

// rows counts every table the flows write.
func (w *world) rows() map[string]int {
	out := map[string]int{}
	for _, tb := range []string{"Customer", "ARDoc", "SOHeader", "SOLine", "Batch", "GLTran"} {
		out[tb] = count(w.t, w.db, tb, "")
	}
	return out
}

func (w *world) same(before map[string]int, what string) {
	w.t.Helper()
	after := w.rows()
	for k, v := range before {
		if after[k] != v {
			w.t.Errorf("%s: %s has %d rows, had %d", what, k, after[k], v)
		}
	}
}

func TestEngineOrderToCashRefundPayout(t *testing.T) {
	w := newWorld(t)
	charge, refund, payout := demoEvent(t, "01-charge.succeeded.json"), demoEvent(t, "05-charge.refunded.json"), demoEvent(t, "06-payout.paid.json")

	// Order to cash: customer, order with one line, payment.
	if n := w.run(charge, engine.Options{}); n != 4 {
		t.Errorf("charge: %d writes, want 4", n)
	}
	if got := w.rows(); got["Customer"] != 1 || got["SOHeader"] != 1 || got["SOLine"] != 1 || got["ARDoc"] != 1 || got["Batch"] != 1 {
		t.Fatalf("after the charge: %v", got)
	}
	if count(t, w.db, "Customer", "CustId = '00000000000001' AND Name = 'Ada Lovelace' AND ClassId = 'WEB'") != 1 {
		t.Error("customer row")
	}
	if count(t, w.db, "SOHeader", "OrdNbr = 'ORD-1001' AND CustID = '00000000000001' AND Status = 'O' AND LineCntr = 1 AND TotOrd = 20 AND CuryTotOrd = 20 AND CpnyID = '0060'") != 1 {
		t.Error("sales order header")
	}
	if count(t, w.db, "SOLine", "OrdNbr = 'ORD-1001' AND LineRef = '00001' AND InvtID = 'STRIPE' AND QtyOrd = 1 AND TotOrd = 20") != 1 {
		t.Error("sales order line")
	}
	if count(t, w.db, "ARDoc", "DocType = 'PA' AND RefNbr = '001201' AND BatNbr = '000108' AND OrigDocAmt = 20 AND PerPost = '202203' AND CustOrdNbr = 'ORD-1001' AND Rlsed = 0") != 1 {
		t.Error("payment document")
	}
	if count(t, w.db, "Batch", "Module = 'AR' AND BatNbr = '000108' AND CtrlTot = 20 AND Status = 'B'") != 1 {
		t.Error("AR batch of the payment")
	}

	// Refund: a credit memo from its own counter.
	if n := w.run(refund, engine.Options{}); n != 1 {
		t.Errorf("refund: %d writes, want 1", n)
	}
	if count(t, w.db, "ARDoc", "DocType = 'CM' AND RefNbr = 'CM0010' AND OrigDocAmt = 20 AND CustId = '00000000000001'") != 1 {
		t.Error("credit memo")
	}

	// Payout: one balanced GL batch.
	if n := w.run(payout, engine.Options{}); n != 10 {
		t.Errorf("payout: %d writes, want 10 (a batch and 9 lines)", n)
	}
	if count(t, w.db, "Batch", "Module = 'GL' AND BatNbr = '000042' AND Status = 'B' AND PerPost = '202203' AND CtrlTot = 399.48 AND DrTot = CrTot AND Rlsed = 0") != 1 {
		var dr, cr float64
		_ = w.db.QueryRow("SELECT DrTot, CrTot FROM [Batch] WHERE Module = 'GL'").Scan(&dr, &cr)
		t.Errorf("GL batch: DrTot %v CrTot %v", dr, cr)
	}
	if count(t, w.db, "GLTran", "Module = 'GL' AND BatNbr = '000042'") != 9 ||
		count(t, w.db, "GLTran", "BatNbr = '000042' AND Acct = '1060' AND DrAmt = 176.19 AND Sub = '00-000' AND LineNbr = 6 AND FiscYr = '2022' AND Posted = 'U'") != 1 {
		t.Error("GL lines")
	}
	var dr, cr string
	if err := w.db.QueryRow("SELECT CAST(SUM(DrAmt) AS TEXT), CAST(SUM(CrAmt) AS TEXT) FROM [GLTran] WHERE BatNbr = '000042'").Scan(&dr, &cr); err != nil || dr != cr {
		t.Errorf("GL lines: debits %s, credits %s, %v", dr, cr, err)
	}

	before := w.rows()
	// The same events again: the idempotency ledger has them; nothing is
	// written.
	for _, ev := range []*engine.Event{charge, refund, payout} {
		if n := w.run(ev, engine.Options{}); n != 0 {
			t.Errorf("%s again: %d writes", ev.Type, n)
		}
	}
	w.same(before, "again with the ledger")

	// Again with the ledger lost (a new flowd store, a crash before the
	// ledger write): the driver finds every record by its natural key or
	// the key anchored in User1 and writes nothing twice.
	w.env.Ledger = newLedger()
	w.env.Lookups = nil
	for _, ev := range []*engine.Event{charge, refund, payout} {
		w.run(ev, engine.Options{})
	}
	w.same(before, "again without the ledger")
	// And with settling (the daemon's mode after a crash): Find first.
	w.env.Ledger = newLedger()
	for _, ev := range []*engine.Event{charge, refund, payout} {
		w.run(ev, engine.Options{Settle: true})
	}
	w.same(before, "again, settling")
	if count(t, w.db, "GLSetup", "LastBatNbr = '000042'") != 1 || count(t, w.db, "ARSetup", "LastBatNbr = '000109' AND LastRefNbr = '001201' AND LastCrMemoNbr = 'CM0010'") != 1 {
		t.Error("a replay took numbers")
	}
}

func TestEngineFailuresAreClassified(t *testing.T) {
	w := newWorld(t)
	// A charge whose order number does not fit SL's char(15): dead letter.
	ev := demoEvent(t, "01-charge.succeeded.json")
	obj := ev.Body.(map[string]any)["data"].(map[string]any)["object"].(map[string]any)
	obj["metadata"] = map[string]any{"order_id": strings.Repeat("9", 16)}
	f := w.prog.Flows("stripe", "charge.succeeded")
	var dead *engine.Error
	for _, fl := range f {
		if _, err := fl.Run(context.Background(), w.env, ev, engine.Options{}); err != nil {
			if e, ok := err.(*engine.Error); ok {
				dead = e
			}
		}
	}
	if dead == nil || dead.Class != engine.Dead || !strings.Contains(dead.Error(), "char(15)") {
		t.Fatalf("want a dead letter about char(15), got %v", dead)
	}
	// A payout dated in a closed period: dead letter, nothing written.
	if _, err := w.db.Exec("UPDATE [GLSetup] SET [PerNbr] = '202204'"); err != nil {
		t.Fatal(err)
	}
	payout := demoEvent(t, "06-payout.paid.json")
	_, err := w.prog.Flows("stripe", "payout.paid")[0].Run(context.Background(), w.env, payout, engine.Options{})
	if e, ok := err.(*engine.Error); !ok || e.Class != engine.Dead || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("closed period: %v", err)
	}
	if count(t, w.db, "Batch", "Module = 'GL'") != 0 {
		t.Error("a refused payout wrote a batch")
	}
}
