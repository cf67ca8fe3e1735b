// Package jsonval holds gateway payloads as CEL sees them without decoding
// them up front: an Object finds its members on first use and decodes a
// value only when an expression reads it. A Stripe charge event is a few
// kilobytes of JSON of which a flow reads a dozen fields; building the whole
// tree of maps costs more than everything else a run does.
package jsonval

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Object is a JSON object. Make one with Parse; it is immutable and safe for
// concurrent reads once made (members are located on creation).
type Object struct {
	raw     []byte
	members []member
}

type member struct {
	name []byte // unquoted; a slice of the input unless it had escapes
	val  []byte
	obj  *Object // val's object, indexed with its parent; nil for other values
}

// ErrSyntax reports input that is not a JSON object.
var ErrSyntax = errors.New("jsonval: not a JSON object")

// Parse returns the object raw holds. raw is validated in full as it is
// indexed, in one pass (it accepts what json.Valid accepts), and not
// copied: the caller must not change it afterwards.
func Parse(raw []byte) (*Object, error) {
	start := skipSpace(raw, 0)
	p := parsers.Get().(*parser)
	o, err := p.object(raw[start:])
	p.scratch = p.scratch[:0]
	parsers.Put(p)
	if err != nil {
		return nil, err
	}
	if skipSpace(raw, start+len(o.raw)) != len(raw) {
		return nil, ErrSyntax // something after the object
	}
	return o, nil
}

// parser holds the members of the objects being indexed, innermost last:
// each object copies its own out when it ends, so it allocates exactly once.
type parser struct{ scratch []member }

var parsers = sync.Pool{New: func() any { return &parser{scratch: make([]member, 0, 256)} }}

// object indexes (and validates) the JSON object at the start of raw,
// after optional white space; raw may continue after it.
func object(raw []byte) (*Object, error) {
	var p parser
	return p.object(raw)
}

func (p *parser) object(raw []byte) (*Object, error) {
	base := len(p.scratch)
	defer func() { p.scratch = p.scratch[:base] }()
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, ErrSyntax
	}
	start := i
	o := &Object{}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		o.raw = raw[start : i+1]
		return o, nil
	}
	for i < len(raw) {
		end := validString(raw, i)
		if end < 0 {
			return nil, ErrSyntax
		}
		name, err := unquoteBytes(raw[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, ErrSyntax
		}
		i = skipSpace(raw, i+1)
		var sub *Object
		var vend int
		if i < len(raw) && raw[i] == '{' {
			// Index nested objects now: each is then found in one pass
			// however often expressions read it.
			if sub, err = p.object(raw[i:]); err != nil {
				return nil, err
			}
			vend = i + len(sub.raw)
		} else if vend = validValue(raw, i); vend < 0 {
			return nil, ErrSyntax
		}
		p.scratch = append(p.scratch, member{name: name, val: raw[i:vend], obj: sub})
		i = skipSpace(raw, vend)
		if i >= len(raw) {
			return nil, ErrSyntax
		}
		if raw[i] == '}' {
			o.raw = raw[start : i+1]
			o.members = append(make([]member, 0, len(p.scratch)-base), p.scratch[base:]...)
			return o, nil
		}
		if raw[i] != ',' {
			return nil, ErrSyntax
		}
		i = skipSpace(raw, i+1)
	}
	return nil, ErrSyntax
}

// Raw returns the object's JSON text.
func (o *Object) Raw() []byte { return o.raw }

// Get returns the decoded value of the named member: nil, bool, string,
// json.Number, *Object or []any. As with encoding/json, the last of
// repeated names wins.
func (o *Object) Get(name string) (any, bool) {
	for i := len(o.members) - 1; i >= 0; i-- {
		if m := &o.members[i]; string(m.name) == name {
			if m.obj != nil {
				return m.obj, true
			}
			v, err := decode(m.val)
			return v, err == nil
		}
	}
	return nil, false
}

// Len is the number of members (repeated names counted once each time).
func (o *Object) Len() int { return len(o.members) }

// Map decodes the object's members one level deep: nested objects stay
// *Object.
func (o *Object) Map() map[string]any {
	m := make(map[string]any, len(o.members))
	for _, mb := range o.members {
		if mb.obj != nil {
			m[string(mb.name)] = mb.obj
		} else if v, err := decode(mb.val); err == nil {
			m[string(mb.name)] = v
		}
	}
	return m
}

// decode decodes one valid JSON value (objects indexed, not decoded).
func decode(raw []byte) (any, error) {
	v, _, err := decodeAt(raw, 0)
	return v, err
}

// decodeAt decodes the value at raw[i:] and returns the index past it, in
// one pass however deep the value nests.
func decodeAt(raw []byte, i int) (any, int, error) {
	if i >= len(raw) {
		return nil, -1, ErrSyntax
	}
	switch raw[i] {
	case '"':
		end := validString(raw, i)
		if end < 0 {
			return nil, -1, ErrSyntax
		}
		v, err := unquote(raw[i:end])
		return v, end, err
	case '{':
		o, err := object(raw[i:])
		if err != nil {
			return nil, -1, err
		}
		return o, i + len(o.raw), nil
	case '[':
		return arrayAt(raw, i)
	case 't':
		return true, literal(raw, i, "true"), nil
	case 'f':
		return false, literal(raw, i, "false"), nil
	case 'n':
		return nil, literal(raw, i, "null"), nil
	}
	end := validNumber(raw, i)
	if end < 0 {
		return nil, -1, ErrSyntax
	}
	return json.Number(raw[i:end]), end, nil
}

// arrayAt decodes the array at raw[i:].
func arrayAt(raw []byte, i int) ([]any, int, error) {
	out := []any{}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return out, i + 1, nil
	}
	for i < len(raw) {
		v, end, err := decodeAt(raw, i)
		if err != nil || end < 0 {
			return nil, -1, ErrSyntax
		}
		out = append(out, v)
		i = skipSpace(raw, end)
		if i >= len(raw) {
			break
		}
		if raw[i] == ']' {
			return out, i + 1, nil
		}
		if raw[i] != ',' {
			break
		}
		i = skipSpace(raw, i+1)
	}
	return nil, -1, ErrSyntax
}

// unquote decodes a JSON string literal, without allocating twice when it
// holds no escapes.
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", ErrSyntax
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", ErrSyntax
			}
			return s, nil
		}
	}
	return string(body), nil
}

// unquoteBytes is unquote returning the input's own bytes when the string
// holds no escapes.
func unquoteBytes(raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, ErrSyntax
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			s, err := unquote(raw)
			return []byte(s), err
		}
	}
	return body, nil
}

// validString returns the index just past the valid JSON string starting
// at i, or -1.
func validString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// validValue returns the index just past the valid JSON value starting at
// i, or -1.
func validValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return validString(b, i)
	case c == '{':
		o, err := object(b[i:])
		if err != nil {
			return -1
		}
		return i + len(o.raw)
	case c == '[':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = validValue(b, i); i < 0 {
				return -1
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			if b[i] == ']' {
				return i + 1
			}
			if b[i] != ',' {
				return -1
			}
			i = skipSpace(b, i+1)
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return validNumber(b, i)
	}
	return -1
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// validNumber returns the index past the JSON number at i, or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) int {
	digits := func(i int) int {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i = digits(i); i < 0 {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// objectType is the CEL runtime type of an Object whose static type the
// checker knew; at run time only field selection reaches it.
var objectType = types.NewOpaqueType("json_object")

// The ref.Val methods let an Object flow through CEL as the value of a
// variable (`let ch = ev.data.object`); fields are read through the type
// provider's GetFrom, which receives the Object from Value.

// Type implements ref.Val.
func (o *Object) Type() ref.Type { return objectType }

// Value implements ref.Val.
func (o *Object) Value() any { return o }

// ConvertToNative implements ref.Val.
func (o *Object) ConvertToNative(t reflect.Type) (any, error) {
	if reflect.TypeOf(o).AssignableTo(t) {
		return o, nil
	}
	return nil, fmt.Errorf("jsonval: cannot convert an object to %v", t)
}

// ConvertToType implements ref.Val.
func (o *Object) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return objectType
	}
	return types.NewErr("jsonval: cannot convert an object to %s", t.TypeName())
}

// Equal implements ref.Val: objects are equal when their JSON text is.
func (o *Object) Equal(other ref.Val) ref.Val {
	p, ok := other.(*Object)
	return types.Bool(ok && string(p.raw) == string(o.raw))
}
