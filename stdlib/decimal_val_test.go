package stdlib

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/shopspring/decimal"
)

func dec(s string) Decimal { return Decimal{Decimal: decimal.RequireFromString(s)} }

func TestDecimalString(t *testing.T) {
	cases := []struct {
		name string
		d    Decimal
		want string
	}{
		{"plain drops trailing zeros", dec("20.00"), "20"},
		{"plain fraction", dec("0.50"), "0.5"},
		{"fixed keeps places", fixedDecimal(decimal.New(2000, -2), 2), "20.00"},
		{"fixed pads", fixedDecimal(decimal.NewFromInt(5), 3), "5.000"},
		{"fixed never rounds", fixedDecimal(decimal.RequireFromString("5.5"), 0), "5.5"},
		{"fixed zero places", fixedDecimal(decimal.NewFromInt(500), 0), "500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.String(); got != tc.want {
				t.Errorf("String() = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestDecimalConvertToNative(t *testing.T) {
	d := fixedDecimal(decimal.New(2000, -2), 2)
	cases := []struct {
		name string
		to   reflect.Type
		want any
	}{
		{"decimal.Decimal", reflect.TypeFor[decimal.Decimal](), d.Decimal},
		{"string", reflect.TypeFor[string](), "20.00"},
		{"json.Number", reflect.TypeFor[json.Number](), json.Number("20.00")},
		{"json.RawMessage", reflect.TypeFor[json.RawMessage](), json.RawMessage("20.00")},
		{"any", reflect.TypeFor[any](), d.Decimal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.ConvertToNative(tc.to)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ConvertToNative(%v) = %#v, %v; want %#v", tc.to, got, err, tc.want)
			}
		})
	}
	if _, err := d.ConvertToNative(reflect.TypeFor[float64]()); err == nil {
		t.Error("ConvertToNative(float64) succeeded; money is never a float")
	}
	b, err := json.Marshal(map[string]any{"Amount": d})
	if err != nil || string(b) != `{"Amount":20.00}` {
		t.Errorf("json.Marshal = %s, %v; want an exact JSON number", b, err)
	}
}

func TestMinorConvert(t *testing.T) {
	m := Minor(2000)
	for _, tc := range []struct {
		to   reflect.Type
		want any
	}{
		{reflect.TypeFor[int64](), int64(2000)},
		{reflect.TypeFor[int](), 2000},
		{reflect.TypeFor[string](), "2000"},
		{reflect.TypeFor[json.Number](), json.Number("2000")},
		{reflect.TypeFor[any](), int64(2000)},
	} {
		t.Run(tc.to.String(), func(t *testing.T) {
			got, err := m.ConvertToNative(tc.to)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ConvertToNative(%v) = %#v, %v; want %#v", tc.to, got, err, tc.want)
			}
		})
	}
	if _, err := m.ConvertToNative(reflect.TypeFor[float64]()); err == nil {
		t.Error("ConvertToNative(float64) succeeded")
	}
	if got := m.ConvertToType(types.IntType); got != types.Int(2000) {
		t.Errorf("ConvertToType(int) = %v", got)
	}
	if got := m.ConvertToType(types.TypeType); got != MinorType {
		t.Errorf("ConvertToType(type) = %v", got)
	}
	if got := dec("1.5").ConvertToType(types.DoubleType); !types.IsError(got) {
		t.Errorf("decimal to double = %v; want an error", got)
	}
}

func TestValueEquality(t *testing.T) {
	cases := []struct {
		name string
		a, b ref.Val
		want bool
	}{
		{"decimal places ignored", dec("20.00"), fixedDecimal(decimal.NewFromInt(20), 2), true},
		{"decimal differs", dec("20.01"), dec("20"), false},
		{"decimal and int", dec("20"), types.Int(20), true},
		{"decimal and minor never", dec("20"), Minor(20), false},
		{"decimal and double never", dec("1.5"), types.Double(1.5), false},
		{"minor and minor", Minor(5), Minor(5), true},
		{"minor and int", Minor(5), types.Int(5), true},
		{"minor and decimal never", Minor(5), dec("5"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Equal(tc.b); got != types.Bool(tc.want) {
				t.Errorf("%v.Equal(%v) = %v; want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestValueTraits(t *testing.T) {
	if !dec("1").Type().HasTrait(traits.DividerType) || Minor(1).Type().HasTrait(traits.DividerType) {
		t.Error("decimal must divide, minor must not")
	}
	if dec("1").Type().TypeName() != DecimalType.TypeName() || Minor(1).Type().TypeName() != MinorType.TypeName() {
		t.Error("runtime type names must match the declared types")
	}
	cases := []struct {
		name    string
		got     ref.Val
		want    string
		wantErr bool
	}{
		{"decimal add minor", dec("1").Add(Minor(1)), "", true},
		{"decimal add int", dec("1").Add(types.Int(1)), "", true},
		{"decimal compare double", dec("1").Compare(types.Double(1)), "", true},
		{"decimal compare int", dec("1").Compare(types.Int(2)), "-1", false},
		{"minor multiply minor", Minor(2).Multiply(Minor(2)), "", true},
		{"minor add int", Minor(2).Add(types.Int(2)), "", true},
		{"minor negate min", Minor(math.MinInt64).Negate(), "", true},
		{"minor subtract min", Minor(0).Subtract(Minor(math.MinInt64)), "", true},
		{"minor multiply -1 by min", Minor(-1).Multiply(types.Int(math.MinInt64)), "", true},
		{"minor multiply", Minor(-3).Multiply(types.Int(4)), "-12", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if types.IsError(tc.got) != tc.wantErr {
				t.Fatalf("got %v; want error %v", tc.got, tc.wantErr)
			}
			if !tc.wantErr {
				if s := tc.got.ConvertToType(types.StringType); s.Value() != tc.want {
					t.Errorf("got %v; want %s", s, tc.want)
				}
			}
		})
	}
}
