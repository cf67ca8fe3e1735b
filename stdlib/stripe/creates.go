package stripe

import "github.com/flowhq/flow/stdlib/schema"

// Creatable objects: what a flow may create in Stripe, with the create
// parameters it may set.
//
//	create stripe.Customer key "erp-cust:" + ev.CustomerAccount {
//	    email: ev.PrimaryContactEmail,
//	    metadata: {"erp_account": ev.CustomerAccount},
//	}
//
// The connector's Entities map the object ("Customer") to its parameters
// (the object stripe.CustomerCreateParams); a create binds the object it
// returns (stripe.Customer). The parameters are a curated subset of
// stripe-go v76's CustomerParams and RefundParams (the runtime fills them
// from the same fields); amounts are integer minor units, as Stripe takes
// them. The runtime sends every create with an Idempotency-Key derived from
// the flow's key, and keeps the key in metadata["flow_key"] so that a
// write in doubt is found again: flows leave that metadata key alone.

// MetadataKey is the metadata key where a create keeps the flow's
// idempotency key.
const MetadataKey = "flow_key"

// metadataType is Stripe's metadata: up to 50 keys of at most 40
// characters, string values of at most 500.
var metadataType = schema.MapOf(schema.StringType, schema.StringType)

// creatable is one object flows may create.
type creatable struct {
	object string // the Stripe object, "Customer"
	doc    string
	params []*schema.Field
}

var creatables = []creatable{
	{
		object: "Customer",
		doc:    "Creates a customer (POST /v1/customers). Parameters of stripe-go's CustomerParams.",
		params: []*schema.Field{
			{Name: "email", Type: schema.StringType, MaxLength: 512, Doc: "Customer's email address."},
			{Name: "name", Type: schema.StringType, MaxLength: 256, Doc: "The customer's full name or business name."},
			{Name: "description", Type: schema.StringType, MaxLength: 350, Doc: "An arbitrary string attached to the customer, shown in the Dashboard."},
			{Name: "phone", Type: schema.StringType, MaxLength: 20, Doc: "The customer's phone number."},
			{Name: "metadata", Type: metadataType, Doc: `Key-value pairs kept on the customer, e.g. {"erp_account": ev.CustomerAccount}; "` + MetadataKey + `" is the runtime's.`},
		},
	},
	{
		object: "Refund",
		doc:    "Refunds a charge or payment intent (POST /v1/refunds). Parameters of stripe-go's RefundParams.",
		params: []*schema.Field{
			{Name: "charge", Type: schema.StringType, Doc: "The charge to refund (ch_...); set it or payment_intent."},
			{Name: "payment_intent", Type: schema.StringType, Doc: "The PaymentIntent to refund (pi_...); set it or charge."},
			{Name: "amount", Type: schema.MinorType, Doc: "Amount to refund, in the charge currency's minor units; the whole remaining amount when unset. Convert decimals with minor(amount, currency)."},
			{Name: "reason", Type: schema.EnumOf("duplicate", "fraudulent", "requested_by_customer"), Doc: "Why the refund is made."},
			{Name: "metadata", Type: metadataType, Doc: `Key-value pairs kept on the refund; "` + MetadataKey + `" is the runtime's.`},
		},
	},
}

// addCreatables adds the parameter objects to objects and returns the
// connector's Entities.
func addCreatables(objects map[string]*schema.Object) (map[string]*schema.Object, error) {
	out := make(map[string]*schema.Object, len(creatables))
	for _, c := range creatables {
		o, err := schema.NewObject(qualify(c.object+"CreateParams"), c.doc, c.params, nil)
		if err != nil {
			return nil, err
		}
		objects[o.Name] = o
		out[c.object] = o
	}
	return out, nil
}
