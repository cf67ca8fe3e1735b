package paypal

import (
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

// Flows create refunds and payouts, with typed parameters: amounts are
// exact decimals, never floats; what PayPal needs is required.
func TestCreatables(t *testing.T) {
	c := Connector()
	if got := c.EntityNames(); len(got) != 2 || got[0] != "Payout" || got[1] != "Refund" {
		t.Fatalf("entities %v, want Payout and Refund", got)
	}
	for _, tc := range []struct {
		entity   string
		required []string
		answer   string // the object a create binds
	}{
		{"Refund", []string{"capture_id"}, "paypal.Refund"},
		{"Payout", []string{"receiver", "amount", "currency"}, "paypal.Payout"},
	} {
		o := c.Entities[tc.entity]
		if o == nil || c.Objects[o.Name] != o || o.Name != "paypal."+tc.entity+"CreateParams" {
			t.Fatalf("%s: params object %v", tc.entity, o)
		}
		var required []string
		for _, f := range o.Fields {
			if f.Required {
				required = append(required, f.Name)
			}
			if f.Doc == "" {
				t.Errorf("%s.%s has no doc", o.Name, f.Name)
			}
		}
		if len(required) != len(tc.required) {
			t.Errorf("%s requires %v, want %v", o.Name, required, tc.required)
		}
		if amt, ok := o.Field("amount"); !ok || amt.Type.Kind != schema.Decimal {
			t.Errorf("%s.amount is not a decimal", o.Name)
		}
		if cur, ok := o.Field("currency"); !ok || cur.Type.Kind != schema.String || cur.MaxLength != 3 {
			t.Errorf("%s.currency: %+v", o.Name, cur)
		}
		if c.Objects[tc.answer] == nil {
			t.Errorf("no %s for a create to bind", tc.answer)
		}
	}
	rt, _ := c.Entities["Payout"].Field("recipient_type")
	if rt.Type.HasEnumValue("IBAN") || !rt.Type.HasEnumValue("PAYPAL_ID") {
		t.Errorf("recipient_type %v", rt.Type.Enum)
	}
}
