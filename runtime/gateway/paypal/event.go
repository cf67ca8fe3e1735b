package paypal

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// ErrInvalidEvent is wrapped by every error Decode and Peek return: the
// body is not a PayPal webhook event (HTTP 400 to the sender).
var ErrInvalidEvent = errors.New("paypal: invalid event")

// Event is a decoded PayPal webhook event (the API's "event" object).
type Event struct {
	ID              string    // "WH-..."
	Type            string    // event_type: "PAYMENT.CAPTURE.COMPLETED"
	ResourceType    string    // "capture", "refund", "dispute"...; "" when absent
	Created         time.Time // create_time, UTC; zero when absent
	ResourceID      string    // resource.id, or resource.dispute_id for a dispute; "" when neither
	Summary         string    // "" when absent
	EventVersion    string    // "1.0"; "" when absent
	ResourceVersion string    // "2.0"; "" when absent

	// Raw is a copy of the payload as received.
	Raw []byte
	// Envelope is the whole event. JSON numbers are json.Number, never
	// float64.
	Envelope map[string]any
}

// Resource returns the event's subject, the resource object. It is never
// nil for an Event returned by Decode.
func (e *Event) Resource() map[string]any {
	r, _ := e.Envelope["resource"].(map[string]any)
	return r
}

// Decode decodes a webhook body. It requires one JSON object with a
// non-empty string id, a non-empty string event_type and an object
// resource; resource_type, summary, event_version, resource_version and
// resource.id must be strings when present (null counts as absent), as must
// resource.dispute_id when resource.id is absent, and create_time an
// RFC 3339 time. Every error wraps ErrInvalidEvent.
func Decode(payload []byte) (*Event, error) {
	var env map[string]any
	if err := jsonval.DecodeStrict(payload, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if env == nil {
		return nil, fmt.Errorf("%w: not an object", ErrInvalidEvent)
	}
	e := &Event{Raw: bytes.Clone(payload), Envelope: env}
	if err := e.fill(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	return e, nil
}

// fill sets the typed fields from the envelope.
func (e *Event) fill() error {
	env := e.Envelope
	var err error
	for _, f := range []struct {
		key      string
		dst      *string
		required bool
	}{
		{"id", &e.ID, true},
		{"event_type", &e.Type, true},
		{"resource_type", &e.ResourceType, false},
		{"summary", &e.Summary, false},
		{"event_version", &e.EventVersion, false},
		{"resource_version", &e.ResourceVersion, false},
	} {
		if *f.dst, err = str(env, f.key, f.required); err != nil {
			return err
		}
	}
	created, err := str(env, "create_time", false)
	if err != nil {
		return err
	}
	if e.Created, err = parseTime(created); err != nil {
		return err
	}
	res := e.Resource()
	if res == nil {
		return errors.New("resource is missing or not an object")
	}
	if e.ResourceID, err = str(res, "id", false); err != nil {
		return fmt.Errorf("resource: %v", err)
	}
	if e.ResourceID == "" {
		if e.ResourceID, err = str(res, "dispute_id", false); err != nil {
			return fmt.Errorf("resource: %v", err)
		}
	}
	return nil
}

// parseTime parses create_time, RFC 3339 with optional fractional seconds
// ("2019-02-14T21:50:07.940Z"), as UTC; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("create_time %q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// str returns m[key] as a string. A missing or null value is "" unless
// required, when it is an error, as is an empty required string.
func str(m map[string]any, key string, required bool) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			return "", fmt.Errorf("%s is missing", key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, want a string", key, jsonval.Kind(v))
	}
	if required && s == "" {
		return "", fmt.Errorf("%s is empty", key)
	}
	return s, nil
}
