package stdlib

import (
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/shopspring/decimal"
)

// maxRoundPlaces bounds the places argument of round() and round_bank().
const maxRoundPlaces = 28

// maxDecimalLen bounds the text decimal() parses, so a hostile payload cannot
// make a huge number.
const maxDecimalLen = 100

// moneyFunctions declares the conversions between the money types and the
// functions over them. There is deliberately no decimal(double): money is
// never a float.
func moneyFunctions() []function {
	return []function{
		{
			name: "money",
			doc:  "Converts an amount in a currency's minor units, as the gateway sends it, to an exact decimal amount: money(ch.amount, ch.currency) is 20.00 for 2000 \"usd\".",
			overloads: []overload{{
				id: "money_minor_string", args: []*cel.Type{MinorType, cel.StringType}, result: DecimalType,
				impl: cel.BinaryBinding(moneyOf),
			}},
		},
		{
			name: "minor",
			doc:  "Converts a decimal amount to the currency's minor units; an error if it has more decimal places than the currency.",
			overloads: []overload{{
				id: "minor_decimal_string", args: []*cel.Type{DecimalType, cel.StringType}, result: MinorType,
				impl: cel.BinaryBinding(minorOf),
			}},
		},
		{
			name: "decimal",
			doc:  "Makes an exact decimal from text such as \"20.00\" or from an int.",
			overloads: []overload{
				{
					id: "decimal_string", args: []*cel.Type{cel.StringType}, result: DecimalType,
					impl: cel.UnaryBinding(parseDecimal),
				},
				{
					id: "decimal_int", args: []*cel.Type{cel.IntType}, result: DecimalType,
					impl: cel.UnaryBinding(func(v ref.Val) ref.Val {
						i, ok := v.(types.Int)
						if !ok {
							return types.MaybeNoSuchOverloadErr(v)
						}
						return Decimal{Decimal: decimal.NewFromInt(int64(i))}
					}),
				},
			},
		},
		{
			name: "convert",
			doc:  "Converts an amount at an exchange rate into a currency, rounded to that currency's minor unit, halves away from zero: convert(money(1000, \"eur\"), decimal(\"1.0825\"), \"usd\") is 10.83. A zero rate (an absent one reads as zero) is an error, never a silent 1.",
			overloads: []overload{{
				id: "convert_decimal_decimal_string", args: []*cel.Type{DecimalType, DecimalType, cel.StringType}, result: DecimalType,
				impl: cel.FunctionBinding(convertAt),
			}},
		},
		{
			name: "total",
			doc:  "Adds up a list of amounts; an empty list is zero: total(bt.fee_details.filter(f, f.type == \"tax\").map(f, f.amount)) is the transaction's tax fees.",
			overloads: []overload{
				{id: "total_list_minor", args: []*cel.Type{cel.ListType(MinorType)}, result: MinorType, impl: cel.UnaryBinding(totalOf(Minor(0)))},
				{id: "total_list_decimal", args: []*cel.Type{cel.ListType(DecimalType)}, result: DecimalType, impl: cel.UnaryBinding(totalOf(Decimal{Decimal: decimal.Zero}))},
				{id: "total_list_int", args: []*cel.Type{cel.ListType(cel.IntType)}, result: cel.IntType, impl: cel.UnaryBinding(totalOf(types.Int(0)))},
			},
		},
		{
			name: "round",
			doc:  "Rounds a decimal to the given number of places, halves away from zero: round(decimal(\"2.345\"), 2) is 2.35.",
			overloads: []overload{{
				id: "round_decimal_int", args: []*cel.Type{DecimalType, cel.IntType}, result: DecimalType,
				impl: cel.BinaryBinding(rounder("round", decimal.Decimal.Round)),
			}},
		},
		{
			name: "round_bank",
			doc:  "Rounds a decimal to the given number of places, halves to even (banker's rounding): round_bank(decimal(\"2.345\"), 2) is 2.34.",
			overloads: []overload{{
				id: "round_bank_decimal_int", args: []*cel.Type{DecimalType, cel.IntType}, result: DecimalType,
				impl: cel.BinaryBinding(rounder("round_bank", decimal.Decimal.RoundBank)),
			}},
		},
		{
			name: "abs",
			doc:  "Returns the absolute value of an amount.",
			overloads: []overload{
				{
					id: "abs_decimal", args: []*cel.Type{DecimalType}, result: DecimalType,
					impl: cel.UnaryBinding(func(v ref.Val) ref.Val {
						d, ok := v.(Decimal)
						if !ok {
							return types.MaybeNoSuchOverloadErr(v)
						}
						d.Decimal = d.Decimal.Abs()
						return d
					}),
				},
				{
					id: "abs_minor", args: []*cel.Type{MinorType}, result: MinorType,
					impl: cel.UnaryBinding(func(v ref.Val) ref.Val {
						m, ok := v.(Minor)
						if !ok {
							return types.MaybeNoSuchOverloadErr(v)
						}
						if m < 0 {
							return m.Negate()
						}
						return m
					}),
				},
			},
		},
		{
			name: "string",
			doc:  "Renders an amount exactly; an amount from money() or round() keeps its places (\"20.00\"), others print without trailing zeros (\"3\").",
			overloads: []overload{
				{
					id: "decimal_to_string", args: []*cel.Type{DecimalType}, result: cel.StringType,
					impl: cel.UnaryBinding(func(v ref.Val) ref.Val { return v.ConvertToType(types.StringType) }),
				},
				{
					id: "minor_to_string", args: []*cel.Type{MinorType}, result: cel.StringType,
					impl: cel.UnaryBinding(func(v ref.Val) ref.Val { return v.ConvertToType(types.StringType) }),
				},
			},
		},
		{
			name: "int",
			doc:  "Returns the plain integer count of minor units, leaving the money type: int(ch.amount) == 0.",
			overloads: []overload{{
				id: "minor_to_int", args: []*cel.Type{MinorType}, result: cel.IntType,
				impl: cel.UnaryBinding(func(v ref.Val) ref.Val { return v.ConvertToType(types.IntType) }),
			}},
		},
		{
			name: "exponent",
			doc:  "Returns the exponent of a currency in gateway amounts: 2 for \"usd\", 0 for \"jpy\", 3 for \"kwd\".",
			overloads: []overload{{
				id: "exponent_string", args: []*cel.Type{cel.StringType}, result: cel.IntType,
				impl: cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(v)
					}
					exp, _, err := exponents(string(s))
					if err != nil {
						return fail("exponent", err)
					}
					return types.Int(exp)
				}),
			}},
		},
	}
}

// convertAt is convert(amount, rate, currency).
func convertAt(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NewErr("convert: want 3 arguments, got %d", len(args))
	}
	amount, ok1 := args[0].(Decimal)
	rate, ok2 := args[1].(Decimal)
	cur, ok3 := args[2].(types.String)
	if !ok1 || !ok2 || !ok3 {
		return types.MaybeNoSuchOverloadErr(args[0])
	}
	if rate.Sign() <= 0 {
		return fail("convert", fmt.Errorf("no exchange rate (it is %s): an absent rate is not 1", rate.Decimal))
	}
	exp, ok := ISOExponent(string(cur))
	if !ok {
		return fail("convert", fmt.Errorf("unknown currency %q", string(cur)))
	}
	return fixedDecimal(amount.Mul(rate.Decimal).Round(int32(exp)), int32(exp))
}

func moneyOf(units, currency ref.Val) ref.Val {
	m, ok1 := units.(Minor)
	c, ok2 := currency.(types.String)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(units)
	}
	d, err := FromMinor(int64(m), string(c))
	if err != nil {
		return fail("money", err)
	}
	return fixedDecimal(d, displayPlaces(string(c)))
}

func minorOf(amount, currency ref.Val) ref.Val {
	d, ok1 := amount.(Decimal)
	c, ok2 := currency.(types.String)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(amount)
	}
	units, err := ToMinor(d.Decimal, string(c))
	if err != nil {
		return fail("minor", err)
	}
	return Minor(units)
}

// rounder builds the binding of round() or round_bank(). The result prints
// with exactly the requested places.
func rounder(name string, round func(decimal.Decimal, int32) decimal.Decimal) func(ref.Val, ref.Val) ref.Val {
	return func(amount, places ref.Val) ref.Val {
		d, ok1 := amount.(Decimal)
		p, ok2 := places.(types.Int)
		if !ok1 || !ok2 {
			return types.MaybeNoSuchOverloadErr(amount)
		}
		if p < 0 || p > maxRoundPlaces {
			return failf(name, "places %d out of range 0..%d", int64(p), maxRoundPlaces)
		}
		return fixedDecimal(round(d.Decimal, int32(p)), int32(p))
	}
}

func parseDecimal(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(v)
	}
	d, err := ParseDecimal(string(s))
	if err != nil {
		return fail("decimal", err)
	}
	return Decimal{Decimal: d}
}

// ParseDecimal parses plain decimal notation: an optional sign, digits, and
// an optional point followed by digits ("20.00", "-0.5", "1200"). Exponents,
// spaces, thousands separators, "NaN" and "Inf" are errors, so that a value
// read from an ERP or a gateway means exactly what it says.
func ParseDecimal(s string) (decimal.Decimal, error) {
	if !isPlainDecimal(s) {
		if len(s) > maxDecimalLen {
			return decimal.Decimal{}, fmt.Errorf("invalid amount of %d characters (at most %d)", len(s), maxDecimalLen)
		}
		return decimal.Decimal{}, fmt.Errorf("invalid amount %q (want digits with an optional sign and point, e.g. \"20.00\")", s)
	}
	return decimal.NewFromString(s)
}

func isPlainDecimal(s string) bool {
	if len(s) == 0 || len(s) > maxDecimalLen {
		return false
	}
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point && digits > 0 && i < len(s)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// operatorFunctions adds overloads for the money types to CEL's operators.
//
// The overloads that are missing are the point: there is no operator between
// a minor and a decimal or a double, and no + or - between a minor and an
// int, so `ch.amount + 1` or `money(ch.amount, "usd") + ch.amount` fail to
// type-check and the compiler names the conversion to write instead.
//
// Equality needs no overloads: CEL's == and != take two values of one type,
// so decimal == decimal and minor == minor check, and the values' Equal
// methods compare by value. CEL does not allow adding overloads to == (its
// (A, A) signature overlaps every other), so minor == int does not check;
// int(m) == 0 or m <= 0 say it instead.
func operatorFunctions() []function {
	d, m, i := DecimalType, MinorType, cel.IntType
	fs := []function{
		{
			name: operators.Add,
			doc:  "Adds two decimals or two minor amounts.",
			overloads: []overload{
				binaryOp("add_decimal_decimal", d, d, d, add),
				binaryOp("add_minor_minor", m, m, m, add),
			},
		},
		{
			name: operators.Subtract,
			doc:  "Subtracts two decimals or two minor amounts.",
			overloads: []overload{
				binaryOp("subtract_decimal_decimal", d, d, d, subtract),
				binaryOp("subtract_minor_minor", m, m, m, subtract),
			},
		},
		{
			name: operators.Multiply,
			doc:  "Multiplies decimals, or a minor amount by an int.",
			overloads: []overload{
				binaryOp("multiply_decimal_decimal", d, d, d, multiply),
				binaryOp("multiply_decimal_int", d, i, d, multiply),
				binaryOp("multiply_int_decimal", i, d, d, flip(multiply)),
				binaryOp("multiply_minor_int", m, i, m, multiply),
				binaryOp("multiply_int_minor", i, m, m, flip(multiply)),
			},
		},
		{
			name: operators.Divide,
			doc:  "Divides a decimal, rounding the quotient to 16 places; dividing by zero is an error.",
			overloads: []overload{
				binaryOp("divide_decimal_decimal", d, d, d, divide),
				binaryOp("divide_decimal_int", d, i, d, divide),
			},
		},
		{
			name: operators.Negate,
			doc:  "Negates an amount.",
			overloads: []overload{
				{id: "negate_decimal", args: []*cel.Type{d}, result: d, unaryOp: negate},
				{id: "negate_minor", args: []*cel.Type{m}, result: m, unaryOp: negate},
			},
		},
	}
	comparisons := []struct {
		op, id string
		test   func(int64) bool
	}{
		{operators.Less, "less", func(c int64) bool { return c < 0 }},
		{operators.LessEquals, "less_equals", func(c int64) bool { return c <= 0 }},
		{operators.Greater, "greater", func(c int64) bool { return c > 0 }},
		{operators.GreaterEquals, "greater_equals", func(c int64) bool { return c >= 0 }},
	}
	for _, c := range comparisons {
		cmp := comparer(c.test)
		fs = append(fs, function{
			name: c.op,
			doc:  "Compares two amounts of the same kind, or an amount with an int.",
			overloads: []overload{
				binaryOp(c.id+"_decimal_decimal", d, d, cel.BoolType, cmp),
				binaryOp(c.id+"_decimal_int", d, i, cel.BoolType, cmp),
				binaryOp(c.id+"_int_decimal", i, d, cel.BoolType, cmp),
				binaryOp(c.id+"_minor_minor", m, m, cel.BoolType, cmp),
				binaryOp(c.id+"_minor_int", m, i, cel.BoolType, cmp),
				binaryOp(c.id+"_int_minor", i, m, cel.BoolType, cmp),
			},
		})
	}
	return fs
}

func binaryOp(id string, lhs, rhs, result *cel.Type, fn func(a, b ref.Val) ref.Val) overload {
	return overload{id: id, args: []*cel.Type{lhs, rhs}, result: result, binaryOp: fn}
}

// The operator bindings dispatch to the traits of Decimal and Minor, which
// check the right-hand type themselves and never panic.

func add(a, b ref.Val) ref.Val {
	if x, ok := a.(traits.Adder); ok {
		return x.Add(b)
	}
	return types.MaybeNoSuchOverloadErr(a)
}

func subtract(a, b ref.Val) ref.Val {
	if x, ok := a.(traits.Subtractor); ok {
		return x.Subtract(b)
	}
	return types.MaybeNoSuchOverloadErr(a)
}

func multiply(a, b ref.Val) ref.Val {
	if x, ok := a.(traits.Multiplier); ok {
		return x.Multiply(b)
	}
	return types.MaybeNoSuchOverloadErr(a)
}

func divide(a, b ref.Val) ref.Val {
	if x, ok := a.(traits.Divider); ok {
		return x.Divide(b)
	}
	return types.MaybeNoSuchOverloadErr(a)
}

func negate(a ref.Val) ref.Val {
	if x, ok := a.(traits.Negater); ok {
		return x.Negate()
	}
	return types.MaybeNoSuchOverloadErr(a)
}

// totalOf returns the implementation of total() for lists whose elements add
// up from zero; an element of another type, or an overflow, is an error value.
func totalOf(zero ref.Val) func(ref.Val) ref.Val {
	return func(v ref.Val) ref.Val {
		l, ok := v.(traits.Lister)
		if !ok {
			return types.MaybeNoSuchOverloadErr(v)
		}
		sum := zero
		for it := l.Iterator(); it.HasNext() == types.True; {
			sum = add(sum, it.Next())
			if types.IsError(sum) || types.IsUnknown(sum) {
				return sum
			}
		}
		return sum
	}
}

// flip swaps the operands of a commutative operation, for int * decimal.
func flip(fn func(a, b ref.Val) ref.Val) func(a, b ref.Val) ref.Val {
	return func(a, b ref.Val) ref.Val { return fn(b, a) }
}

// comparer builds a comparison binding from a test on the sign of the
// comparison. An int on the left is compared from the amount's side.
func comparer(test func(int64) bool) func(a, b ref.Val) ref.Val {
	return func(a, b ref.Val) ref.Val {
		var c ref.Val
		if _, isInt := a.(types.Int); isInt {
			x, ok := b.(traits.Comparer)
			if !ok {
				return types.MaybeNoSuchOverloadErr(b)
			}
			c = x.Compare(a)
			if n, ok := c.(types.Int); ok {
				c = -n
			}
		} else {
			x, ok := a.(traits.Comparer)
			if !ok {
				return types.MaybeNoSuchOverloadErr(a)
			}
			c = x.Compare(b)
		}
		n, ok := c.(types.Int)
		if !ok {
			return c // an error value
		}
		return types.Bool(test(int64(n)))
	}
}
