package stripe

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// Head is what acknowledging a webhook needs of an event: its id and type.
type Head struct {
	ID   string
	Type string
}

// Peek accepts exactly the bodies Decode accepts (FuzzPeekAgreesWithDecode
// holds it to that) but only indexes the JSON (jsonval) and reads the
// envelope's fields: the ingest path acknowledges with Peek and the
// executor decodes the event when it runs.
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
	id, err := field[string](env, "id", true)
	if err != nil {
		return Head{}, err
	}
	if !strings.HasPrefix(id, "evt_") {
		return Head{}, fmt.Errorf("id %q does not start with evt_", id)
	}
	typ, err := field[string](env, "type", true)
	if err != nil {
		return Head{}, err
	}
	for _, k := range []string{"api_version", "account"} {
		if _, err := field[string](env, k, false); err != nil {
			return Head{}, err
		}
	}
	created, err := field[json.Number](env, "created", true)
	if err != nil {
		return Head{}, err
	}
	if _, err := created.Int64(); err != nil {
		return Head{}, fmt.Errorf("created %s is not an integer", created)
	}
	if _, err := field[bool](env, "livemode", false); err != nil {
		return Head{}, err
	}
	data, err := field[*jsonval.Object](env, "data", true)
	if err != nil {
		return Head{}, fmt.Errorf("data.object is missing or not an object")
	}
	obj, err := field[*jsonval.Object](data, "object", true)
	if err != nil {
		return Head{}, fmt.Errorf("data.object is missing or not an object")
	}
	if _, err := field[string](obj, "id", false); err != nil {
		return Head{}, fmt.Errorf("data.object: %v", err)
	}
	return Head{ID: id, Type: typ}, nil
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
