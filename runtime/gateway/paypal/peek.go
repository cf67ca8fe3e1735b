package paypal

import (
	"fmt"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// Head is what acknowledging a webhook needs of an event.
type Head struct {
	ID           string    // "WH-..."
	Type         string    // event_type
	ResourceType string    // "" when absent
	Created      time.Time // create_time, UTC; zero when absent
	ResourceID   string    // resource.id, or resource.dispute_id; "" when neither
}

// Peek accepts exactly the bodies Decode accepts (FuzzPeekAgreesWithDecode
// holds it to that) but only indexes the JSON (jsonval) and reads the
// envelope's fields: the ingest path acknowledges with Peek and the
// executor decodes the event when it runs. Errors wrap ErrInvalidEvent.
func Peek(payload []byte) (Head, error) {
	h, err := peek(payload)
	if err != nil {
		return Head{}, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	return h, nil
}

func peek(payload []byte) (Head, error) {
	env, err := jsonval.Parse(payload)
	if err != nil {
		return Head{}, err
	}
	var h Head
	if h.ID, err = field[string](env, "id", true); err != nil {
		return Head{}, err
	}
	if h.Type, err = field[string](env, "event_type", true); err != nil {
		return Head{}, err
	}
	if h.ResourceType, err = field[string](env, "resource_type", false); err != nil {
		return Head{}, err
	}
	for _, k := range []string{"summary", "event_version", "resource_version"} {
		if _, err := field[string](env, k, false); err != nil {
			return Head{}, err
		}
	}
	created, err := field[string](env, "create_time", false)
	if err != nil {
		return Head{}, err
	}
	if h.Created, err = parseTime(created); err != nil {
		return Head{}, err
	}
	res, err := field[*jsonval.Object](env, "resource", true)
	if err != nil {
		return Head{}, fmt.Errorf("resource is missing or not an object")
	}
	if h.ResourceID, err = field[string](res, "id", false); err != nil {
		return Head{}, fmt.Errorf("resource: %v", err)
	}
	if h.ResourceID == "" {
		if h.ResourceID, err = field[string](res, "dispute_id", false); err != nil {
			return Head{}, fmt.Errorf("resource: %v", err)
		}
	}
	return h, nil
}

// field reads o[key] as a T. A missing or null value is T's zero value
// unless required, when it is an error, as is an empty required string.
func field[T any](o *jsonval.Object, key string, required bool) (T, error) {
	var zero T
	v, ok := o.Get(key)
	if !ok || v == nil {
		if required {
			return zero, fmt.Errorf("%s is missing", key)
		}
		return zero, nil
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("%s has the wrong kind", key)
	}
	if s, isString := v.(string); isString && required && s == "" {
		return zero, fmt.Errorf("%s is empty", key)
	}
	return t, nil
}
