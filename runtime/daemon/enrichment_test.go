package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/d365fo"
	"github.com/flowhq/flow/runtime/erp/sandbox"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib"
)

// flows/stripe_d365_enrichment in flowd, against the F&O sandbox with the
// tenant's extension fields: charges count into the store's aggregate as
// they arrive, and the hourly schedule writes each customer that changed
// once, with all its statistics; a run with nothing changed writes nothing.
func TestEnrichmentWritesWhatChangedOnSchedule(t *testing.T) {
	dir := "../../flows/stripe_d365_enrichment"
	tenant, err := stdlib.Connectors()["d365fo"](map[string]string{"metadata": "tenant.edmx.xml"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	c := erps[0]
	c.flows = dir
	c.sandbox = func(path string) (erpSandbox, error) {
		return openOData(sandbox.Config{Path: path, Entities: tenant, ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test"})
	}
	h := start(t, onERP(c), func(s *setup) {
		s.Secret = func(name string) (string, error) {
			return map[string]string{"stripe_webhook_secret": secret}[name], nil
		}
	})
	// The customers exist in F&O; the flows fill in their statistics.
	seeder, err := d365fo.New(d365fo.Config{BaseURL: h.erpBase, TokenURL: h.erpBase + "/test/oauth2/token", ClientID: "flowd", ClientSecret: "s3cret",
		Company: "usmf", Entities: tenant, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		acct := fmt.Sprintf("ST-cus_test_%d", i)
		if _, err := seeder.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "seed:" + acct,
			Fields: erp.Record{"CustomerAccount": acct, "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}}); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now().Add(-time.Second)
	// Three charges of customer 1 and one of customer 2 (charge(t, n)
	// charges cus_test_<n%7> 20.00).
	for _, n := range []int{1, 8, 15, 2} {
		if code, body := h.post(charge(t, n)); code != 200 {
			t.Fatalf("charge %d: %d %s", n, code, body)
		}
	}
	if c := h.settle(10 * time.Second); c[store.Done] != 4 {
		t.Fatalf("the charges: %v", c)
	}
	patches := func() int { return h.sb.Requests()["PATCH entity"] } // the only records PATCHed are customers
	if n := patches(); n != 0 {
		t.Fatalf("%d customer updates before the schedule ran, want none: statistics are written hourly", n)
	}
	tick := func(due, previous time.Time) {
		t.Helper()
		id, body := engine.TickBody("stats_to_erp", due, previous)
		if _, err := h.st.Accept(ctx, engine.ScheduleSource, id, "stats_to_erp", body, time.Now()); err != nil {
			t.Fatal(err)
		}
		h.d.sched.notify()
		h.settle(10 * time.Second)
	}
	tick(time.Now(), before.Add(5*time.Minute)) // the window reaches 5 minutes back: to before
	c1 := h.customer(t, "ST-cus_test_1")
	if v, _ := c1["ZZStripeTotalPaid"].(decimal.Decimal); !v.Equal(decimal.RequireFromString("60")) || fmt.Sprint(c1["ZZStripePayments"]) != "3" {
		t.Fatalf("customer 1 after the run: %v", c1)
	}
	if c2 := h.customer(t, "ST-cus_test_2"); fmt.Sprint(c2["ZZStripePayments"]) != "1" {
		t.Fatalf("customer 2 after the run: %v", c2)
	}
	if n := patches(); n != 2 {
		t.Fatalf("%d customer updates, want 2: one per customer that changed", n)
	}
	// The next hour: nothing changed since (its window reaches 5 minutes
	// back and lists both again, but their versions are written: nothing
	// is sent).
	tick(time.Now().Add(time.Hour), time.Now())
	if n := patches(); n != 2 {
		t.Fatalf("%d customer updates after a run with nothing new, want still 2", n)
	}
	if c := h.settle(time.Second); c[store.Done] != 6 || c[store.Dead] != 0 {
		t.Fatalf("events: %v", c)
	}
}

// customer reads an F&O customer as the sandbox holds it.
func (h *harness) customer(t *testing.T, account string) erp.Record {
	t.Helper()
	recs, err := h.sb.Records("CustomersV3")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r["CustomerAccount"] == account {
			return r
		}
	}
	t.Fatalf("no customer %s", account)
	return nil
}
