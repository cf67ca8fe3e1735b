package stripe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Head is what acknowledging a webhook needs of an event: its id and type.
type Head struct {
	ID   string
	Type string
}

// Peek accepts exactly the bodies Decode accepts (FuzzPeekAgreesWithDecode
// holds it to that) but decodes only the envelope's fields, leaving
// data.object's values raw: the ingest path acknowledges with Peek and the
// executor decodes the event when it runs.
func Peek(payload []byte) (Head, error) {
	h, err := peek(payload)
	if err != nil {
		return Head{}, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	return h, nil
}

func peek(payload []byte) (Head, error) {
	var env map[string]json.RawMessage
	if err := decodeJSON(payload, &env); err != nil {
		return Head{}, err
	}
	if env == nil {
		return Head{}, fmt.Errorf("not an object")
	}
	id, err := rawString(env, "id", true)
	if err != nil {
		return Head{}, err
	}
	if !strings.HasPrefix(id, "evt_") {
		return Head{}, fmt.Errorf("id %q does not start with evt_", id)
	}
	typ, err := rawString(env, "type", true)
	if err != nil {
		return Head{}, err
	}
	for _, k := range []string{"api_version", "account"} {
		if _, err := rawString(env, k, false); err != nil {
			return Head{}, err
		}
	}
	created := bytes.TrimSpace(env["created"])
	if len(created) == 0 || created[0] == '"' || created[0] == '{' || created[0] == '[' || string(created) == "null" ||
		string(created) == "true" || string(created) == "false" {
		return Head{}, fmt.Errorf("created is missing or not a number")
	}
	if _, err := strconv.ParseInt(string(created), 10, 64); err != nil {
		return Head{}, fmt.Errorf("created %s is not an integer", created)
	}
	if lm := bytes.TrimSpace(env["livemode"]); len(lm) > 0 && string(lm) != "null" && string(lm) != "true" && string(lm) != "false" {
		return Head{}, fmt.Errorf("livemode is not a boolean")
	}
	var data map[string]json.RawMessage
	if raw := env["data"]; len(raw) == 0 || json.Unmarshal(raw, &data) != nil || data == nil {
		return Head{}, fmt.Errorf("data.object is missing or not an object")
	}
	var obj map[string]json.RawMessage
	if raw := data["object"]; len(raw) == 0 || json.Unmarshal(raw, &obj) != nil || obj == nil {
		return Head{}, fmt.Errorf("data.object is missing or not an object")
	}
	if _, err := rawString(obj, "id", false); err != nil {
		return Head{}, fmt.Errorf("data.object: %v", err)
	}
	return Head{ID: id, Type: typ}, nil
}

// rawString is str for undecoded values.
func rawString(m map[string]json.RawMessage, key string, required bool) (string, error) {
	raw := bytes.TrimSpace(m[key])
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return "", fmt.Errorf("%s is missing", key)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s is not a string", key)
	}
	if required && s == "" {
		return "", fmt.Errorf("%s is empty", key)
	}
	return s, nil
}
