package record

import (
	"encoding/json"
	"fmt"
	"sort"
	"unicode/utf8"
)

// appendLine appends l as JSON, byte for byte what json.Marshal(l) writes
// (TestAppendLineMatchesMarshal and FuzzAppendLine hold it to that), with
// no reflection: the record log is flowc run's hot path.
func appendLine(b []byte, l line) ([]byte, error) {
	b = append(b, `{"op":`...)
	b = appendString(b, l.Op)
	b = append(b, `,"entity":`...)
	b = appendString(b, l.Entity)
	if l.Key != "" {
		b = append(b, `,"key":`...)
		b = appendString(b, l.Key)
	}
	b = append(b, `,"fields":`...)
	var err error
	if b, err = appendFields(b, l.Fields); err != nil {
		return nil, err
	}
	if l.LineEntity != "" {
		b = append(b, `,"line_entity":`...)
		b = appendString(b, l.LineEntity)
	}
	if len(l.Lines) > 0 {
		b = append(b, `,"lines":[`...)
		for i, f := range l.Lines {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendFields(b, f); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func appendFields(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		switch v := m[k].(type) {
		case nil:
			b = append(b, "null"...)
		case bool:
			if v {
				b = append(b, "true"...)
			} else {
				b = append(b, "false"...)
			}
		case string:
			b = appendString(b, v)
		case json.Number:
			if v == "" {
				v = "0" // as encoding/json
			}
			if !isNumber(string(v)) {
				return nil, fmt.Errorf("json: invalid number literal %q", string(v))
			}
			b = append(b, v...)
		case map[string]any: // a gateway object's metadata
			var err error
			if b, err = appendFields(b, v); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("record: cannot log a %T", v)
		}
	}
	return append(b, '}'), nil
}

// isNumber reports whether s is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

const hex = "0123456789abcdef"

// appendString appends s as encoding/json does: HTML-safe, invalid UTF-8
// as U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
