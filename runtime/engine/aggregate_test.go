package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/store"
)

const statsFlow = `package p

import "stripe"
import "d365fo" as erp

aggregate customer_stats by string {
    total_paid: decimal,
    payments: int,
    last_payment: timestamp,
    days_to_pay_total: int,
}

flow count_payment {
    on stripe.charge.succeeded as ev
    let ch = ev.data.object
    update stats = customer_stats[ch.customer] key "agg:" + ev.id {
        total_paid: total_paid + money(ch.amount, ch.currency),
        payments: payments + 1,
        last_payment: unix(ch.created),
        days_to_pay_total: days_to_pay_total + 3,
    }
    upsert erp.CustomersV3 key "stats:" + ev.id {
        CustomerAccount: ch.customer,
        CustomerGroupId: "10",
        SalesCurrencyCode: upper(ch.currency),
        CreditLimit: stats.total_paid,
        OrganizationName: string(stats.payments) + " payments, "
            + string(decimal(stats.days_to_pay_total) / decimal(stats.payments)) + " days to pay",
    }
}

flow read_stats {
    on stripe.charge.refunded as ev
    let ch = ev.data.object
    lookup s = customer_stats[ch.customer]
    upsert erp.CustomersV3 key "refund-stats:" + ev.id {
        CustomerAccount: ch.customer,
        CustomerGroupId: "10",
        SalesCurrencyCode: upper(ch.currency),
        CreditLimit: s.total_paid,
    }
}
`

// An aggregate update counts an event once: run again, after a failure
// later in the flow, and across events; decimals stay exact, and later
// steps read the updated entry.
func TestAggregateCountsEachEventOnce(t *testing.T) {
	prog := loadSource(t, statsFlow)
	st, err := store.Open(filepath.Join(t.TempDir(), "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	m := newMemERP()
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Ledger: st} // the store keeps the aggregates too
	charge := func(id string, cents int64) *Event {
		ev := event(t, "../../testdata/stripe/events/charge.succeeded.json", func(o map[string]any) {
			o["customer"] = "cus_1"
			o["amount"] = cents
		})
		ev.ID = id
		ev.Body.(map[string]any)["id"] = id
		return ev
	}
	flow := prog.Flows("stripe", "charge.succeeded")[0]
	if _, err := flow.Run(ctx, env, charge("evt_1", 1999), Options{}); err != nil {
		t.Fatal(err)
	}
	// The same event again: the update's key is in the ledger.
	if _, err := flow.Run(ctx, env, charge("evt_1", 1999), Options{}); err != nil {
		t.Fatal(err)
	}
	// A crash after the update (the ERP write fails): the retry does not
	// count the event again.
	m.fail = &erp.Error{Kind: erp.Transient, Message: "503"}
	if _, err := flow.Run(ctx, env, charge("evt_2", 1), Options{}); err == nil {
		t.Fatal("the failing write did not fail the run")
	}
	if _, err := flow.Run(ctx, env, charge("evt_2", 1), Options{}); err != nil {
		t.Fatal(err)
	}
	v, ok, err := st.Aggregate(ctx, "customer_stats", "cus_1")
	if err != nil || !ok {
		t.Fatalf("entry: %v, %v", ok, err)
	}
	rec, err := decodeEntry(v)
	if err != nil {
		t.Fatal(err)
	}
	if rec["total_paid"] != "20" || rec["payments"].(interface{ String() string }).String() != "2" || rec["days_to_pay_total"].(interface{ String() string }).String() != "6" {
		t.Fatalf("entry = %s", v)
	}
	last := m.keys["stats:evt_2"]
	if last["OrganizationName"] != "2 payments, 3 days to pay" || last["CreditLimit"] == nil || last["CreditLimit"].(interface{ String() string }).String() != "20" {
		t.Fatalf("the write after the update = %v", last)
	}

	// Another flow reads the entry; an entry no update touched is zeros.
	read := prog.Flows("stripe", "charge.refunded")[0]
	refund := func(cust string) *Event {
		return event(t, "../../testdata/stripe/events/charge.refunded.json", func(o map[string]any) { o["customer"] = cust })
	}
	if _, err := read.Run(ctx, env, refund("cus_1"), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := m.records["CustomersV3"]; len(got) == 0 || got[len(got)-1]["CreditLimit"].(interface{ String() string }).String() != "20" {
		t.Fatalf("read: %v", got)
	}
	ev := refund("cus_none")
	ev.ID = "evt_r2"
	ev.Body.(map[string]any)["id"] = "evt_r2"
	if _, err := read.Run(ctx, env, ev, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := m.keys["refund-stats:evt_r2"]; got["CreditLimit"].(interface{ String() string }).String() != "0" {
		t.Fatalf("an untouched entry: %v", got)
	}
}
