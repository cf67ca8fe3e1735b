package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib/schema"
)

// signedLedger posts to Business Central, whose journal lines carry one
// signed amount.
const signedLedger = `package p

import "stripe"
import "bc" as erp

ledger l {
    on stripe.payout.paid as ev
    for bt in stripe.balance_transactions(payout: ev.data.object.id)
    group by bt.currency as currency
    journal erp.journalLines key "po:" + ev.data.object.id {
        postingDate: date(ev.data.object.arrival_date, "UTC"),
        credit "40100" amount money(sum(bt.amount), currency)
        debit "60810" amount money(sum(bt.fee), currency)
        debit %s
    }
}
`

func TestSignedAmountJournalPostsDebitsPositiveCreditsNegative(t *testing.T) {
	prog := loadSource(t, strings.Replace(signedLedger, "%s", `"10150"`, 1))
	m := newMemERP()
	bts := func(string, map[string]any) ([]map[string]any, error) {
		return []map[string]any{{"currency": "usd", "amount": json.Number("10000"), "net": json.Number("9680"), "fee": json.Number("320")}}, nil
	}
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := event(t, "../../testdata/stripe/events/payout.paid.json", func(o map[string]any) { o["amount"] = json.Number("9680") })
	if _, err := prog.Flows("stripe", "payout.paid")[0].Run(context.Background(), env, ev, Options{}); err != nil {
		t.Fatal(err)
	}
	lines := m.records["journalLines"]
	want := []struct{ account, amount string }{{"40100", "-100"}, {"60810", "3.2"}, {"10150", "96.8"}}
	if len(lines) != len(want) {
		t.Fatalf("lines %v", lines)
	}
	for i, w := range want {
		l := lines[i]
		if l["accountNumber"] != w.account || l["amount"].(decimal.Decimal).String() != w.amount || l["accountType"] != "G/L Account" || l["lineNumber"] != int64(i+1) {
			t.Errorf("line %d = %v; want account %s, amount %s, a G/L Account, line number %d", i+1, l, w.account, w.amount, i+1)
		}
		for _, f := range []string{"DebitAmount", "CreditAmount", ""} {
			if _, set := l[f]; set {
				t.Errorf("line %d sets %q: %v", i+1, f, l)
			}
		}
	}
}

func TestSignedAmountJournalThatDoesNotBalanceWritesNothing(t *testing.T) {
	prog := loadSource(t, strings.Replace(signedLedger, "%s", `"10150" amount money(sum(bt.net), currency) + decimal("0.01")`, 1))
	m := newMemERP()
	bts := func(string, map[string]any) ([]map[string]any, error) {
		return []map[string]any{{"currency": "usd", "amount": json.Number("10000"), "net": json.Number("9680"), "fee": json.Number("320")}}, nil
	}
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Lists: map[string]Lister{"stripe": listFunc(bts)}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := event(t, "../../testdata/stripe/events/payout.paid.json", func(o map[string]any) { o["amount"] = json.Number("9680") })
	_, err := prog.Flows("stripe", "payout.paid")[0].Run(context.Background(), env, ev, Options{})
	var e *Error
	if !errors.As(err, &e) || e.Class != Dead || !strings.Contains(err.Error(), "debits 100.01, credits 100, difference 0.01") {
		t.Fatalf("err = %v", err)
	}
	if len(m.records) != 0 {
		t.Fatalf("an unbalanced journal wrote %v", m.records)
	}
}

func TestBalancedCountsSignedAndPairedAmounts(t *testing.T) {
	d := func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	signed := &schema.Journal{Amount: "amount"}
	if err := balanced([]erp.Record{{"amount": d("5")}, {"amount": d("-3")}, {"amount": d("-2")}}, signed); err != nil {
		t.Fatal(err)
	}
	if err := balanced([]erp.Record{{"amount": d("5")}, {"amount": d("-3")}}, signed); err == nil || !strings.Contains(err.Error(), "debits 5, credits 3") {
		t.Fatalf("unbalanced signed: %v", err)
	}
	paired := &schema.Journal{Debit: "D", Credit: "C"}
	if err := balanced([]erp.Record{{"D": d("5")}, {"C": d("5"), "amount": d("9")}}, paired); err != nil {
		t.Fatalf("paired journal read a field it does not have: %v", err)
	}
}
