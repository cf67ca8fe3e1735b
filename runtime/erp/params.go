package erp

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"
)

// Params reads the fields of a create in a gateway by name, as its
// parameters: it keeps the first problem, and Done reports it or a field
// no parameter read (a name the gateway does not take).
type Params struct {
	f    Record
	used map[string]bool
	err  error
}

// NewParams reads f.
func NewParams(f Record) *Params { return &Params{f: f, used: map[string]bool{}} }

// Str reads a string parameter ("" when unset) of at most maxLen
// characters (0: any length).
func (p *Params) Str(name string, maxLen int) string {
	p.used[name] = true
	switch s := Plain(p.f[name]).(type) {
	case nil:
		return ""
	case string:
		if n := len([]rune(s)); maxLen > 0 && n > maxLen {
			p.Fail(fmt.Errorf("%s: %d characters, at most %d", name, n, maxLen))
		}
		return s
	default:
		p.Fail(fmt.Errorf("%s: want a string, got %T", name, p.f[name]))
	}
	return ""
}

// Dec reads an exact amount; ok is false when it is unset.
func (p *Params) Dec(name string) (d decimal.Decimal, ok bool) {
	p.used[name] = true
	switch d := Plain(p.f[name]).(type) {
	case nil:
		return decimal.Decimal{}, false
	case decimal.Decimal:
		return d, true
	case int64: // a whole amount written as an integer literal
		return decimal.NewFromInt(d), true
	default:
		p.Fail(fmt.Errorf("%s: want an exact decimal, got %T", name, p.f[name]))
	}
	return decimal.Decimal{}, false
}

// Fail records a problem; the first one is kept.
func (p *Params) Fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// Done reports the first problem, or the first field (by name) no
// parameter read.
func (p *Params) Done() error {
	if p.err != nil {
		return p.err
	}
	var unknown []string
	for k := range p.f {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("no parameter %q", unknown[0])
	}
	return nil
}

// Plain unwraps a value that carries a Go value (a CEL value).
func Plain(v any) any {
	if x, ok := v.(interface{ Value() any }); ok {
		return x.Value()
	}
	return v
}
