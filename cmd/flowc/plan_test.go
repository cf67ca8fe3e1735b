package main

import (
	"strings"
	"testing"
)

// flowc plan shows every step the runtime runs: the body of a for, numbered
// under it, a review's hold, and aggregate updates and reads.
func TestPlanShowsNestedAndNewSteps(t *testing.T) {
	out, _ := flowc(t, 0, "plan", "../../flows/stripe_billing_d365")
	for _, want := range []string{
		"5. for each line in inv.lines.data  : list(stripe.InvoiceLineItem)",
		"     5.2. create erp.FreeTextInvoiceLines once per key",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	out, _ = flowc(t, 0, "plan", "../../flows/stripe_d365")
	if !strings.Contains(out, "hold the event for review when signals.flagged, because signals.reason") {
		t.Errorf("plan lacks the review step:\n%s", out)
	}
	out, _ = flowc(t, 0, "plan", "../../flows/stripe_d365_enrichment")
	if !strings.Contains(out, "update aggregate customer_stats[") || !strings.Contains(out, "read aggregate charge_customer[dp.charge] as charge") {
		t.Errorf("plan lacks the aggregate steps:\n%s", out)
	}
}
