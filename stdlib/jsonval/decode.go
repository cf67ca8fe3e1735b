package jsonval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeStrict decodes exactly one JSON value from data into v, keeping
// numbers as json.Number (never float64). An empty or truncated body, or
// anything but white space after the value, is an error.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("truncated JSON")
		}
		return err
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("trailing data after offset %d", end)
	}
	return nil
}

// Kind names the JSON kind of a value decoded with encoding/json (numbers
// as json.Number), for error messages: "a string", "an object", ...
func Kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
