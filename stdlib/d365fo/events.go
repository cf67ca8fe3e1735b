package d365fo

import (
	"fmt"
	"sort"

	"github.com/flowhq/flow/stdlib/schema"
)

// Business events: F&O sends them to an HTTPS endpoint (flowd's
// POST /webhooks/d365fo) as a JSON object, the serialized business event
// contract. A flow is triggered by the event's BusinessEventId:
//
//	on erp.SalesInvoicePostedBusinessEvent as ev
//
// Every event shares the envelope fields of BusinessEventsContract; the
// rest are the contract's DataMembers. Sources, and what is assumed (see
// ../shared/reference/erp/d365fo/NOTES.md §Business events):
//
//   - The envelope (BusinessEventId, BusinessEventLegalEntity,
//     ContextRecordSubject, ControlNumber, EventId, EventTime,
//     EventTimeIso8601, InitiatingUserAADObjectId, MajorVersion,
//     MinorVersion, ParentContextRecordSubjects) is confirmed by public
//     samples of downloaded schemas, not by a Microsoft reference page.
//   - SalesInvoicePostedBusinessEvent's fields are the documented example
//     contract (business-events-dev-doc.md).
//   - FreeTextInvoicePostedBusinessEvent, VendorPaymentPostedBusinessEvent
//     and CustomerCreatedBusinessEvent are ASSUMED contracts: F&O's catalog
//     differs by version and these payloads are not published. The first
//     two follow the documented invoice contract's naming; the last is not
//     in the standard catalog (a tenant implements it, or uses the
//     CustomersV3 data event), and its fields are named after CustomersV3's.
//     A tenant whose payload differs reads the extra fields as missing
//     (zero values) and should say so in its own contract.
//
// Dates inside contracts are WCF "/Date(ms)/" strings and stay strings;
// EventTimeIso8601 is the event's instant as a timestamp. Amounts are
// decimals (F&O sends JSON numbers, read exactly, never through a float).

// eventEnvelope is the fields every business event carries.
func eventEnvelope() []*schema.Field {
	return []*schema.Field{
		{Name: "BusinessEventId", Type: schema.StringType, Doc: `The event's id in the business event catalog, e.g. "SalesInvoicePostedBusinessEvent"; flows name it in their trigger.`},
		{Name: "BusinessEventLegalEntity", Type: schema.StringType, Doc: "The legal entity (dataAreaId) the event was raised in."},
		{Name: "ContextRecordSubject", Type: schema.StringType, Doc: "The subject of the record the event is about, when the event names one."},
		{Name: "ControlNumber", Type: schema.IntType, Doc: "Increasing but not sequential number of the event (gaps are normal); flowd dedupes on it when an event has no EventId."},
		{Name: "EventId", Type: schema.StringType, Doc: "Unique id (a GUID) of this event; flowd dedupes deliveries on it."},
		{Name: "EventTime", Type: schema.StringType, Doc: `When the event was raised, in WCF form "/Date(milliseconds)/".`},
		{Name: "EventTimeIso8601", Type: schema.TimestampType, Doc: "When the event was raised (UTC)."},
		{Name: "InitiatingUserAADObjectId", Type: schema.StringType, Doc: "Microsoft Entra object id of the user whose action raised the event."},
		{Name: "MajorVersion", Type: schema.IntType, Doc: "Major version of the event's contract."},
		{Name: "MinorVersion", Type: schema.IntType, Doc: "Minor version of the event's contract."},
		{Name: "ParentContextRecordSubjects", Type: schema.ListOf(schema.AnyType), Doc: "Subjects of the parent records of the event's record."},
	}
}

// businessEvent is one typed contract: its BusinessEventId and its
// DataMembers (the envelope comes first).
type businessEvent struct {
	id     string
	doc    string
	fields []*schema.Field
}

func str(name, doc string) *schema.Field {
	return &schema.Field{Name: name, Type: schema.StringType, Doc: doc}
}
func dec(name, doc string) *schema.Field {
	return &schema.Field{Name: name, Type: schema.DecimalType, Doc: doc}
}

// businessEvents are the events the connector types. The object of each is
// "d365fo.<BusinessEventId>".
var businessEvents = []businessEvent{
	{
		id:  "SalesInvoicePostedBusinessEvent",
		doc: "A sales invoice (or, with a negative amount, a sales credit note) was posted. Documented contract.",
		fields: []*schema.Field{
			str("InvoiceAccount", "The customer account invoiced."),
			str("InvoiceId", "The invoice number."),
			str("SalesOrderId", "The sales order the invoice is for."),
			str("InvoiceDate", `The invoice date, "/Date(ms)/".`),
			str("InvoiceDueDate", `The due date, "/Date(ms)/".`),
			dec("InvoiceAmountInAccountingCurrency", "The invoice total in the legal entity's accounting currency; negative for a credit note."),
			dec("InvoiceTaxAmount", "The tax on the invoice."),
			str("LegalEntity", "The legal entity (dataAreaId)."),
		},
	},
	{
		id:  "FreeTextInvoicePostedBusinessEvent",
		doc: "A free text invoice (or, with a negative amount, a credit note) was posted. ASSUMED contract, named after the sales invoice one.",
		fields: []*schema.Field{
			str("InvoiceAccount", "The customer account invoiced."),
			str("InvoiceId", "The invoice number."),
			str("InvoiceDate", `The invoice date, "/Date(ms)/".`),
			str("InvoiceDueDate", `The due date, "/Date(ms)/".`),
			str("CurrencyCode", "The invoice's currency (ISO 4217)."),
			dec("InvoiceAmount", "The invoice total in CurrencyCode; negative for a credit note."),
			dec("InvoiceAmountInAccountingCurrency", "The invoice total in the legal entity's accounting currency."),
			dec("InvoiceTaxAmount", "The tax on the invoice."),
			str("LegalEntity", "The legal entity (dataAreaId)."),
		},
	},
	{
		id:  "VendorPaymentPostedBusinessEvent",
		doc: "A vendor payment journal line was posted. ASSUMED contract.",
		fields: []*schema.Field{
			str("VendorAccount", "The vendor paid."),
			str("JournalBatchNumber", "The payment journal."),
			str("Voucher", "The payment's voucher."),
			str("PaymentReference", "The payment reference."),
			str("PaymentDate", `The payment date, "/Date(ms)/".`),
			str("CurrencyCode", "The payment's currency (ISO 4217)."),
			dec("PaymentAmount", "The amount paid, in CurrencyCode."),
			str("LegalEntity", "The legal entity (dataAreaId)."),
		},
	},
	{
		id:  "CustomerCreatedBusinessEvent",
		doc: "A customer was created. ASSUMED contract: not in F&O's standard catalog; fields are named after the CustomersV3 entity's.",
		fields: []*schema.Field{
			str("CustomerAccount", "The new customer's account number."),
			str("CustomerGroupId", "The customer group."),
			str("OrganizationName", "The customer's name."),
			str("PrimaryContactEmail", "The primary contact's e-mail address."),
			str("PrimaryContactPhone", "The primary contact's phone number."),
			str("SalesCurrencyCode", "The customer's currency (ISO 4217)."),
			str("LegalEntity", "The legal entity (dataAreaId)."),
		},
	},
}

// TestEventID is the BusinessEventId F&O sends when an endpoint is tested
// from the business events catalog; no flow is triggered by it.
const TestEventID = "BusinessEventsTestEndpointContract"

// addEvents adds the business events to a connector being built: their
// objects and events. An object name the tenant's metadata already uses
// keeps the tenant's meaning and the event is left out.
func addEvents(objects map[string]*schema.Object, events map[string]*schema.Event) error {
	for _, be := range businessEvents {
		name := Name + "." + be.id
		if _, taken := objects[name]; taken {
			continue
		}
		fields := append(eventEnvelope(), be.fields...)
		o, err := schema.NewObject(name, be.doc, fields, nil)
		if err != nil {
			return fmt.Errorf("business event %s: %w", be.id, err)
		}
		objects[name] = o
		events[be.id] = &schema.Event{Name: be.id, Envelope: name, Object: name}
	}
	return nil
}

// BusinessEventIDs returns the ids of the typed business events, sorted.
func BusinessEventIDs() []string {
	out := make([]string, len(businessEvents))
	for i, be := range businessEvents {
		out[i] = be.id
	}
	sort.Strings(out)
	return out
}
