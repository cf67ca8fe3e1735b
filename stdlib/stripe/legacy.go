package stripe

import (
	"fmt"
	"slices"

	"github.com/flowhq/flow/stdlib/schema"
)

// legacyMark starts the doc note of every overlay field.
const legacyMark = "Legacy: sent by API version"

// legacyField is a field that payloads rendered in an older API version carry
// and stripe-go v76 no longer declares. Accounts pin their API version, so
// webhooks keep arriving in the old shape until the account upgrades.
type legacyField struct {
	Object  string // Go type name of the object: "Charge"
	Field   string // JSON name
	Type    *schema.Type
	Version string // an API version known to send it (the fixture's)
	Doc     string
}

// legacyEnum adds values an older API version sends to a v76 enum field.
type legacyEnum struct {
	Object  string
	Field   string
	Values  []string
	Version string
}

// legacyFields: each entry is backed by a payload in testdata/stripe (the
// fixture test fails on an entry no payload uses, and on a payload field that
// is neither in v76 nor here).
var legacyFields = []legacyField{
	// Charge: fields dropped from the Charge object after 2020-08-27.
	{Object: "Charge", Field: "destination", Type: schema.StringType, Version: "2020-08-27",
		Doc: "ID of the connected account a destination charge was made for; use transfer_data.destination. Expandable."},
	{Object: "Charge", Field: "dispute", Type: schema.StringType, Version: "2020-08-27",
		Doc: "ID of the dispute on this charge, if any; use the disputed flag and charge.dispute.* events. Expandable."},
	{Object: "Charge", Field: "order", Type: schema.StringType, Version: "2020-08-27",
		Doc: "ID of the order (Orders v1, retired) this charge is for."},
	// Dispute: a single balance transaction before balance_transactions.
	{Object: "Dispute", Field: "balance_transaction", Type: schema.StringType, Version: "2020-08-27",
		Doc: "ID of the balance transaction that withdrew the disputed funds; use balance_transactions."},
	// Subscription: single-plan subscriptions, before items were the only source of truth.
	{Object: "Subscription", Field: "plan", Type: schema.ObjectOf("stripe.Plan"), Version: "2020-08-27",
		Doc: "The plan of a single-item subscription; use items.data[].price."},
	{Object: "Subscription", Field: "quantity", Type: schema.IntType, Version: "2020-08-27",
		Doc: "The quantity of a single-item subscription; use items.data[].quantity."},
}

// legacyEnums: values older API versions send that v76's enums lack (none
// in the fixtures so far; the fixture test reports any it meets).
var legacyEnums = []legacyEnum{}

// applyLegacy merges the overlay into the generated objects. Legacy fields are
// appended after the v76 fields; their doc names the API version.
func applyLegacy(g *generated) error {
	for _, l := range legacyFields {
		o, ok := g.index[l.Object]
		if !ok {
			return fmt.Errorf("legacy field %s.%s: no object %s", l.Object, l.Field, l.Object)
		}
		if _, dup := g.field(l.Object, l.Field); dup {
			return fmt.Errorf("legacy field %s.%s: v76 declares it; drop the overlay entry", l.Object, l.Field)
		}
		o.fields = append(o.fields, &schema.Field{Name: l.Field, Type: l.Type, Doc: l.Doc + " " + legacyMark + " " + l.Version + "; absent from stripe-go v76."})
	}
	for _, l := range legacyEnums {
		f, ok := g.field(l.Object, l.Field)
		if !ok || f.Type.Enum == nil {
			return fmt.Errorf("legacy enum %s.%s: not an enum field", l.Object, l.Field)
		}
		vals := slices.Clone(f.Type.Enum)
		for _, v := range l.Values {
			if f.Type.HasEnumValue(v) {
				return fmt.Errorf("legacy enum %s.%s: v76 has %q; drop it from the overlay", l.Object, l.Field, v)
			}
			vals = append(vals, v)
		}
		f.Type = schema.EnumOf(vals...) // a new type: the shared v76 one stays as generated
	}
	return nil
}
