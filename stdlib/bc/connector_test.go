package bc

import (
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

func TestDefaultSchema(t *testing.T) {
	c := Default()
	for _, set := range []string{"customers", "salesOrders", "salesOrderLines", "salesInvoices", "salesInvoiceLines", "salesCreditMemos",
		"salesCreditMemoLines", "customerPaymentJournals", "customerPayments", "journals", "journalLines", "generalLedgerEntries"} {
		o := c.Entities[set]
		if o == nil {
			t.Fatalf("no entity set %s", set)
		}
		if len(o.Keys) != 1 || o.Keys[0] != "id" || !ReadOnly(set, "id") {
			t.Errorf("%s: keys %v", set, o.Keys)
		}
	}
	check := func(set, field string, kind schema.Kind, maxLen int) {
		t.Helper()
		f, ok := c.Entities[set].Field(field)
		if !ok || f.Type.Kind != kind || f.MaxLength != maxLen {
			t.Errorf("%s.%s = %+v", set, field, f)
		}
	}
	check("journalLines", "amount", schema.Decimal, 0)
	check("journalLines", "postingDate", schema.Timestamp, 0)
	check("journalLines", "lineNumber", schema.Int, 0)
	check("journals", "code", schema.String, 10)
	check("salesOrders", "externalDocumentNumber", schema.String, 35)
	check("customers", "taxLiable", schema.Bool, 0)
	at, _ := c.Entities["journalLines"].Field("accountType")
	if !at.Type.HasEnumValue("G/L Account") || at.Type.HasEnumValue("Ledger") {
		t.Errorf("accountType enum = %v", at.Type.Enum)
	}
	lt, _ := c.Entities["salesOrderLines"].Field("lineType")
	if !lt.Type.HasEnumValue("Resource") || !lt.Type.HasEnumValue("Value") {
		t.Errorf("lineType enum = %v", lt.Type.Enum)
	}
	if !ReadOnly("salesOrders", "totalAmountIncludingTax") || ReadOnly("salesOrders", "number") || !ReadOnly("generalLedgerEntries", "amount") && !ReadOnly("generalLedgerEntries", "debitAmount") {
		t.Error("read-only fields")
	}
	if WireType("journalLines", "postingDate") != "date" || WireType("journalLines", "journalId") != "GUID" {
		t.Error("wire types")
	}
	j := c.Journals["journalLines"]
	if j == nil || j.Amount != "amount" || j.Header != "journals" || j.Debit != "" || j.LedgerType != "G/L Account" {
		t.Fatalf("journal = %+v", j)
	}
	if c.Entities["salesOrders"].Anchor != "externalDocumentNumber" || c.Entities["customers"].Anchor != "" {
		t.Error("anchors")
	}
	if _, err := build([]byte(`{"resources":{"x":{"properties":[{"name":"id","type":"NAV.unknown"}]}}}`)); err == nil {
		t.Error("an unknown type loads")
	}
	if _, err := build([]byte(`{`)); err == nil {
		t.Error("broken JSON loads")
	}
}

func TestChangeEvents(t *testing.T) {
	c := Default()
	ev := c.Events["customers.created"]
	if ev == nil || ev.Object != "bc.customers" || ev.Envelope != "bc.customersNotification" {
		t.Fatalf("customers.created = %+v", ev)
	}
	env := c.Objects[ev.Envelope]
	rec, ok := env.Field("record")
	if !ok || rec.Type.Kind != schema.Struct || rec.Type.Object != "bc.customers" {
		t.Fatalf("record = %+v", rec)
	}
	if ct, _ := env.Field("changeType"); !ct.Type.HasEnumValue("collection") || !ct.Type.HasEnumValue("deleted") {
		t.Fatalf("changeType = %+v", ct.Type)
	}
	if len(c.Events) != len(WebhookSets)*len(ChangeTypes) {
		t.Errorf("%d events", len(c.Events))
	}
	if _, ok := c.Events["journalLines.created"]; ok {
		t.Error("journal lines have no webhooks")
	}
	for _, tc := range []struct {
		in        string
		set, kind string
		ok        bool
	}{
		{"customers.created", "customers", "created", true},
		{"salesOrders.deleted", "salesOrders", "deleted", true},
		{"customers.collection", "customers", "collection", false},
		{"journalLines.updated", "journalLines", "updated", false},
		{"customers", "", "", false},
	} {
		set, kind, ok := EventSet(tc.in)
		if set != tc.set || kind != tc.kind || ok != tc.ok {
			t.Errorf("EventSet(%q) = %q %q %v", tc.in, set, kind, ok)
		}
	}
}
