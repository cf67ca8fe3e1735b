package stdlib

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/shopspring/decimal"
)

// The CEL types of the two money values. They are opaque to CEL: only the
// functions and operator overloads of this package accept them.
var (
	DecimalType = cel.OpaqueType("decimal") // an exact decimal amount (major units)
	MinorType   = cel.OpaqueType("minor")   // integer amount in a currency's minor units, as gateways send it
)

// runtimeType is the ref.Type of Decimal and Minor values. It has the name of
// the declared opaque type (the runtime matches types by name) and, unlike an
// opaque *types.Type, carries operator traits, so that CEL's trait-based
// operator bindings also serve the values in dyn-typed expressions.
type runtimeType struct {
	name   string
	traits int
}

func (t *runtimeType) HasTrait(trait int) bool { return t.traits&trait == trait }
func (t *runtimeType) TypeName() string        { return t.name }

var (
	decimalRuntimeType = &runtimeType{name: "decimal", traits: traits.AdderType | traits.SubtractorType |
		traits.MultiplierType | traits.DividerType | traits.NegatorType | traits.ComparerType}
	minorRuntimeType = &runtimeType{name: "minor", traits: traits.AdderType | traits.SubtractorType |
		traits.MultiplierType | traits.NegatorType | traits.ComparerType}
)

// divisionPlaces is the number of decimal places a quotient is rounded to.
const divisionPlaces = 16

// Decimal is the CEL value of DecimalType: an exact decimal amount.
//
// A Decimal made by money() or round() remembers its number of decimal places
// so that String keeps the trailing zeros a finance reader expects ("20.00");
// sums and differences with such an amount, negations and absolute values
// keep them too. Any other Decimal, products and quotients included, prints
// as decimal.Decimal.String does ("20").
// Places never affect comparisons: 20.00 == 20.
//
// Build one from Go with Decimal{Decimal: d}.
type Decimal struct {
	decimal.Decimal

	places int32 // decimal places to print; meaningful only when fixed
	fixed  bool
}

// fixedDecimal returns d printed with exactly places decimal places.
func fixedDecimal(d decimal.Decimal, places int32) Decimal {
	return Decimal{Decimal: d, places: places, fixed: places >= 0}
}

// String renders the amount exactly, with the remembered decimal places when
// that loses nothing.
func (d Decimal) String() string {
	if d.fixed && d.Decimal.Round(d.places).Equal(d.Decimal) {
		return d.Decimal.StringFixed(d.places)
	}
	return d.Decimal.String()
}

// MarshalJSON renders the amount as an exact JSON number, e.g. 20.00.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// Type implements ref.Val. The result is named like DecimalType; compare
// types by TypeName.
func (d Decimal) Type() ref.Type { return decimalRuntimeType }

// Value implements ref.Val; it returns the decimal.Decimal.
func (d Decimal) Value() any { return d.Decimal }

// ConvertToNative implements ref.Val. Supported targets: decimal.Decimal,
// *decimal.Decimal, string, json.Number and json.RawMessage (both an exact
// JSON number), and any (a decimal.Decimal). A float target is refused: money
// is never a float.
func (d Decimal) ConvertToNative(typeDesc reflect.Type) (any, error) {
	switch typeDesc {
	case reflect.TypeFor[decimal.Decimal]():
		return d.Decimal, nil
	case reflect.TypeFor[*decimal.Decimal]():
		v := d.Decimal
		return &v, nil
	case reflect.TypeFor[Decimal]():
		return d, nil
	case reflect.TypeFor[string]():
		return d.String(), nil
	case reflect.TypeFor[json.Number]():
		return json.Number(d.String()), nil
	case reflect.TypeFor[json.RawMessage]():
		return json.RawMessage(d.String()), nil
	}
	if typeDesc.Kind() == reflect.Interface && reflect.TypeFor[decimal.Decimal]().Implements(typeDesc) {
		return d.Decimal, nil
	}
	return nil, fmt.Errorf("decimal: cannot convert to %v (money is never a float; use json.Number for JSON)", typeDesc)
}

// ConvertToType implements ref.Val: decimal to string, decimal or type.
func (d Decimal) ConvertToType(typeVal ref.Type) ref.Val {
	switch typeVal.TypeName() {
	case DecimalType.TypeName():
		return d
	case types.StringType.TypeName():
		return types.String(d.String())
	case types.TypeType.TypeName():
		return DecimalType
	}
	return types.NewErr("type conversion error from decimal to '%s'", typeVal.TypeName())
}

// Equal implements ref.Val. Amounts are equal when their values are, whatever
// their printed places; a Decimal also equals an int of the same value (CEL's
// numeric equality under dyn), never a Minor.
func (d Decimal) Equal(other ref.Val) ref.Val {
	switch o := other.(type) {
	case Decimal:
		return types.Bool(d.Decimal.Equal(o.Decimal))
	case types.Int:
		return types.Bool(d.Decimal.Equal(decimal.NewFromInt(int64(o))))
	}
	return types.False
}

// keepPlaces returns the sum or difference r of a and b, printed with the
// larger of the operands' remembered places: money(...) + decimal("1.00")
// prints "21.00". String still falls back to the plain form when r needs
// more places.
func keepPlaces(r decimal.Decimal, a, b Decimal) Decimal {
	switch {
	case a.fixed && b.fixed:
		return fixedDecimal(r, max(a.places, b.places))
	case a.fixed:
		return fixedDecimal(r, a.places)
	case b.fixed:
		return fixedDecimal(r, b.places)
	}
	return Decimal{Decimal: r}
}

// Add implements traits.Adder for decimal + decimal.
func (d Decimal) Add(other ref.Val) ref.Val {
	o, ok := other.(Decimal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return keepPlaces(d.Decimal.Add(o.Decimal), d, o)
}

// Subtract implements traits.Subtractor for decimal - decimal.
func (d Decimal) Subtract(other ref.Val) ref.Val {
	o, ok := other.(Decimal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return keepPlaces(d.Decimal.Sub(o.Decimal), d, o)
}

// Multiply implements traits.Multiplier for decimal * decimal and decimal * int.
func (d Decimal) Multiply(other ref.Val) ref.Val {
	o, ok := asDecimal(other)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return Decimal{Decimal: d.Decimal.Mul(o)}
}

// Divide implements traits.Divider for decimal / decimal and decimal / int.
// The quotient is rounded half away from zero to 16 decimal places; a zero
// divisor is an error value.
func (d Decimal) Divide(other ref.Val) ref.Val {
	o, ok := asDecimal(other)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	if o.IsZero() {
		return types.NewErr("decimal: division by zero")
	}
	return Decimal{Decimal: d.Decimal.DivRound(o, divisionPlaces)}
}

// Negate implements traits.Negater.
func (d Decimal) Negate() ref.Val {
	d.Decimal = d.Decimal.Neg()
	return d
}

// Compare implements traits.Comparer against a decimal or an int.
func (d Decimal) Compare(other ref.Val) ref.Val {
	o, ok := asDecimal(other)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return types.Int(d.Decimal.Cmp(o))
}

// asDecimal accepts the operands decimal arithmetic allows on its right.
func asDecimal(v ref.Val) (decimal.Decimal, bool) {
	switch o := v.(type) {
	case Decimal:
		return o.Decimal, true
	case types.Int:
		return decimal.NewFromInt(int64(o)), true
	}
	return decimal.Decimal{}, false
}

// Minor is the CEL value of MinorType: an integer amount in a currency's minor
// units (2000 for 20.00 USD, 500 for 500 JPY). Arithmetic on it fails with an
// error value on int64 overflow.
type Minor int64

// Type implements ref.Val. The result is named like MinorType; compare types
// by TypeName.
func (m Minor) Type() ref.Type { return minorRuntimeType }

// Value implements ref.Val; it returns the int64.
func (m Minor) Value() any { return int64(m) }

// ConvertToNative implements ref.Val. Supported targets: int64, int, Minor,
// string, json.Number and any (an int64).
func (m Minor) ConvertToNative(typeDesc reflect.Type) (any, error) {
	switch typeDesc {
	case reflect.TypeFor[int64]():
		return int64(m), nil
	case reflect.TypeFor[int]():
		if int64(m) < math.MinInt || int64(m) > math.MaxInt {
			return nil, fmt.Errorf("minor: %d overflows int", int64(m))
		}
		return int(m), nil
	case reflect.TypeFor[Minor]():
		return m, nil
	case reflect.TypeFor[string]():
		return fmt.Sprint(int64(m)), nil
	case reflect.TypeFor[json.Number]():
		return json.Number(fmt.Sprint(int64(m))), nil
	}
	if typeDesc.Kind() == reflect.Interface && reflect.TypeFor[int64]().Implements(typeDesc) {
		return int64(m), nil
	}
	return nil, fmt.Errorf("minor: cannot convert to %v", typeDesc)
}

// ConvertToType implements ref.Val: minor to int, string, minor or type.
func (m Minor) ConvertToType(typeVal ref.Type) ref.Val {
	switch typeVal.TypeName() {
	case MinorType.TypeName():
		return m
	case types.IntType.TypeName():
		return types.Int(m)
	case types.StringType.TypeName():
		return types.String(fmt.Sprint(int64(m)))
	case types.TypeType.TypeName():
		return MinorType
	}
	return types.NewErr("type conversion error from minor to '%s'", typeVal.TypeName())
}

// Equal implements ref.Val: a Minor equals a Minor or an int of the same
// value, never a Decimal.
func (m Minor) Equal(other ref.Val) ref.Val {
	switch o := other.(type) {
	case Minor:
		return types.Bool(m == o)
	case types.Int:
		return types.Bool(int64(m) == int64(o))
	}
	return types.False
}

// Add implements traits.Adder for minor + minor.
func (m Minor) Add(other ref.Val) ref.Val {
	o, ok := other.(Minor)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	r, ok := addInt64(int64(m), int64(o))
	if !ok {
		return minorOverflow()
	}
	return Minor(r)
}

// Subtract implements traits.Subtractor for minor - minor.
func (m Minor) Subtract(other ref.Val) ref.Val {
	o, ok := other.(Minor)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	if int64(o) == math.MinInt64 {
		return minorOverflow()
	}
	r, ok := addInt64(int64(m), -int64(o))
	if !ok {
		return minorOverflow()
	}
	return Minor(r)
}

// Multiply implements traits.Multiplier for minor * int.
func (m Minor) Multiply(other ref.Val) ref.Val {
	o, ok := other.(types.Int)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	r, ok := mulInt64(int64(m), int64(o))
	if !ok {
		return minorOverflow()
	}
	return Minor(r)
}

// Negate implements traits.Negater.
func (m Minor) Negate() ref.Val {
	if int64(m) == math.MinInt64 {
		return minorOverflow()
	}
	return -m
}

// Compare implements traits.Comparer against a minor or an int.
func (m Minor) Compare(other ref.Val) ref.Val {
	var o int64
	switch v := other.(type) {
	case Minor:
		o = int64(v)
	case types.Int:
		o = int64(v)
	default:
		return types.MaybeNoSuchOverloadErr(other)
	}
	switch {
	case int64(m) < o:
		return types.IntNegOne
	case int64(m) > o:
		return types.IntOne
	}
	return types.IntZero
}

// minorOverflow returns a fresh error value: cel-go labels errors with the
// expression node id in place, so one must never be shared.
func minorOverflow() ref.Val { return types.NewErr("minor: integer overflow") }

func addInt64(a, b int64) (int64, bool) {
	r := a + b
	if (a > 0 && b > 0 && r < 0) || (a < 0 && b < 0 && r >= 0) {
		return 0, false
	}
	return r, true
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	r := a * b
	if r/b != a {
		return 0, false
	}
	return r, true
}
