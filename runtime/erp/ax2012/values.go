package ax2012

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/stdlib/ax2012"
	"github.com/flowhq/flow/stdlib/schema"
)

// encodeFields turns a record into document text, checking every field
// against the table: unknown and read-only fields, wrong kinds, strings too
// long, floats (never for amounts) and enum values outside the enum are
// refused before anything is sent.
func encodeFields(t *ax2012.Table, rec erp.Record) (map[string]string, error) {
	return encode(t, rec, true)
}

// encodeWhere is encodeFields for lookup conditions: read-only fields are
// allowed.
func encodeWhere(t *ax2012.Table, rec erp.Record) (map[string]string, error) {
	return encode(t, rec, false)
}

func encode(t *ax2012.Table, rec erp.Record, write bool) (map[string]string, error) {
	out := make(map[string]string, len(rec))
	for name, v := range rec {
		f, ok := t.Field(name)
		if !ok {
			return nil, fmt.Errorf("%s has no field %q", t.Name, name)
		}
		if v == nil {
			continue
		}
		if f.ReadOnly && write {
			return nil, fmt.Errorf("%s.%s is filled by AX and cannot be written", t.Name, name)
		}
		s, err := encodeValue(f, v)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name, name, err)
		}
		out[name] = s
	}
	return out, nil
}

func encodeValue(f *ax2012.Field, v any) (string, error) {
	switch f.Type.Kind {
	case schema.String:
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("want a string, got %T", v)
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(s) > f.MaxLength {
			return "", fmt.Errorf("%q is longer than %d characters", s, f.MaxLength)
		}
		if !f.Type.HasEnumValue(s) {
			return "", fmt.Errorf("%q is not one of %s", s, strings.Join(f.Type.Enum, ", "))
		}
		return s, nil
	case schema.Decimal:
		switch x := v.(type) {
		case decimal.Decimal:
			return x.String(), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case int:
			return strconv.Itoa(x), nil
		}
		return "", fmt.Errorf("want a decimal, got %T", v)
	case schema.Int:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case int:
			return strconv.Itoa(x), nil
		case decimal.Decimal:
			if x.IsInteger() {
				return x.String(), nil
			}
		}
		return "", fmt.Errorf("want an integer, got %T", v)
	case schema.Timestamp:
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("want a time, got %T", v)
		}
		if f.Date {
			return t.Format(time.DateOnly), nil // the date in its own location
		}
		return t.UTC().Format(time.RFC3339), nil
	case schema.Bool:
		if b, ok := v.(bool); ok {
			if b {
				return "Yes", nil
			}
			return "No", nil
		}
		return "", fmt.Errorf("want a bool, got %T", v)
	}
	return "", fmt.Errorf("cannot send a %s", f.Type)
}

// decodeEntity turns document text back into a record.
func decodeEntity(t *ax2012.Table, e *aif.Entity) (erp.Record, error) {
	rec := make(erp.Record, len(e.Fields))
	for name, s := range e.Fields {
		f, _ := t.Field(name) // ReadDocument reads known fields only
		v, err := decodeValue(f, s)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name, name, err)
		}
		if v != nil {
			rec[name] = v
		}
	}
	return rec, nil
}

func decodeValue(f *ax2012.Field, s string) (any, error) {
	switch f.Type.Kind {
	case schema.Decimal:
		if s == "" {
			return nil, nil
		}
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil, fmt.Errorf("not a decimal: %q", s)
		}
		return d, nil
	case schema.Int:
		if s == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not an integer: %q", s)
		}
		return n, nil
	case schema.Timestamp:
		if s == "" {
			return nil, nil
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateOnly} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, fmt.Errorf("not a date or time: %q", s)
	case schema.Bool:
		return s == "Yes" || s == "true", nil
	}
	return s, nil
}

// anchorValue is what an anchor field holds for key: the key when it
// fits, else "fk-" and the first 16 hex digits of its SHA-256.
func anchorValue(f *ax2012.Field, key string) string {
	if f.MaxLength == 0 || utf8.RuneCountInString(key) <= f.MaxLength {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "fk-" + hex.EncodeToString(sum[:])[:16]
}

// sameValue compares a stored value with a wanted one as AX does: strings
// without regard to case (SQL Server's collation), numbers by value.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && strings.EqualFold(strings.TrimSpace(g), strings.TrimSpace(w))
	case decimal.Decimal:
		switch g := got.(type) {
		case decimal.Decimal:
			return g.Equal(w)
		case int64:
			return decimal.NewFromInt(g).Equal(w)
		}
	case int64:
		switch g := got.(type) {
		case int64:
			return g == w
		case decimal.Decimal:
			return g.Equal(decimal.NewFromInt(w))
		}
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	}
	return false
}
