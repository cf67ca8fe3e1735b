package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// DecodeEvent reads a stored gateway event, as `flowc run` and `flowc test`
// take them, and tells its gateway by its envelope: a PayPal webhook event
// has an event_type ("PAYMENT.CAPTURE.COMPLETED") and a create_time
// (RFC 3339); a PayTrace event (the envelope flowd's poller writes, see
// runtime/gateway/paytrace) says "gateway": "paytrace"; a Dataverse
// webhook's RemoteExecutionContext has a MessageName and a
// PrimaryEntityName (see dataverseEvent); a Stripe event has
// a type ("charge.succeeded") and a created time (Unix seconds). Source is
// the connector name the flows import ("paypal", "stripe"), which is how
// Program.Flows finds the flows it triggers. Received is the event's own
// time (zero when it has none). It never panics on input; anything but a
// JSON object with a non-empty string id and type is an error.
func DecodeEvent(payload []byte) (*Event, error) {
	body, err := jsonval.Parse(payload)
	if err != nil {
		return nil, errors.New("not a JSON object")
	}
	if typ := stringField(body, "BusinessEventId"); typ != "" { // Dynamics 365 F&O, see d365Event
		return d365Event(body, typ)
	}
	if stringField(body, "subscriptionId") != "" && stringField(body, "changeType") != "" { // Business Central, see bcEvent
		return bcEvent(body)
	}
	if isDataverse(body) { // a Dataverse webhook's execution context, see dataverseEvent
		return dataverseEvent(payload)
	}
	if flow := stringField(body, "schedule"); flow != "" {
		return tickEvent(flow, stringField(body, "time"), stringField(body, "previous"))
	}
	id := stringField(body, "id")
	if stringField(body, "gateway") == "paytrace" {
		return paytraceEvent(id, body)
	}
	if typ := stringField(body, "event_type"); typ != "" {
		if id == "" {
			return nil, errors.New("not a PayPal event: no id")
		}
		var received time.Time
		if t, err := time.Parse(time.RFC3339Nano, stringField(body, "create_time")); err == nil {
			received = t.UTC()
		}
		return &Event{ID: id, Source: "paypal", Type: typ, Received: received, Body: body}, nil
	}
	typ := stringField(body, "type")
	if id == "" || typ == "" {
		return nil, errors.New("not a Stripe event (no id or type) nor a PayPal event (no event_type)")
	}
	var received time.Time
	if c, ok := body.Get("created"); ok {
		if n, ok := c.(json.Number); ok {
			if secs, err := n.Int64(); err == nil {
				received = time.Unix(secs, 0).UTC()
			}
		}
	}
	return &Event{ID: id, Source: "stripe", Type: typ, Received: received, Body: body}, nil
}

// paytraceEvent reads the envelope flowd's PayTrace poller gives each
// exported transaction (PayTrace itself sends no events): {"gateway":
// "paytrace", "id": "<transaction_id>", "type": "transaction.sale",
// "created": RFC 3339, "transaction": {...}}.
func paytraceEvent(id string, body *jsonval.Object) (*Event, error) {
	typ := stringField(body, "type")
	if id == "" || typ == "" {
		return nil, errors.New("not a PayTrace event: no id or type")
	}
	var received time.Time
	if t, err := time.Parse(time.RFC3339Nano, stringField(body, "created")); err == nil {
		received = t.UTC()
	}
	return &Event{ID: id, Source: "paytrace", Type: typ, Received: received, Body: body}, nil
}

// tickEvent is a schedule's tick as a test gives it: {"schedule": "<flow>",
// "time": RFC 3339, "previous": RFC 3339 (optional: the Unix epoch when
// absent)}; the flow sees it as flowd's ticks look, {"id": "<flow>@<time>",
// "time": "<time>", "previous": "<previous>"} (see TickBody).
func tickEvent(flow, at, previous string) (*Event, error) {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return nil, fmt.Errorf("a tick of schedule %s needs a time (RFC 3339): %q", flow, at)
	}
	prev := time.Unix(0, 0)
	if previous != "" {
		if prev, err = time.Parse(time.RFC3339, previous); err != nil {
			return nil, fmt.Errorf("a tick of schedule %s: previous is not a time (RFC 3339): %q", flow, previous)
		}
	}
	id, body := TickBody(flow, t, prev)
	obj, err := jsonval.Parse(body)
	if err != nil {
		return nil, err
	}
	return &Event{ID: id, Source: ScheduleSource, Type: flow, Received: t.UTC(), Body: obj}, nil
}

// TickBody is the id and body of the tick that runs a schedule flow for
// its due time: {"id": "<flow>@<due>", "time": "<due>", "previous":
// "<the due time of the tick before>"}, times in RFC 3339 UTC.
func TickBody(flow string, due, previous time.Time) (id string, body []byte) {
	at := due.UTC().Format(time.RFC3339)
	id = flow + "@" + at
	body, _ = json.Marshal(map[string]string{"id": id, "time": at, "previous": previous.UTC().Format(time.RFC3339)})
	return id, body
}

func stringField(o *jsonval.Object, key string) string {
	v, _ := o.Get(key)
	s, _ := v.(string)
	return s
}
