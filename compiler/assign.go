package compiler

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

// assign checks that a checked expression may be stored in a value of type
// want (an ERP field, a param, a table), naming the conversion when one
// exists. what names the target in messages ("field TotalAmount").
func (u *unit) assign(f *File, e *ast.Expr, c *checked, want *schema.Type, maxLen int, what string) {
	if !c.ok || want == nil {
		return
	}
	got := SchemaType(c.typ)
	if c.typ.String() == "null_type" || got.Kind == schema.Any || want.Kind == schema.Any {
		return
	}
	switch want.Kind {
	case schema.Decimal:
		switch got.Kind {
		case schema.Decimal:
			return
		case schema.Minor:
			u.errorf(f, e, diag.MinorUnitsAsDecimal, "%s is a decimal amount, but this is integer minor units", what).
				Suggestion = "convert with money(" + e.Text + ", currency): 2000 usd cents become 20.00"
			return
		case schema.Double:
			u.errorf(f, e, diag.FloatMoney, "%s is a decimal amount; a float would carry rounding errors into the books", what).
				Suggestion = `write exact amounts as decimal("1.50")`
			return
		case schema.Int:
			if c.literal != nil {
				return // an integer literal is exact
			}
			u.errorf(f, e, diag.TypeMismatch, "%s is a decimal amount, but this is a plain int", what).
				Suggestion = "convert with decimal(" + e.Text + ") if it is a count, or money(amount, currency) if it is minor units"
			return
		case schema.String:
			u.errorf(f, e, diag.TypeMismatch, "%s is a decimal amount, but this is a string", what).
				Suggestion = "parse it with decimal(" + e.Text + ")"
			return
		}
	case schema.Timestamp:
		switch got.Kind {
		case schema.Timestamp:
			return
		case schema.String:
			u.errorf(f, e, diag.StringAsDate, "%s is a date, but this is a string", what).
				Suggestion = `convert Unix seconds with date(seconds, "Europe/Berlin"), or parse text with timestamp("2024-01-31T00:00:00Z")`
			return
		case schema.Int:
			u.errorf(f, e, diag.TypeMismatch, "%s is a date, but this is an int", what).
				Suggestion = `if these are Unix seconds, convert with date(` + e.Text + `, "UTC") or unix(` + e.Text + `)`
			return
		}
	case schema.Int:
		if got.Kind == schema.Int {
			return
		}
		if got.Kind == schema.Minor {
			u.errorf(f, e, diag.TypeMismatch, "%s is a plain int, but this is integer minor units", what).
				Suggestion = "amounts go to decimal fields with money(amount, currency)"
			return
		}
	case schema.String:
		if got.Kind == schema.String {
			u.checkStringLiteral(f, e, c, want, maxLen, what)
			return
		}
	case schema.Minor:
		if got.Kind == schema.Minor {
			return
		}
		if got.Kind == schema.Decimal {
			u.errorf(f, e, diag.TypeMismatch, "%s is integer minor units, but this is a decimal amount", what).
				Suggestion = "convert with minor(" + e.Text + ", currency): 20.00 usd becomes 2000"
			return
		}
	default:
		if want.Equal(got) {
			return
		}
		if want.Kind == got.Kind && (want.Kind == schema.List || want.Kind == schema.Map) && (got.Elem == nil || got.Elem.Kind == schema.Any) {
			return
		}
	}
	d := u.errorf(f, e, diag.TypeMismatch, "%s is %s, but this is %s", what, typeNameWords(celType(want).String()), typeNameWords(c.typ.String()))
	switch {
	case want.Kind == schema.String:
		d.Suggestion = "convert with string(" + e.Text + ")"
	case want.Kind == schema.Map && want.Elem != nil && want.Elem.Kind == schema.String:
		d.Suggestion = "its values are strings: convert each with string(...)"
	}
}

// checkStringLiteral checks enum membership and maximum length of a string
// literal assigned to a field.
func (u *unit) checkStringLiteral(f *File, e *ast.Expr, c *checked, want *schema.Type, maxLen int, what string) {
	if c.literal == nil {
		return
	}
	s, ok := c.literal.Value().(string)
	if !ok {
		return
	}
	if want.Enum != nil && !want.HasEnumValue(s) {
		d := u.errorf(f, e, diag.InvalidEnumValue, "%q is not a value of %s", s, what)
		suggest(d, s, want.Enum)
		if d.Suggestion == "" && len(want.Enum) <= 12 {
			d.Suggestion = fmt.Sprintf("values: %v", want.Enum)
		}
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		u.errorf(f, e, diag.ValueTooLong, "%q is %d characters; %s holds at most %d", s, utf8.RuneCountInString(s), what, maxLen).
			Suggestion = "shorten it, or cut values with truncate(value, " + strconv.Itoa(maxLen) + ")"
	}
}

// constant checks and evaluates a constant expression (a param default, a
// table, an env value).
func (u *unit) constant(f *File, e *ast.Expr, want *schema.Type, what string) (any, bool) {
	c := u.check(f, e, u.pkg, "")
	if !c.ok {
		return nil, false
	}
	if len(c.refs) > 0 {
		u.errorf(f, e, diag.NotConstant, "%s must be a constant, but it reads %s %s", what, c.refs[0].Kind, c.refs[0].Name).
			Suggestion = "write the value itself; params and tables are fixed before any event arrives"
		return nil, false
	}
	u.assign(f, e, c, want, 0, what)
	prg, err := u.program(c)
	if err != nil {
		u.errorf(f, e, diag.NotConstant, "%s must be a constant: %v", what, err)
		return nil, false
	}
	v, _, err := prg.Eval(map[string]any{})
	if err != nil {
		u.errorf(f, e, diag.NotConstant, "%s cannot be evaluated: %v", what, err)
		return nil, false
	}
	out, err := plainValue(v)
	if err != nil {
		u.errorf(f, e, diag.NotConstant, "%s: %v", what, err)
		return nil, false
	}
	return out, true
}

func (u *unit) program(c *checked) (cel.Program, error) {
	base, _, err := u.baseEnv()
	if err != nil {
		return nil, err
	}
	return base.Program(c.ast)
}

// plainValue converts a CEL value into JSON-ready Go data; decimals become
// strings so they stay exact.
func plainValue(v ref.Val) (any, error) {
	switch x := v.(type) {
	case stdlib.Decimal:
		return x.String(), nil
	case stdlib.Minor:
		return int64(x), nil
	case types.String:
		return string(x), nil
	case types.Int:
		return int64(x), nil
	case types.Bool:
		return bool(x), nil
	case types.Double:
		return float64(x), nil
	}
	switch x := v.(type) {
	case traits.Lister:
		n := int(x.Size().(types.Int))
		out := make([]any, n)
		for i := 0; i < n; i++ {
			e, err := plainValue(x.Get(types.Int(i)))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case traits.Mapper:
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ev, err := plainValue(x.Get(k))
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k.Value())] = ev
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %s value cannot be a constant", v.Type())
}
