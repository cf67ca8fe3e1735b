package sandbox

import (
	"cmp"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/schema"
)

// predicate is a compiled $filter.
type predicate func(record) bool

// compileFilter type-checks n against e's fields and returns its predicate.
func (e *entity) compileFilter(n node) (predicate, *httpError) {
	switch n := n.(type) {
	case *logical:
		l, err := e.compileFilter(n.l)
		if err != nil {
			return nil, err
		}
		r, err := e.compileFilter(n.r)
		if err != nil {
			return nil, err
		}
		if n.op == "and" {
			return func(rec record) bool { return l(rec) && r(rec) }, nil
		}
		return func(rec record) bool { return l(rec) || r(rec) }, nil
	case *negation:
		x, err := e.compileFilter(n.x)
		if err != nil {
			return nil, err
		}
		return func(rec record) bool { return !x(rec) }, nil
	case *comparison:
		return e.compileComparison(n)
	}
	return nil, badRequest("The query specified in the URI is not valid. The $filter expression '%s' must evaluate to a Boolean.", n)
}

// mirrored is the operator with its operands swapped: 5 lt X is X gt 5.
var mirrored = map[string]string{"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}

func (e *entity) compileComparison(n *comparison) (predicate, *httpError) {
	l, r, op := n.l, n.r, n.op
	if _, ok := l.(*literal); ok {
		l, r, op = r, l, mirrored[op]
	}
	lp, ok := l.(*property)
	if !ok {
		return nil, badRequest("The query specified in the URI is not valid. The comparison '%s' must involve a property.", n)
	}
	lf, err := e.field(lp.name)
	if err != nil {
		return nil, err
	}
	switch r := r.(type) {
	case *property:
		rf, err := e.field(r.name)
		if err != nil {
			return nil, err
		}
		if e.edmType(lf) != e.edmType(rf) {
			return nil, e.incompatible(lf, e.edmType(rf), op)
		}
		return func(rec record) bool { return holds(op, compare(value(rec, lf), value(rec, rf))) }, nil
	case *literal:
		if r.kind == litNull {
			return func(record) bool { return op == "ne" }, nil // F&O fields are never null
		}
		v, err := e.literalFor(lf, r, op)
		if err != nil {
			return nil, err
		}
		if s, ok := v.(string); ok && lf.Type.Enum == nil && strings.Contains(s, "*") && (op == "eq" || op == "ne") {
			return func(rec record) bool { return wildcard(s, value(rec, lf).(string)) == (op == "eq") }, nil
		}
		return func(rec record) bool { return holds(op, compare(value(rec, lf), v)) }, nil
	}
	return nil, badRequest("The query specified in the URI is not valid. The comparison '%s' is not supported.", n)
}

func (e *entity) field(name string) (*schema.Field, *httpError) {
	f, ok := e.obj.Field(name)
	if !ok {
		return nil, badRequest("The query specified in the URI is not valid. Could not find a property named '%s' on type '%s.%s'.", name, namespace, e.typ)
	}
	return f, nil
}

func (e *entity) incompatible(f *schema.Field, other, op string) *httpError {
	return badRequest("The query specified in the URI is not valid. A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.", e.edmType(f), other, op)
}

// literalFor converts a literal to a value of f's type.
func (e *entity) literalFor(f *schema.Field, l *literal, op string) (any, *httpError) {
	kinds := map[litKind]string{litString: "Edm.String", litNumber: "Edm.Decimal", litBool: "Edm.Boolean", litTime: "Edm.DateTimeOffset", litEnum: l.typ}
	switch f.Type.Kind {
	case schema.String:
		if f.Type.Enum != nil {
			if op != "eq" && op != "ne" {
				return nil, badRequest("The query specified in the URI is not valid. Enum properties support only eq and ne, not '%s'.", op)
			}
			if l.kind != litEnum && l.kind != litString {
				return nil, e.incompatible(f, kinds[l.kind], op)
			}
			if !f.Type.HasEnumValue(l.str) {
				return nil, badRequest("The query specified in the URI is not valid. The string '%s' is not a valid enumeration type constant of '%s'.", l.str, e.edmType(f))
			}
			return l.str, nil
		}
		if l.kind == litString {
			return l.str, nil
		}
	case schema.Int:
		if l.kind == litNumber && l.num.IsInteger() && l.num.Abs().LessThan(decimal.New(1, 19)) {
			return l.num.IntPart(), nil
		}
	case schema.Decimal, schema.Minor, schema.Double:
		if l.kind == litNumber {
			return l.num, nil
		}
	case schema.Bool:
		if l.kind == litBool {
			return l.b, nil
		}
	case schema.Timestamp:
		if l.kind == litTime {
			return l.t, nil
		}
	}
	return nil, e.incompatible(f, kinds[l.kind], op)
}

// compare orders two values of the same field type; strings compare as SQL
// Server's case-insensitive collation does.
func compare(a, b any) int {
	switch a := a.(type) {
	case string:
		bs, _ := b.(string)
		return strings.Compare(strings.ToLower(a), strings.ToLower(bs))
	case int64:
		bi, _ := b.(int64)
		return cmp.Compare(a, bi)
	case decimal.Decimal:
		bd, _ := b.(decimal.Decimal)
		return a.Cmp(bd)
	case time.Time:
		bt, _ := b.(time.Time)
		return a.Compare(bt)
	case bool:
		bb, _ := b.(bool)
		switch {
		case a == bb:
			return 0
		case bb:
			return -1
		}
		return 1
	}
	return 0
}

func holds(op string, c int) bool {
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	}
	return c <= 0 // le
}

// wildcard matches s against pattern, where * stands for any run of
// characters, ignoring case (F&O's eq with '*').
func wildcard(pattern, s string) bool {
	parts := strings.Split(strings.ToLower(pattern), "*")
	s = strings.ToLower(s)
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := len(parts) - 1
	for _, p := range parts[1:last] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[last])
}
