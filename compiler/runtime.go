package compiler

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/jsonval"
	"github.com/flowhq/flow/stdlib/schema"
)

// recordEnv stores the environment the runtime compiles this flow's plan
// in: every name the flow can see, plus the variables its aggregates were
// lowered to. Names never shadow, so one environment serves every step.
func (fu *flowUnit) recordEnv() {
	base, _, err := fu.u.baseEnv()
	if err != nil {
		return // already reported by the expressions that needed it
	}
	var chain []*scope
	for sc := fu.sc; sc != nil; sc = sc.parent {
		chain = append(chain, sc)
	}
	var opts []cel.EnvOption
	for i := len(chain) - 1; i >= 0; i-- {
		for _, sym := range chain[i].order {
			if !isVariable(sym) {
				continue
			}
			opts = append(opts, cel.Variable(sym.Name, celType(sym.Type)))
		}
	}
	for _, sc := range fu.bodies { // for bodies: variables of the flow, out of scope after their for
		for _, sym := range sc.order {
			opts = append(opts, cel.Variable(sym.Name, celType(sym.Type)))
		}
	}
	opts = append(opts, fu.aggFieldVars()...)
	env, err := base.Extend(append(opts, fu.aggVars...)...)
	if err != nil {
		return
	}
	fu.u.mu.Lock()
	fu.u.info.Envs[fu.name.Name] = env
	fu.u.mu.Unlock()
}

// RuntimeValue converts a decoded JSON value (numbers as json.Number) or a
// value an ERP driver returned (int64, decimal.Decimal, time.Time) into what
// CEL expects for a field of type t. A missing value (nil) becomes the type's
// zero value, as for an unset protobuf field; `has(x.f)` tells them apart.
// An expanded Stripe reference (an object where an ID is declared) yields
// its id. A value of the wrong shape is an error naming both.
func RuntimeValue(t *schema.Type, v any) (any, error) {
	if t == nil {
		return v, nil
	}
	switch t.Kind {
	case schema.String:
		switch x := v.(type) {
		case nil:
			return "", nil
		case string:
			return x, nil
		case map[string]any:
			if id, ok := x["id"].(string); ok {
				return id, nil
			}
		case *jsonval.Object:
			if id, ok := x.Get("id"); ok {
				if s, ok := id.(string); ok {
					return s, nil
				}
			}
		}
	case schema.Int:
		n, err := toInt(v)
		if err == nil {
			return n, nil
		}
	case schema.Minor:
		n, err := toInt(v)
		if err == nil {
			return stdlib.Minor(n), nil
		}
	case schema.Decimal:
		d, err := toDecimal(v)
		if err == nil {
			return stdlib.Decimal{Decimal: d}, nil
		}
	case schema.Double:
		switch x := v.(type) {
		case nil:
			return 0.0, nil
		case float64:
			return x, nil
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, nil
			}
		case int64:
			return float64(x), nil
		case decimal.Decimal:
			f, _ := x.Float64()
			return f, nil
		}
	case schema.Bool:
		switch x := v.(type) {
		case nil:
			return false, nil
		case bool:
			return x, nil
		}
	case schema.Timestamp:
		switch x := v.(type) {
		case nil:
			return time.Unix(0, 0).UTC(), nil
		case time.Time:
			return x, nil
		case string:
			if ts, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return ts, nil
			}
		case json.Number, int64:
			if n, err := toInt(x); err == nil {
				return time.Unix(n, 0).UTC(), nil
			}
		}
	case schema.List:
		switch x := v.(type) {
		case nil:
			return []any{}, nil
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				c, err := RuntimeValue(t.Elem, e)
				if err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
				out[i] = c
			}
			return out, nil
		}
	case schema.Map:
		if o, ok := v.(*jsonval.Object); ok {
			v = o.Map()
		}
		switch x := v.(type) {
		case nil:
			return map[string]any{}, nil
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				c, err := RuntimeValue(t.Elem, e)
				if err != nil {
					return nil, fmt.Errorf("key %q: %w", k, err)
				}
				out[k] = c
			}
			return out, nil
		}
	case schema.Struct:
		switch x := v.(type) {
		case nil:
			return map[string]any{}, nil
		case map[string]any, *jsonval.Object:
			return x, nil
		}
	default: // Any
		return anyValue(v), nil
	}
	return nil, fmt.Errorf("want %s, got %s", t, describe(v))
}

// anyValue makes a value of unknown type usable: JSON numbers become int or
// double.
func anyValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = anyValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = anyValue(e)
		}
		return out
	case *jsonval.Object:
		return anyValue(x.Map())
	case decimal.Decimal:
		return stdlib.Decimal{Decimal: x}
	}
	return v
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, nil
		}
		// An integer written with an exponent or a ".0".
		d, err := decimal.NewFromString(string(x))
		if err == nil && d.IsInteger() && d.Abs().LessThanOrEqual(decimal.NewFromInt(math.MaxInt64)) {
			return d.IntPart(), nil
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case decimal.Decimal:
		if x.IsInteger() {
			return x.IntPart(), nil
		}
	}
	return 0, fmt.Errorf("not an integer")
}

func toDecimal(v any) (decimal.Decimal, error) {
	switch x := v.(type) {
	case nil:
		return decimal.Zero, nil
	case decimal.Decimal:
		return x, nil
	case json.Number:
		return decimal.NewFromString(string(x))
	case string:
		return decimal.NewFromString(x)
	case int64:
		return decimal.NewFromInt(x), nil
	}
	// A float64 in particular: an amount that went through one may
	// already be wrong, so it is refused rather than rounded.
	return decimal.Zero, fmt.Errorf("not a decimal")
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "the number " + string(x)
	case bool:
		return "a bool"
	case map[string]any, *jsonval.Object:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}
