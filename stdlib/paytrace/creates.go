package paytrace

import (
	"fmt"

	"github.com/flowhq/flow/stdlib/schema"
)

// Creatable objects: what a flow may create in PayTrace, with the
// parameters it may set. A flow charges a customer profile PayTrace keeps
// (its Customer Database, the "vault"), so no card data passes through
// flowd:
//
//	create sale = paytrace.Sale key "recurring:" + invoice + ":" + string(attempt) {
//	    customer_id: cust.PayTraceCustomerId,
//	    amount: open.AmountCur,
//	    invoice_id: invoice,
//	}
//
// The connector's Entities map the object ("Sale") to its parameters (the
// object paytrace.SaleCreateParams); a create binds what the runtime makes
// of PayTrace's answer (paytrace.Sale). A declined sale is not a failure:
// it binds a paytrace.Sale whose approved is false, so a flow can decide
// what to do next (retry another day, tell the customer).
//
// PayTrace takes no idempotency key: the runtime settles a sale whose
// answer was lost by looking for it in the export, by customer_id,
// invoice_id and amount (runtime/gateway/paytrace, Client.Find).

// creatable is one object flows may create.
type creatable struct {
	object string // the PayTrace object, "Sale"
	doc    string
	params []*schema.Field
	// answer is the object a create binds, qualify(object).
	answer    []*schema.Field
	answerDoc string
}

var creatables = []creatable{
	{
		object: "Sale",
		doc:    "Charges a customer profile (POST /v1/transactions/sale/by_customer): PayTrace authorizes and captures amount with the card stored in the profile.",
		params: []*schema.Field{
			{Name: "customer_id", Type: schema.StringType, Required: true, MaxLength: 50, Doc: "The customer profile to charge: the id it was created with (POST /v1/customer/create), not a card number."},
			{Name: "amount", Type: schema.DecimalType, Required: true, Doc: "The amount to charge in US dollars, exact (12.50): positive, at most two decimals."},
			{Name: "invoice_id", Type: schema.StringType, Required: true, MaxLength: 50, Doc: "The merchant's invoice number, shown in PayTrace and its export; with customer_id and amount it is how a sale in doubt is found again, so it is required."},
			{Name: "description", Type: schema.StringType, Doc: "A description of the sale, kept with the transaction."},
			{Name: "customer_reference_id", Type: schema.StringType, MaxLength: 17, Doc: "The customer's reference (a PO number), sent as level 2 data; card networks keep 17 characters."},
			{Name: "email", Type: schema.StringType, Doc: "Where PayTrace emails the receipt."},
		},
		answerDoc: "A sale as PayTrace answered it: approved, or declined (approved false) with the reason.",
		answer: []*schema.Field{
			{Name: "approved", Type: schema.BoolType, Doc: "Whether PayTrace approved the sale (response_code 101); false for a decline."},
			{Name: "transaction_id", Type: schema.StringType, Doc: "PayTrace's transaction id, as text; a declined sale has one too."},
			{Name: "response_code", Type: schema.IntType, Doc: "PayTrace's response code: 101 approved, 102 declined, 103 approved then voided (CSC mismatch)."},
			{Name: "status_message", Type: schema.StringType, Doc: `PayTrace's status message, "Your transaction was not approved."`},
			{Name: "approval_code", Type: schema.StringType, Doc: "The issuer's approval code; empty for a decline."},
			{Name: "approval_message", Type: schema.StringType, Doc: `The processor's message, "DECLINE - Do not honor".`},
			{Name: "avs_response", Type: schema.StringType, Doc: "The address verification result."},
			{Name: "csc_response", Type: schema.StringType, Doc: "The card security code result."},
			{Name: "masked_card_number", Type: schema.StringType, Doc: `The profile's card, masked: "xxxxxxxxxxxx5439".`},
			{Name: "amount", Type: schema.DecimalType, Doc: "The amount charged (or declined), in dollars, exact."},
			{Name: "invoice_id", Type: schema.StringType, Doc: "The invoice number sent."},
			{Name: "customer_id", Type: schema.StringType, Doc: "The customer profile charged."},
		},
	},
}

// addCreatables adds the parameter and answer objects to objects and
// returns the connector's Entities.
func addCreatables(objects map[string]*schema.Object) (map[string]*schema.Object, error) {
	out := make(map[string]*schema.Object, len(creatables))
	for _, c := range creatables {
		params, err := schema.NewObject(qualify(c.object+"CreateParams"), c.doc, c.params, nil)
		if err != nil {
			return nil, err
		}
		answer, err := schema.NewObject(qualify(c.object), c.answerDoc, c.answer, nil)
		if err != nil {
			return nil, err
		}
		for _, o := range []*schema.Object{params, answer} {
			if _, dup := objects[o.Name]; dup {
				return nil, fmt.Errorf("object %s is defined twice", o.Name)
			}
			objects[o.Name] = o
		}
		out[c.object] = params
	}
	return out, nil
}
