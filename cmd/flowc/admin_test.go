package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/store"
)

// storeWithADeadLetter makes a store as flowd leaves it: one event done,
// one dead letter with its trail.
func storeWithADeadLetter(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flow.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, now := context.Background(), time.Unix(1700000000, 0)
	for i, id := range []string{"evt_ok", "evt_bad"} {
		if _, err := st.Accept(ctx, "stripe", id, "charge.succeeded", []byte(`{}`), now); err != nil {
			t.Fatal(err)
		}
		seq := int64(i + 1)
		if _, err := st.Start(ctx, seq, "0123456789abcdef", now); err != nil {
			t.Fatal(err)
		}
		out := store.Outcome{Status: store.Done, Trail: []store.Step{{At: now, Flow: "charge_to_sales_order", Step: 4, Kind: "write", Detail: "upsert SalesOrderHeadersV2: written"}}}
		if id == "evt_bad" {
			out = store.Outcome{Status: store.Dead, Flow: "charge_to_sales_order", Step: 3, Error: "no CustomersV3 where CustomerAccount=\"\"",
				Trail: []store.Step{{At: now, Flow: "charge_to_sales_order", Step: 3, Kind: "error", Detail: "lookup cust: no customer"}}}
		}
		if err := st.Finish(ctx, seq, 1, "0123456789abcdef", out, now); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func flowc(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != want {
		t.Fatalf("flowc %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func TestDLQAndEvents(t *testing.T) {
	path := storeWithADeadLetter(t)
	out, _ := flowc(t, 0, "dlq", "list", "--store", path)
	if !strings.Contains(out, "evt_bad") || strings.Contains(out, "evt_ok") || !strings.Contains(out, "charge_to_sales_order step 3") {
		t.Errorf("dlq list:\n%s", out)
	}
	out, _ = flowc(t, 0, "dlq", "show", "evt_bad", "--store", path)
	for _, want := range []string{"status    dead", "plan      0123456789abcdef", "failed    charge_to_sales_order step 3", "lookup cust: no customer"} {
		if !strings.Contains(out, want) {
			t.Errorf("dlq show lacks %q:\n%s", want, out)
		}
	}
	out, _ = flowc(t, 0, "events", "list", "--store", path, "--json")
	if !strings.Contains(out, `"id": "stripe:evt_ok"`) || !strings.Contains(out, `"status": "dead"`) {
		t.Errorf("events list --json:\n%s", out)
	}
	_, errs := flowc(t, 1, "dlq", "replay", "evt_ok", "--store", path)
	if !strings.Contains(errs, "is done, not a dead letter") {
		t.Errorf("replaying a done event: %s", errs)
	}
	out, _ = flowc(t, 0, "dlq", "replay", "--all", "--store", path)
	if !strings.Contains(out, "1 dead letter(s) queued") {
		t.Errorf("dlq replay --all: %s", out)
	}
	out, _ = flowc(t, 0, "dlq", "list", "--store", path)
	if strings.TrimSpace(out) != "no events" {
		t.Errorf("after replay, dlq list:\n%s", out)
	}
	_, errs = flowc(t, 2, "dlq", "list", "--store", filepath.Join(t.TempDir(), "none.db"))
	if !strings.Contains(errs, "no store at") {
		t.Errorf("missing store: %s", errs)
	}
	flowc(t, 2, "dlq", "frobnicate", "--store", path)
	flowc(t, 1, "events", "show", "evt_missing", "--store", path)
}

func TestReplayFromTheStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"evt_1","object":"event","type":"charge.succeeded","created":1648320032,"data":{"object":{"id":"ch_1","amount":2000,"paid":true,"currency":"usd","customer":"cus_1","metadata":{"order_id":"SO-1"}}}}`)
	if _, err := st.Accept(context.Background(), "stripe", "evt_1", "charge.succeeded", body, time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, _ := flowc(t, 0, "replay", "--store", path, "--since", "1h", "--old", "../../flows/stripe_d365", "--new", "../../flows/stripe_d365")
	if !strings.Contains(out, "0 of 1 events write differently") || !strings.Contains(out, "amounts USD: old 20, new 20") {
		t.Errorf("replay from the store:\n%s", out)
	}
}

// A payout replayed from the store runs its ledger on the balance
// transactions flowd recorded; a changed account shows line by line.
func TestReplayRunsLedgersOnRecordedLists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"evt_po","object":"event","type":"payout.paid","created":1648425600,"data":{"object":{"id":"po_1","object":"payout","amount":941,"currency":"usd","arrival_date":1648425600}}}`)
	ctx := context.Background()
	if _, err := st.Accept(ctx, "stripe", "evt_po", "payout.paid", body, time.Now()); err != nil {
		t.Fatal(err)
	}
	items := `[{"id":"txn_1","type":"charge","reporting_category":"charge","currency":"usd","amount":1000,"fee":59,"net":941}]`
	if err := st.PutList(ctx, 1, "balance_transactions", `{"payout":"po_1"}`, []byte(items)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	dir := t.TempDir()
	for _, f := range []string{"package.flow", "payout_journal.flow"} {
		b, err := os.ReadFile(filepath.Join("../../flows/stripe_d365", f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "old"), 0o755)
		os.MkdirAll(filepath.Join(dir, "new"), 0o755)
		os.WriteFile(filepath.Join(dir, "old", f), b, 0o644)
		if f == "package.flow" {
			b = []byte(strings.Replace(string(b), `"stripe_fee": "618100"`, `"stripe_fee": "618900"`, 1))
		}
		os.WriteFile(filepath.Join(dir, "new", f), b, 0o644)
	}
	out, _ := flowc(t, 1, "replay", "--store", path, "--old", filepath.Join(dir, "old"), "--new", filepath.Join(dir, "new"))
	if !strings.Contains(out, "1 of 1 events write differently") || !strings.Contains(out, "~ journal LedgerJournalHeaders stripe-payout:po_1") ||
		!strings.Contains(out, `AccountDisplayValue: "618100" -> "618900"`) {
		t.Errorf("replaying a payout with a changed fee account:\n%s", out)
	}
}

func TestRecon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, now := context.Background(), time.Unix(1700000000, 0)
	payout := func(seq int64, id string, amount int, items string, status store.Status) {
		body := fmt.Sprintf(`{"id":"evt_%s","object":"event","type":"payout.paid","created":1,"data":{"object":{"id":"%s","object":"payout","amount":%d,"currency":"usd"}}}`, id, id, amount)
		if _, err := st.Accept(ctx, "stripe", "evt_"+id, "payout.paid", []byte(body), now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Start(ctx, seq, "v1", now); err != nil {
			t.Fatal(err)
		}
		if err := st.PutList(ctx, seq, "balance_transactions", `{"payout":"`+id+`"}`, []byte(items)); err != nil {
			t.Fatal(err)
		}
		out := store.Outcome{Status: status, Trail: []store.Step{{At: now, Flow: "payout_to_journal", Kind: "journal", Detail: `journal key "stripe-payout:` + id + `": posted, 4 lines`}}}
		if err := st.Finish(ctx, seq, 1, "v1", out, now); err != nil {
			t.Fatal(err)
		}
	}
	payout(1, "po_ok", 941, `[{"id":"txn_1","type":"charge","currency":"usd","net":1000},{"id":"txn_2","type":"stripe_fee","currency":"usd","net":-59},{"id":"txn_3","type":"payout","currency":"usd","net":-941}]`, store.Done)
	payout(2, "po_short", 1000, `[{"id":"txn_4","type":"charge","currency":"usd","net":1000},{"id":"txn_5","type":"refund","currency":"usd","net":-50}]`, store.Done)
	posted := erp.Record{"JournalBatchNumber": "GJ-1", engine.JournalLines: []any{
		map[string]any{"AccountDisplayValue": "130100", "CreditAmount": decimal.RequireFromString("9.41")},
		map[string]any{"AccountDisplayValue": "110150", "DebitAmount": decimal.RequireFromString("9.41")}}}
	if err := st.Put(ctx, "stripe-payout:po_ok", "LedgerJournalHeaders", posted); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, _ := flowc(t, 1, "recon", "--store", path)
	for _, want := range []string{
		`ok po_ok: payout 9.41 USD, 2 transactions sum 9.41, difference 0.00; done, journal key "stripe-payout:po_ok": posted, 4 lines`,
		"DIFFERS po_short: payout 10.00 USD, 2 transactions sum 9.50, difference -0.50",
		"txn_5 refund       -0.50 USD",
		"journal stripe-payout:po_ok: 2 lines, debits 9.41, credits 9.41",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("recon lacks %q:\n%s", want, out)
		}
	}
	out, _ = flowc(t, 0, "recon", "--store", path, "--payout", "po_ok", "--format", "csv")
	if !strings.Contains(out, "po_ok,evt_po_ok,USD,9.41,2,9.41,0.00,") || strings.Contains(out, "po_short") {
		t.Errorf("recon --payout --format csv:\n%s", out)
	}
	out, _ = flowc(t, 1, "recon", "--store", path, "--format", "json")
	if !strings.Contains(out, `"reconciles": false`) || !strings.Contains(out, `"difference": "-0.50"`) {
		t.Errorf("recon --format json:\n%s", out)
	}
}
