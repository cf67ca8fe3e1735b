package stripe

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

func TestConnectorValidates(t *testing.T) {
	c := Connector()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Name != "stripe" || c.Kind != schema.Gateway {
		t.Errorf("Name, Kind = %q, %v; want stripe, gateway", c.Name, c.Kind)
	}
	if !strings.Contains(c.Doc, "v76") {
		t.Errorf("Doc %q does not name the stripe-go version", c.Doc)
	}
}

func TestConnectorIsSharedAndConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	got := make([]*schema.Connector, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = Connector()
		}()
	}
	wg.Wait()
	for _, c := range got {
		if c != got[0] {
			t.Fatal("Connector returned different values")
		}
	}
}

// fixtureEvents are the event names the fixtures name: full payloads in
// events/ and stripe-cli trigger recipes in cli_triggers/.
func fixtureEvents(t *testing.T) []string {
	var names []string
	for _, dir := range []string{"events", "cli_triggers"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.json"))
		if len(files) == 0 {
			t.Fatalf("no fixtures in %s", dir)
		}
		for _, f := range files {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func TestFixtureEventsAreMapped(t *testing.T) {
	c := Connector()
	for _, name := range fixtureEvents(t) {
		if _, ok := c.Events[name]; !ok {
			t.Errorf("fixture event %s is not in the schema", name)
		}
	}
	// The subject of every full payload is the mapped object: data.object.object
	// ("charge", "dispute"...) names the Stripe type.
	stripeTypes := map[string]string{
		"balance": "stripe.Balance", "charge": "stripe.Charge", "customer": "stripe.Customer",
		"dispute": "stripe.Dispute", "invoice": "stripe.Invoice", "payout": "stripe.Payout",
		"subscription": "stripe.Subscription",
	}
	files, _ := filepath.Glob(filepath.Join(fixtures, "events", "*.json"))
	for _, f := range files {
		ev := readJSON(t, f)
		obj := ev["data"].(map[string]any)["object"].(map[string]any)["object"].(string)
		e := c.Events[ev["type"].(string)]
		if e == nil {
			continue // reported above
		}
		if want := stripeTypes[obj]; e.Object != want {
			t.Errorf("%s: subject %s, payload is a %q (want %s)", filepath.Base(f), e.Object, obj, want)
		}
	}
}

func TestEventSubjects(t *testing.T) {
	c := Connector()
	for name, want := range map[string]string{
		"charge.succeeded":                "stripe.Charge",
		"charge.refunded":                 "stripe.Charge",
		"charge.dispute.created":          "stripe.Dispute",
		"charge.dispute.funds_withdrawn":  "stripe.Dispute",
		"charge.refund.updated":           "stripe.Refund",
		"refund.created":                  "stripe.Refund",
		"customer.created":                "stripe.Customer",
		"customer.subscription.updated":   "stripe.Subscription",
		"customer.discount.created":       "stripe.Discount",
		"customer.tax_id.created":         "stripe.TaxID",
		"customer.source.created":         "stripe.PaymentSource",
		"payout.paid":                     "stripe.Payout",
		"invoice.paid":                    "stripe.Invoice",
		"invoice.payment_succeeded":       "stripe.Invoice",
		"invoiceitem.created":             "stripe.InvoiceItem",
		"payment_intent.succeeded":        "stripe.PaymentIntent",
		"balance.available":               "stripe.Balance",
		"checkout.session.completed":      "stripe.CheckoutSession",
		"credit_note.created":             "stripe.CreditNote",
		"application_fee.refund.updated":  "stripe.FeeRefund",
		"treasury.received_credit.failed": "stripe.TreasuryReceivedCredit",
	} {
		e, ok := c.Events[name]
		if !ok {
			t.Errorf("event %s missing", name)
			continue
		}
		if e.Object != want || e.Envelope != want+"Event" || e.Name != name {
			t.Errorf("event %s = %+v; want object %s, envelope %sEvent", name, *e, want, want)
		}
	}
	// Resources stripe-go v76 dropped have no subject type: left out.
	for _, name := range []string{"sku.created", "recipient.created", "order.created"} {
		if _, ok := c.Events[name]; ok {
			t.Errorf("event %s should be left out (no stripe-go type)", name)
		}
	}
}

func TestEnvelope(t *testing.T) {
	c := Connector()
	env := object(t, c, "stripe.ChargeEvent")
	for name, want := range map[string]*schema.Type{
		"id":               schema.StringType,
		"object":           schema.StringType,
		"api_version":      schema.StringType,
		"created":          schema.IntType,
		"livemode":         schema.BoolType,
		"pending_webhooks": schema.IntType,
		"type":             schema.StringType,
		"account":          schema.StringType,
		"request":          schema.ObjectOf("stripe.EventRequest"),
		"data":             schema.ObjectOf("stripe.ChargeEventData"),
	} {
		checkField(t, env, name, want)
	}
	if f, _ := env.Field("created"); !strings.Contains(f.Doc, "Unix seconds") {
		t.Errorf("ChargeEvent.created doc %q does not say Unix seconds", f.Doc)
	}
	data := object(t, c, "stripe.ChargeEventData")
	checkField(t, data, "object", schema.ObjectOf("stripe.Charge"))
	checkField(t, data, "previous_attributes", schema.MapOf(schema.StringType, schema.AnyType))
	req := object(t, c, "stripe.EventRequest")
	checkField(t, req, "id", schema.StringType)
	checkField(t, req, "idempotency_key", schema.StringType)
}

func TestFieldTypes(t *testing.T) {
	c := Connector()
	for _, tc := range []struct {
		object, field string
		want          *schema.Type
	}{
		// Money in minor units.
		{"stripe.Charge", "amount", schema.MinorType},
		{"stripe.Charge", "amount_refunded", schema.MinorType},
		{"stripe.Charge", "amount_captured", schema.MinorType},
		{"stripe.BalanceTransaction", "amount", schema.MinorType},
		{"stripe.BalanceTransaction", "fee", schema.MinorType},
		{"stripe.BalanceTransaction", "net", schema.MinorType},
		{"stripe.BalanceTransactionFeeDetail", "amount", schema.MinorType},
		{"stripe.Payout", "amount", schema.MinorType},
		{"stripe.Refund", "amount", schema.MinorType},
		{"stripe.Dispute", "amount", schema.MinorType},
		{"stripe.Invoice", "amount_paid", schema.MinorType},
		{"stripe.Invoice", "total", schema.MinorType},
		{"stripe.Amount", "amount", schema.MinorType},
		{"stripe.Amount", "source_types", schema.MapOf(schema.StringType, schema.MinorType)},
		// Plain integers and timestamps are not money.
		{"stripe.Charge", "created", schema.IntType},
		{"stripe.BalanceTransaction", "available_on", schema.IntType},
		{"stripe.Payout", "arrival_date", schema.IntType},
		{"stripe.InvoiceLineItem", "quantity", schema.IntType},
		{"stripe.BalanceTransaction", "exchange_rate", schema.DecimalType}, // rates multiply money: exact
		// Expandable references arrive as IDs.
		{"stripe.Charge", "customer", schema.StringType},
		{"stripe.Charge", "balance_transaction", schema.StringType},
		{"stripe.Charge", "invoice", schema.StringType},
		{"stripe.Charge", "payment_intent", schema.StringType},
		{"stripe.BalanceTransaction", "source", schema.StringType},
		{"stripe.Refund", "charge", schema.StringType},
		{"stripe.Invoice", "discounts", schema.ListOf(schema.StringType)},
		// ... unless the position always holds the full object.
		{"stripe.SubscriptionItem", "price", schema.ObjectOf("stripe.Price")},
		{"stripe.Discount", "coupon", schema.ObjectOf("stripe.Coupon")},
		{"stripe.Charge", "source", schema.ObjectOf("stripe.PaymentSource")},
		{"stripe.Dispute", "balance_transactions", schema.ListOf(schema.ObjectOf("stripe.BalanceTransaction"))},
		// Nested objects, maps and list wrappers.
		{"stripe.Charge", "billing_details", schema.ObjectOf("stripe.ChargeBillingDetails")},
		{"stripe.ChargeBillingDetails", "address", schema.ObjectOf("stripe.Address")},
		{"stripe.Charge", "metadata", schema.MapOf(schema.StringType, schema.StringType)},
		{"stripe.Charge", "refunds", schema.ObjectOf("stripe.RefundList")},
		{"stripe.RefundList", "data", schema.ListOf(schema.ObjectOf("stripe.Refund"))},
		{"stripe.RefundList", "has_more", schema.BoolType},
		{"stripe.RefundList", "url", schema.StringType},
		{"stripe.RefundList", "object", schema.StringType},
		{"stripe.Charge", "paid", schema.BoolType},
		{"stripe.Charge", "currency", schema.StringType},
		// A number stripe-go reads from a JSON string stays a string.
		{"stripe.Price", "unit_amount_decimal", schema.StringType},
	} {
		checkField(t, object(t, c, tc.object), tc.field, tc.want)
	}
}

func TestEnums(t *testing.T) {
	c := Connector()
	rc, _ := object(t, c, "stripe.BalanceTransaction").Field("reporting_category")
	for _, v := range []string{"charge", "refund", "dispute", "payout", "fee", "other_adjustment", "transfer"} {
		if rc.Type.Enum == nil || !rc.Type.HasEnumValue(v) {
			t.Errorf("BalanceTransaction.reporting_category %v lacks %q", rc.Type.Enum, v)
		}
	}
	if rc.Type.HasEnumValue("no_such_category") {
		t.Error("reporting_category accepts any value")
	}
	st, _ := object(t, c, "stripe.Charge").Field("status")
	if !slices.Equal(st.Type.Enum, []string{"failed", "pending", "succeeded"}) {
		t.Errorf("Charge.status enum = %v", st.Type.Enum)
	}
	for _, o := range c.Objects {
		for _, f := range o.Fields {
			if f.Type.Enum != nil && !slices.IsSorted(f.Type.Enum) {
				t.Errorf("%s.%s: enum not sorted", o.Name, f.Name)
			}
		}
	}
}

func TestDocs(t *testing.T) {
	c := Connector()
	f, _ := object(t, c, "stripe.Charge").Field("customer")
	if !strings.Contains(f.Doc, "Expandable") || !strings.Contains(f.Doc, "stripe.Customer") {
		t.Errorf("Charge.customer doc %q does not say it is an expandable id", f.Doc)
	}
	f, _ = object(t, c, "stripe.BalanceTransaction").Field("available_on")
	if !strings.Contains(f.Doc, "Unix seconds") {
		t.Errorf("BalanceTransaction.available_on doc %q does not say Unix seconds", f.Doc)
	}
	for _, o := range c.Objects {
		for _, f := range o.Fields {
			if strings.Contains(f.Doc, "](http") {
				t.Errorf("%s.%s: markdown link left in doc", o.Name, f.Name)
			}
			if len(f.Doc) > 400 {
				t.Errorf("%s.%s: doc is %d bytes", o.Name, f.Name, len(f.Doc))
			}
		}
	}
}

func TestLists(t *testing.T) {
	c := Connector()
	l, ok := c.Lists["balance_transactions"]
	if !ok {
		t.Fatal("no balance_transactions list")
	}
	if l.Elem != "stripe.BalanceTransaction" {
		t.Errorf("Elem = %s", l.Elem)
	}
	want := []schema.Param{{Name: "payout", Type: schema.StringType, Required: true}, {Name: "type", Type: schema.StringType}}
	if len(l.Params) != len(want) {
		t.Fatalf("Params = %+v", l.Params)
	}
	for i, p := range l.Params {
		if p.Name != want[i].Name || !p.Type.Equal(want[i].Type) || p.Required != want[i].Required {
			t.Errorf("Params[%d] = %+v; want %+v", i, p, want[i])
		}
	}
}

func TestConfig(t *testing.T) {
	var names []string
	for _, f := range Connector().Config {
		names = append(names, f.Name)
		if !f.Type.Equal(schema.StringType) || f.Doc == "" {
			t.Errorf("config %s: type %s, doc %q", f.Name, f.Type, f.Doc)
		}
	}
	if !slices.Equal(names, []string{"webhook_secret", "api_key", "api_base"}) {
		t.Errorf("config = %v", names)
	}
}

func TestReverses(t *testing.T) {
	c := Connector()
	want := map[string][]string{
		"charge.succeeded":           {"charge.refunded", "charge.refund.updated", "refund.created"},
		"payment_intent.succeeded":   {"charge.refunded", "refund.created"},
		"invoice.paid":               {"charge.refunded", "credit_note.created"},
		"checkout.session.completed": {"charge.refunded"},
	}
	if len(c.Reverses) != len(want) {
		t.Errorf("Reverses = %v", c.Reverses)
	}
	for from, to := range want {
		if !slices.Equal(c.Reverses[from], to) {
			t.Errorf("Reverses[%s] = %v; want %v", from, c.Reverses[from], to)
		}
		for _, e := range append([]string{from}, to...) {
			if _, ok := c.Events[e]; !ok {
				t.Errorf("reverse table names unknown event %s", e)
			}
		}
	}
}

// TestLegacyOverlayIsNeeded proves the fixture test catches a missing overlay
// entry: without legacy.go, exactly the overlay's fields fail to resolve.
func TestLegacyOverlayIsNeeded(t *testing.T) {
	bare, err := build(genText, false)
	if err != nil {
		t.Fatal(err)
	}
	w := newWalker(bare)
	files, _ := filepath.Glob(filepath.Join(fixtures, "events", "*.json"))
	for _, f := range files {
		ev := readJSON(t, f)
		w.object(filepath.Base(f), bare.Events[ev["type"].(string)].Envelope, ev)
	}
	missing := map[string]bool{}
	for _, p := range w.problems {
		for _, l := range legacyFields {
			if strings.Contains(p, `no field "`+l.Field+`" in stripe.`+l.Object+" ") {
				missing[l.Object+"."+l.Field] = true
			}
		}
	}
	for _, l := range legacyFields {
		if !missing[l.Object+"."+l.Field] {
			t.Errorf("without the overlay, %s.%s was not reported", l.Object, l.Field)
		}
	}
	if len(w.problems) == 0 {
		t.Error("without the overlay the fixtures still resolve")
	}
}

func object(t *testing.T, c *schema.Connector, name string) *schema.Object {
	t.Helper()
	o, ok := c.Object(name)
	if !ok {
		t.Fatalf("no object %s", name)
	}
	return o
}

func checkField(t *testing.T, o *schema.Object, name string, want *schema.Type) {
	t.Helper()
	f, ok := o.Field(name)
	if !ok {
		t.Errorf("%s has no field %s", o.Name, name)
		return
	}
	if !f.Type.Equal(want) {
		t.Errorf("%s.%s: %s, want %s", o.Name, name, f.Type, want)
	}
}

// BenchmarkConnector measures a cold build: decoding schema_gen.txt and
// assembling the connector, which every `flowc check` pays once.
func BenchmarkConnector(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := build(genText, true); err != nil {
			b.Fatal(err)
		}
	}
}
