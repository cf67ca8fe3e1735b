package paytrace

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/flowhq/flow/stdlib/schema"
)

// Name is the connector's import path in flows: import "paytrace".
const Name = "paytrace"

// Event types: "transaction." and PayTrace's transaction_type in lower
// case. The poller makes an event of any type PayTrace exports; these are
// the ones flows can name.
const (
	Sale          = "transaction.sale"
	Refund        = "transaction.refund"
	Void          = "transaction.void"
	Authorization = "transaction.authorization"
	Capture       = "transaction.capture"
	Force         = "transaction.force"
)

// EventTypes are the event types flows can name, sorted.
var EventTypes = []string{Authorization, Capture, Force, Refund, Sale, Void}

// Connector returns the PayTrace connector schema (built once, immutable,
// safe for concurrent use).
func Connector() *schema.Connector { return connector() }

// Load is the connector's loader: it checks the import's poll and
// timezone settings (when given as strings) and returns the schema.
func Load(settings map[string]string, _ string) (*schema.Connector, error) {
	if err := CheckSettings(settings); err != nil {
		return nil, err
	}
	return Connector(), nil
}

// CheckSettings checks the settings an import gives as strings: poll must
// be a five-field cron spec, timezone an IANA zone, since a date. (A
// setting given as a param or a secret is checked when flowd starts: a
// poll without a timezone does not run, since PayTrace's times carry no
// zone.)
func CheckSettings(settings map[string]string) error {
	if tz, ok := settings["timezone"]; ok {
		if tz == "" || strings.EqualFold(tz, "local") {
			return fmt.Errorf("timezone %q: name the merchant's zone, e.g. \"America/Chicago\"", tz)
		}
		if _, err := time.LoadLocation(tz); err != nil {
			return fmt.Errorf("timezone %q is not a time zone (an IANA name such as \"America/Chicago\")", tz)
		}
	}
	if poll, ok := settings["poll"]; ok {
		if f := strings.Fields(poll); len(f) != 5 || strings.Trim(poll, "0123456789*,-/ ") != "" {
			return fmt.Errorf("poll %q is not a cron spec: five fields, minute hour day-of-month month day-of-week, e.g. \"*/5 * * * *\"", poll)
		}
	}
	if since, ok := settings["since"]; ok {
		if _, err := time.Parse(time.DateOnly, since); err != nil {
			return fmt.Errorf("since %q is not a date (YYYY-MM-DD)", since)
		}
	}
	return nil
}

var connector = sync.OnceValue(func() *schema.Connector {
	c, err := build()
	if err != nil {
		panic("stdlib/paytrace: " + err.Error()) // a build defect; TestConnectorValidates
	}
	return c
})

func qualify(name string) string { return Name + "." + name }

func build() (*schema.Connector, error) {
	str, dec, ts := schema.StringType, schema.DecimalType, schema.TimestampType
	defs := []struct {
		name, doc string
		fields    []*schema.Field
	}{
		{"TransactionEvent", "A PayTrace transaction flowd's poller found in the export (PayTrace sends no webhooks for API v1).", []*schema.Field{
			{Name: "id", Type: str, Doc: "the transaction's id, as text: the event's id (its inbox id is paytrace:<id>)"},
			{Name: "gateway", Type: str, Doc: `always "paytrace"`},
			{Name: "type", Type: str, Doc: `"transaction." and the transaction_type in lower case: "transaction.sale", "transaction.refund"`},
			{Name: "created", Type: ts, Doc: "when the transaction was created (created.at, read in the import's timezone)"},
			{Name: "transaction", Type: schema.ObjectOf(qualify("Transaction")), Doc: "the transaction"},
		}},
		{"Transaction", "A transaction as POST /v1/transactions/export/by_date_range returns it, with amounts exact and times zoned.", []*schema.Field{
			{Name: "transaction_id", Type: str, Doc: "PayTrace's transaction id, as text (PayTrace sends a number)"},
			{Name: "transaction_type", Type: str, Doc: `PayTrace's type in upper case: "SALE", "REFUND", "VOID", "AUTHORIZATION", "CAPTURE", "FORCE"`},
			{Name: "amount", Type: dec, Doc: "the amount in dollars, exact (PayTrace sends a number or a string); refunds are positive"},
			{Name: "tax_amount", Type: dec, Doc: "the tax in dollars, exact; 0 when PayTrace sends none"},
			{Name: "currency", Type: str, Doc: `"USD": PayTrace settles US dollars only`},
			{Name: "description", Type: str},
			{Name: "invoice_id", Type: str, Doc: "the merchant's invoice (order) number"},
			{Name: "customer_reference_id", Type: str, Doc: "the customer's reference, such as a PO number"},
			{Name: "customer_id", Type: str, Doc: "the PayTrace customer profile, when the sale used one"},
			{Name: "receipt_emailed_to", Type: str},
			{Name: "approval_code", Type: str},
			{Name: "approval_message", Type: str},
			{Name: "avs_response", Type: str},
			{Name: "csc_response", Type: str},
			{Name: "status_code", Type: str},
			{Name: "status_message", Type: str},
			{Name: "credit_card", Type: schema.ObjectOf(qualify("CreditCard"))},
			{Name: "billing_address", Type: schema.ObjectOf(qualify("Address"))},
			{Name: "shipping_address", Type: schema.ObjectOf(qualify("Address"))},
			{Name: "created", Type: schema.ObjectOf(qualify("Created"))},
			{Name: "settled", Type: ts, Doc: "when the batch settled (read in the import's timezone); absent while unsettled: has(tx.settled)"},
		}},
		{"CreditCard", "The card of a transaction, masked.", []*schema.Field{
			{Name: "masked_number", Type: str, Doc: `"************5454"`},
			{Name: "expiration_month", Type: schema.IntType},
			{Name: "expiration_year", Type: schema.IntType, Doc: "two digits, as PayTrace sends it"},
		}},
		{"Address", "A billing or shipping address.", []*schema.Field{
			{Name: "name", Type: str}, {Name: "street_address", Type: str}, {Name: "street_address2", Type: str},
			{Name: "city", Type: str}, {Name: "county", Type: str}, {Name: "state", Type: str},
			{Name: "zip", Type: str}, {Name: "country", Type: str},
		}},
		{"Created", "Who created the transaction, how and when.", []*schema.Field{
			{Name: "through", Type: str, Doc: `"API", "Virtual Terminal", ...`},
			{Name: "at", Type: ts, Doc: "when, read in the import's timezone"},
			{Name: "by", Type: str, Doc: "the PayTrace user"},
			{Name: "from_ip", Type: str},
		}},
	}
	objects := map[string]*schema.Object{}
	for _, d := range defs {
		o, err := schema.NewObject(qualify(d.name), d.doc, d.fields, nil)
		if err != nil {
			return nil, err
		}
		objects[o.Name] = o
	}
	events := map[string]*schema.Event{}
	for _, name := range EventTypes {
		events[name] = &schema.Event{Name: name, Envelope: qualify("TransactionEvent"), Object: qualify("Transaction")}
	}
	entities, err := addCreatables(objects)
	if err != nil {
		return nil, err
	}
	c := &schema.Connector{
		Name: Name,
		Kind: schema.Gateway,
		Doc: "PayTrace (JSON API v1): the transactions flowd polls from the export API, one event each, " +
			"and sales flows create against stored customer profiles. " +
			"Amounts are exact dollars; times are read in the import's timezone.",
		Objects:  objects,
		Events:   events,
		Entities: entities,
		Config:   config(),
		Reverses: map[string][]string{Sale: {Refund, Void}},
	}
	return c, c.Validate()
}

// config returns what `import "paytrace"` may configure.
func config() []*schema.Field {
	return []*schema.Field{
		{Name: "username", Type: schema.StringType, Doc: "Name of the secret holding the PayTrace API user's name."},
		{Name: "password", Type: schema.StringType, Doc: "Name of the secret holding the PayTrace API user's password."},
		{Name: "integrator_id", Type: schema.StringType, Doc: "The integrator id PayTrace issued (a string or a secret); sent with every request."},
		{Name: "api_base", Type: schema.StringType, Doc: "Optional base URL: https://api.paytrace.com (the default) or https://api.sandbox.paytrace.com."},
		{Name: "poll", Type: schema.StringType, Doc: `How often flowd polls the export: a five-field cron spec in the timezone below, e.g. "*/5 * * * *". No poll: flowd does not poll.`},
		{Name: "timezone", Type: schema.StringType, Doc: `The merchant's time zone (IANA, "America/Chicago"): PayTrace's dates carry none. Required with poll; a string or a param.`},
		{Name: "since", Type: schema.StringType, Doc: "Optional first day (YYYY-MM-DD) the first poll exports from; by default the first poll starts today."},
	}
}
