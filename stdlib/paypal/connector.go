package paypal

import (
	"sync"

	"github.com/flowhq/flow/stdlib/schema"
)

// Name is the connector's import path in flows: import "paypal".
const Name = "paypal"

// Connector returns the PayPal connector schema (built once, immutable,
// safe for concurrent use).
func Connector() *schema.Connector { return connector() }

var connector = sync.OnceValue(func() *schema.Connector {
	c, err := build(genText)
	if err != nil {
		// schema_gen.txt is embedded and tested: this is a build defect.
		panic("stdlib/paypal: " + err.Error())
	}
	return c
})

func build(text string) (*schema.Connector, error) {
	g, err := decode(text)
	if err != nil {
		return nil, err
	}
	events := make(map[string]*schema.Event, len(g.events))
	for _, e := range g.events {
		events[e.name] = &schema.Event{
			Name:     e.name,
			Envelope: qualify(e.subject + "Event"),
			Object:   qualify(e.subject),
		}
	}
	objects := make(map[string]*schema.Object, len(g.objects))
	for _, o := range g.objects {
		obj, err := schema.NewObject(qualify(o.name), o.doc, o.fields, nil)
		if err != nil {
			return nil, err
		}
		objects[obj.Name] = obj
	}
	entities, err := addCreatables(objects)
	if err != nil {
		return nil, err
	}
	return &schema.Connector{
		Name:     Name,
		Kind:     schema.Gateway,
		Doc:      "PayPal REST payments: webhook events, API reads and creates (refunds, payouts), typed from PayPal's OpenAPI specifications (" + g.source + ").",
		Objects:  objects,
		Events:   events,
		Lists:    lists(),
		Entities: entities,
		Config:   config(),
		Reverses: reverses(events),
	}, nil // TestConnectorValidates checks every reference resolves
}

func qualify(name string) string { return Name + "." + name }

// TransactionsList is the list source name of Transaction Search.
const TransactionsList = "transactions"

// lists returns the paged reads the runtime can iterate.
func lists() map[string]*schema.ListSource {
	return map[string]*schema.ListSource{
		TransactionsList: {
			Name: TransactionsList,
			Doc: "The account's transactions between start_date and end_date (GET /v1/reporting/transactions, " +
				"read in windows of at most 31 days and every page of each), oldest window first. " +
				"Transactions appear up to three hours after they happen.",
			Params: []schema.Param{
				{Name: "start_date", Type: schema.TimestampType, Required: true},
				{Name: "end_date", Type: schema.TimestampType, Required: true},
				{Name: "transaction_type", Type: schema.StringType},
				{Name: "transaction_currency", Type: schema.StringType},
			},
			Elem: qualify("Transaction"),
		},
	}
}

// config returns what `import "paypal"` may configure.
func config() []*schema.Field {
	return []*schema.Field{
		{Name: "webhook_id", Type: schema.StringType, Doc: "The id of the webhook subscription the deliveries are signed for (PayPal signs the webhook id with each event)."},
		{Name: "client_id", Type: schema.StringType, Doc: "Name of the secret holding the REST app's client id."},
		{Name: "client_secret", Type: schema.StringType, Doc: "Name of the secret holding the REST app's secret."},
		{Name: "api_base", Type: schema.StringType, Doc: "Optional base URL of the PayPal API: https://api-m.paypal.com (the default) or https://api-m.sandbox.paypal.com."},
	}
}

// reverseEvents lists, for an event, the events that undo it.
var reverseEvents = map[string][]string{
	"PAYMENT.CAPTURE.COMPLETED": {"PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"},
}

// reverses keeps the entries whose events all exist.
func reverses(events map[string]*schema.Event) map[string][]string {
	out := map[string][]string{}
	for from, to := range reverseEvents {
		if events[from] == nil {
			continue
		}
		var keep []string
		for _, t := range to {
			if events[t] != nil {
				keep = append(keep, t)
			}
		}
		if len(keep) > 0 {
			out[from] = keep
		}
	}
	return out
}
