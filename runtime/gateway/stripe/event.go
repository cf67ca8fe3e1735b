package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// ErrInvalidEvent is wrapped by every error Decode returns: the body is not
// a Stripe event (HTTP 400 to the sender).
var ErrInvalidEvent = errors.New("stripe: invalid event")

// Event is a decoded Stripe webhook event (an API v1 "event" object).
type Event struct {
	ID         string    // "evt_..."
	Type       string    // "charge.succeeded"
	APIVersion string    // the version the object was rendered with; "" when null
	Created    time.Time // UTC, whole seconds
	Account    string    // the connected account ("acct_...") of a Connect event, else ""
	Livemode   bool
	ObjectID   string // data.object.id; "" for objects without one (balance.available)

	// Raw is a copy of the payload as received.
	Raw []byte
	// Envelope is the whole event. JSON numbers are json.Number, never
	// float64, so amounts and timestamps keep every digit.
	Envelope map[string]any
}

// Object returns data.object, the event's subject. It is never nil for an
// Event returned by Decode.
func (e *Event) Object() map[string]any {
	data, _ := e.Envelope["data"].(map[string]any)
	obj, _ := data["object"].(map[string]any)
	return obj
}

// Decode decodes a webhook body. It accepts any api_version and requires one
// JSON object with a string id starting with "evt_", a non-empty string type,
// an integer created and an object data.object; account, api_version,
// livemode and data.object.id must have their JSON kinds when present.
// Every error wraps ErrInvalidEvent.
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
	if e.ID, err = str(env, "id", true); err != nil {
		return err
	}
	if !strings.HasPrefix(e.ID, "evt_") {
		return fmt.Errorf("id %q does not start with evt_", e.ID)
	}
	if e.Type, err = str(env, "type", true); err != nil {
		return err
	}
	if e.APIVersion, err = str(env, "api_version", false); err != nil {
		return err
	}
	if e.Account, err = str(env, "account", false); err != nil {
		return err
	}
	if e.Created, err = unixTime(env, "created"); err != nil {
		return err
	}
	if v, ok := env["livemode"]; ok && v != nil {
		if e.Livemode, ok = v.(bool); !ok {
			return fmt.Errorf("livemode is %s, want a boolean", jsonval.Kind(v))
		}
	}
	obj := e.Object()
	if obj == nil {
		return errors.New("data.object is missing or not an object")
	}
	if e.ObjectID, err = str(obj, "id", false); err != nil {
		return fmt.Errorf("data.object: %v", err)
	}
	return nil
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

// unixTime returns m[key], a required integer of Unix seconds, as UTC time.
func unixTime(m map[string]any, key string) (time.Time, error) {
	n, ok := m[key].(json.Number)
	if !ok {
		if m[key] == nil {
			return time.Time{}, fmt.Errorf("%s is missing", key)
		}
		return time.Time{}, fmt.Errorf("%s is %s, want an integer", key, jsonval.Kind(m[key]))
	}
	sec, err := n.Int64()
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %s is not an integer", key, n)
	}
	return time.Unix(sec, 0).UTC(), nil
}
