package stripe

import (
	"fmt"
	"sync"

	"github.com/flowhq/flow/stdlib/schema"
)

// Name is the connector's import path in flows: import "stripe".
const Name = "stripe"

// Connector returns the Stripe connector schema (built once, immutable, safe
// for concurrent use).
func Connector() *schema.Connector { return connector() }

var connector = sync.OnceValue(func() *schema.Connector {
	c, err := build(genText, true)
	if err != nil {
		// schema_gen.txt is embedded and tested: this is a build defect.
		panic("stdlib/stripe: " + err.Error())
	}
	return c
})

// build decodes the generated data and assembles the connector; legacy
// merges the older API versions' fields (tests turn it off to prove the
// overlay is needed).
func build(text string, legacy bool) (*schema.Connector, error) {
	g, err := decode(text)
	if err != nil {
		return nil, err
	}
	if legacy {
		if err := applyLegacy(g); err != nil {
			return nil, err
		}
	}
	subjects := map[string]bool{}
	events := make(map[string]*schema.Event, len(g.events))
	for _, e := range g.events {
		subjects[e.subject] = true
		events[e.name] = &schema.Event{
			Name:     e.name,
			Envelope: qualify(e.subject + "Event"),
			Object:   qualify(e.subject),
		}
	}
	for s := range subjects {
		if err := g.addEnvelope(s); err != nil {
			return nil, err
		}
	}
	g.add(&genObject{name: "EventRequest", doc: "Information on the API request that triggered the event.", fields: []*schema.Field{
		{Name: "id", Type: schema.StringType, Doc: "ID of the API request that caused the event; null for automatic events (a subscription renewal)."},
		{Name: "idempotency_key", Type: schema.StringType, Doc: "The idempotency key transmitted with the request; null for automatic events."},
	}})
	if g.err != nil {
		return nil, g.err
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
	c := &schema.Connector{
		Name:     Name,
		Kind:     schema.Gateway,
		Doc:      "Stripe payments: webhook events and API reads, typed from stripe-go " + g.source + ".",
		Objects:  objects,
		Events:   events,
		Lists:    lists(),
		Entities: entities,
		Config:   config(),
		Reverses: reverses(events),
	}
	return c, nil // TestConnectorValidates checks every reference resolves
}

func qualify(goName string) string { return Name + "." + goName }

// addEnvelope synthesizes stripe.<X>Event and stripe.<X>EventData for the
// event subject X: the webhook payload around data.object.
func (g *generated) addEnvelope(subject string) error {
	if _, ok := g.index[subject]; !ok {
		return fmt.Errorf("event subject %s is not an object", subject)
	}
	data := subject + "EventData"
	g.add(&genObject{name: data, doc: "The data of a stripe." + subject + " event.", fields: []*schema.Field{
		{Name: "object", Type: schema.ObjectOf(qualify(subject)), Doc: "The stripe." + subject + " as it was when the event happened, rendered in the event's api_version (always a full object)."},
		{Name: "previous_attributes", Type: schema.MapOf(schema.StringType, schema.AnyType), Doc: "For *.updated events: the names and previous values of the attributes that changed."},
	}})
	g.add(&genObject{name: subject + "Event", doc: "A webhook event whose subject (data.object) is a stripe." + subject + ".", fields: []*schema.Field{
		{Name: "id", Type: schema.StringType, Doc: "Unique identifier of the event (evt_...); Stripe may deliver the same event more than once."},
		{Name: "object", Type: schema.StringType, Doc: `String representing the object's type: always "event".`},
		{Name: "api_version", Type: schema.StringType, Doc: "The Stripe API version used to render data, e.g. 2020-08-27."},
		{Name: "created", Type: schema.IntType, Doc: "Time at which the event was created. Unix seconds."},
		{Name: "livemode", Type: schema.BoolType, Doc: "True in live mode, false in test mode."},
		{Name: "pending_webhooks", Type: schema.IntType, Doc: "Number of webhooks not yet successfully delivered to the URLs you specify."},
		{Name: "type", Type: schema.StringType, Doc: "Description of the event, e.g. charge.succeeded."},
		{Name: "account", Type: schema.StringType, Doc: "The connected account that originates the event (Connect only)."},
		{Name: "request", Type: schema.ObjectOf(qualify("EventRequest")), Doc: "Information on the API request that triggered the event."},
		{Name: "data", Type: schema.ObjectOf(qualify(data)), Doc: "The event's subject and, for updates, its previous attributes."},
	}})
	return g.err
}

// lists returns the paged reads the runtime can iterate.
func lists() map[string]*schema.ListSource {
	return map[string]*schema.ListSource{
		"balance_transactions": {
			Name: "balance_transactions",
			Doc:  "The balance transactions of a payout (GET /v1/balance_transactions?payout=...), oldest pages first as Stripe returns them.",
			Params: []schema.Param{
				{Name: "payout", Type: schema.StringType, Required: true},
				{Name: "type", Type: schema.StringType},
			},
			Elem: qualify("BalanceTransaction"),
			// A payout's transactions, its own aside, net to its amount.
			Total: &schema.ListTotal{Arg: "payout", Field: "net", Currency: "currency", SkipField: "type", SkipValue: "payout", Of: "amount"},
		},
	}
}

// config returns what `import "stripe"` may configure.
func config() []*schema.Field {
	return []*schema.Field{
		{Name: "webhook_secret", Type: schema.StringType, Doc: "Name of the secret holding the webhook endpoint's signing secret (whsec_...)."},
		{Name: "api_key", Type: schema.StringType, Doc: "Name of the secret holding the Stripe API key (sk_... or rk_...)."},
		{Name: "api_base", Type: schema.StringType, Doc: "Optional base URL of the Stripe API, e.g. http://localhost:12111 for stripe-mock."},
	}
}

// reverseEvents lists, for an event, the events that undo it.
var reverseEvents = map[string][]string{
	"charge.succeeded":           {"charge.refunded", "charge.refund.updated", "refund.created"},
	"payment_intent.succeeded":   {"charge.refunded", "refund.created"},
	"invoice.paid":               {"charge.refunded", "credit_note.created"},
	"checkout.session.completed": {"charge.refunded"},
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
