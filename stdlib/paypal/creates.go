package paypal

import (
	"fmt"

	"github.com/flowhq/flow/stdlib/schema"
)

// Creatable objects: what a flow may create in PayPal, with the parameters
// it may set.
//
//	create paypal.Refund key "erp-credit:" + ev.LegalEntity + ":" + ev.InvoiceId {
//	    capture_id: order.CustomersOrderReference,
//	    amount: -ev.InvoiceAmountInAccountingCurrency,
//	    currency: "USD",
//	    invoice_id: ev.InvoiceId,
//	}
//
// The connector's Entities map the object ("Refund") to its parameters
// (the object paypal.RefundCreateParams); a create binds what PayPal
// answers (paypal.Refund, paypal.Payout). The parameters are flat where
// PayPal nests them: amount is an exact decimal in major units (12.50, as
// PayPal's Money value takes it, never a float) and currency its ISO 4217
// code, which the runtime sends as PayPal's amount object. A payout pays
// one receiver.
//
// The runtime sends every create with a PayPal-Request-Id derived from the
// flow's key (a payout's sender_batch_id is the same value), so a create
// PayPal already performed is answered with its first result instead of
// being done again.

// payoutRecipientTypes are the kinds of payout receiver.
var payoutRecipientTypes = schema.EnumOf("EMAIL", "PAYPAL_ID", "PHONE")

// creatable is one object flows may create.
type creatable struct {
	object string // the PayPal object, "Refund"
	doc    string
	params []*schema.Field
}

var creatables = []creatable{
	{
		object: "Refund",
		doc:    "Refunds a captured payment (POST /v2/payments/captures/{capture_id}/refund), all of what is left of it or amount.",
		params: []*schema.Field{
			{Name: "capture_id", Type: schema.StringType, Required: true, MaxLength: 36, Doc: "The PayPal-generated id of the captured payment to refund (17 characters, e.g. 2GG279541U471931P)."},
			{Name: "amount", Type: schema.DecimalType, Doc: "The amount to refund, an exact decimal in currency's major units (12.50); what is left of the capture when unset."},
			{Name: "currency", Type: schema.StringType, MaxLength: 3, Doc: "The ISO 4217 code of amount, the capture's currency (USD); required with amount."},
			{Name: "invoice_id", Type: schema.StringType, MaxLength: 127, Doc: "The caller's invoice number for the refund (the credit note), in the payer's and the payee's transaction history."},
			{Name: "custom_id", Type: schema.StringType, MaxLength: 127, Doc: "The caller's external id, for reconciliation; not shown to the payer."},
			{Name: "note_to_payer", Type: schema.StringType, MaxLength: 255, Doc: "The reason for the refund, shown to the payer."},
		},
	},
	{
		object: "Payout",
		doc:    "Sends money to one receiver (POST /v1/payments/payouts): a payout batch of one item, whose sender_batch_id the runtime derives from the flow's key.",
		params: []*schema.Field{
			{Name: "receiver", Type: schema.StringType, Required: true, MaxLength: 127, Doc: "Who is paid: an email address, a PayPal account id (payer id) or a phone number, as recipient_type says."},
			{Name: "recipient_type", Type: payoutRecipientTypes, Doc: "What receiver is: EMAIL (the default), PAYPAL_ID or PHONE."},
			{Name: "amount", Type: schema.DecimalType, Required: true, Doc: "The amount to pay, an exact decimal in currency's major units (125.00)."},
			{Name: "currency", Type: schema.StringType, Required: true, MaxLength: 3, Doc: "The ISO 4217 code of amount (USD)."},
			{Name: "note", Type: schema.StringType, MaxLength: 4000, Doc: "A note to the receiver, in the payout's email."},
			{Name: "sender_item_id", Type: schema.StringType, MaxLength: 63, Doc: "The caller's id of the payment (the vendor payment's voucher), for reconciliation."},
			{Name: "email_subject", Type: schema.StringType, MaxLength: 255, Doc: "The subject of the email PayPal sends the receiver."},
			{Name: "email_message", Type: schema.StringType, MaxLength: 1000, Doc: "The message of the email PayPal sends the receiver."},
		},
	},
}

// payoutObjects are the answer a payout create binds: paypal.Payout, the
// batch's header (the Payouts API is not in the generated specifications).
func payoutObjects() []*genObject {
	return []*genObject{
		{name: "Payout", doc: "A payout batch as PayPal answers its creation.", fields: []*schema.Field{
			{Name: "batch_header", Type: schema.ObjectOf(qualify("PayoutBatchHeader")), Doc: "The batch's header: its id and status."},
			{Name: "links", Type: schema.ListOf(schema.ObjectOf(qualify("LinkDescription"))), Doc: "Related HATEOAS links."},
		}},
		{name: "PayoutBatchHeader", doc: "The header of a payout batch.", fields: []*schema.Field{
			{Name: "payout_batch_id", Type: schema.StringType, Doc: "The PayPal-generated id of the batch."},
			{Name: "batch_status", Type: schema.EnumOf("CANCELED", "DENIED", "NEW", "PENDING", "PROCESSING", "SUCCESS"), Doc: "The batch's status; PENDING once it passes PayPal's first checks."},
			{Name: "time_created", Type: schema.TimestampType, Doc: "When processing of the batch began."},
			{Name: "sender_batch_header", Type: schema.ObjectOf(qualify("PayoutSenderBatchHeader")), Doc: "The header as the runtime sent it."},
		}},
		{name: "PayoutSenderBatchHeader", doc: "The sender's header of a payout batch.", fields: []*schema.Field{
			{Name: "sender_batch_id", Type: schema.StringType, Doc: "The batch id the runtime derived from the flow's key; PayPal refuses it again for 30 days."},
			{Name: "email_subject", Type: schema.StringType, Doc: "The subject of the receiver's email."},
			{Name: "email_message", Type: schema.StringType, Doc: "The message of the receiver's email."},
		}},
	}
}

// addCreatables adds the parameter objects and the payout answer to
// objects and returns the connector's Entities.
func addCreatables(objects map[string]*schema.Object) (map[string]*schema.Object, error) {
	for _, g := range payoutObjects() {
		o, err := schema.NewObject(qualify(g.name), g.doc, g.fields, nil)
		if err != nil {
			return nil, err
		}
		if _, dup := objects[o.Name]; dup {
			return nil, fmt.Errorf("object %s is generated already", o.Name)
		}
		objects[o.Name] = o
	}
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
