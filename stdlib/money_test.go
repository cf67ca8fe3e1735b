package stdlib

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestMoneyFunctions(t *testing.T) {
	runEvalCases(t, newTestEnv(t), []evalCase{
		{name: "money equals decimal", src: `money(m, "usd") == decimal("20.00")`, want: "true"},
		{name: "money ignores case", src: `money(m, "USD") == decimal("20")`, want: "true"},
		{name: "money currency variable", src: `string(money(m, cur))`, want: "20.00"},
		{name: "money usd keeps places", src: `string(money(m, "usd"))`, want: "20.00"},
		{name: "money jpy", src: `string(money(m, "jpy"))`, want: "2000"},
		{name: "money kwd", src: `string(money(m, "kwd"))`, want: "2.000"},
		{name: "money isk in hundredths", src: `string(money(m, "isk"))`, want: "20"},
		{name: "money jpy 500", src: `money(x, "jpy") == decimal(500)`, vars: map[string]any{"x": Minor(500)}, want: "true"},
		{name: "money unknown currency", src: `money(m, "xyz")`, wantErr: `money: unknown currency "xyz"`},
		{name: "money sum keeps places", src: `string(money(m, "usd") + money(n, "usd"))`, want: "18.50"},
		{name: "money plus decimal keeps places", src: `string(money(m, "usd") + decimal("1"))`, want: "21.00"},
		{name: "money plus finer decimal prints exactly", src: `string(money(m, "usd") - decimal("0.001"))`, want: "19.999"},
		{name: "money negated keeps places", src: `string(-money(m, "usd"))`, want: "-20.00"},
		{name: "money product drops places", src: `string(money(m, "usd") * 2)`, want: "40"},
		{name: "minor of decimal", src: `minor(decimal("20.00"), "usd") == m`, want: "true"},
		{name: "minor of money", src: `minor(money(m, "usd"), "usd") == m`, want: "true"},
		{name: "minor kwd", src: `int(minor(decimal("5.12"), "kwd"))`, want: "5120"},
		{name: "minor too precise", src: `minor(decimal("12.345"), "usd")`, wantErr: "minor: 12.345 USD has more than 2 decimal places"},
		{name: "minor unknown currency", src: `minor(d, "xyz")`, wantErr: `minor: unknown currency "xyz"`},
		{name: "decimal string", src: `string(decimal("1.50"))`, want: "1.5"},
		{name: "decimal int", src: `decimal(7) == decimal("7.0")`, want: "true"},
		{name: "decimal negative", src: `string(decimal("-0.5"))`, want: "-0.5"},
		{name: "decimal bad", src: `decimal("abc")`, wantErr: `decimal: invalid amount "abc"`},
		{name: "decimal exponent form", src: `decimal("1e3")`, wantErr: `decimal: invalid amount "1e3"`},
		{name: "decimal thousands separator", src: `decimal("1,000.00")`, wantErr: "decimal: invalid amount"},
		{name: "decimal empty", src: `decimal("")`, wantErr: "decimal: invalid amount"},
		{name: "round half up", src: `string(round(decimal("2.345"), 2))`, want: "2.35"},
		{name: "round half away from zero", src: `string(round(decimal("-2.345"), 2))`, want: "-2.35"},
		{name: "round keeps places", src: `string(round(decimal("1.5"), 2))`, want: "1.50"},
		{name: "round to whole", src: `string(round(decimal("2.5"), 0))`, want: "3"},
		{name: "round negative places", src: `round(d, -1)`, wantErr: "round: places -1 out of range 0..28"},
		{name: "round too many places", src: `round(d, 29)`, wantErr: "round: places 29 out of range"},
		{name: "round_bank half even down", src: `string(round_bank(decimal("2.345"), 2))`, want: "2.34"},
		{name: "round_bank half even up", src: `string(round_bank(decimal("2.355"), 2))`, want: "2.36"},
		{name: "round_bank bad places", src: `round_bank(d, 99)`, wantErr: "round_bank: places 99 out of range"},
		{name: "abs decimal", src: `string(abs(money(n, "usd")))`, want: "1.50"},
		{name: "abs minor", src: `int(abs(n))`, want: "150"},
		{name: "abs minor overflow", src: `abs(-big - minor(decimal("0.01"), "usd"))`, wantErr: "minor: integer overflow"},
		{name: "string minor", src: `"stripe:" + string(m)`, want: "stripe:2000"},
		{name: "int minor", src: `int(m) == 2000`, want: "true"},
		{name: "exponent usd", src: `exponent("usd")`, want: "2"},
		{name: "exponent isk", src: `exponent("ISK")`, want: "2"},
		{name: "exponent jpy", src: `exponent("jpy")`, want: "0"},
		{name: "exponent unknown", src: `exponent("xyz")`, wantErr: `exponent: unknown currency "xyz"`},
		{name: "total of minor amounts", src: `int(total([m, n, m]))`, want: "3850"},
		{name: "total of no amounts is zero", src: `int(total([m].filter(x, int(x) < 0)))`, want: "0"},
		{name: "total of decimals", src: `string(total([money(m, "usd"), money(n, "usd")]))`, want: "18.50"},
		{name: "total of ints", src: `total([1, 2, 3])`, want: "6"},
		{name: "total overflows to an error", src: `total([big, big, big])`, wantErr: "overflow"},
		{name: "convert rounds to the target currency", src: `string(convert(money(m, "eur"), decimal("1.0825"), "usd"))`, want: "21.65"},
		{name: "convert into a zero-decimal currency", src: `string(convert(money(m, "usd"), decimal("149.256"), "jpy"))`, want: "2985"},
		{name: "convert into a three-decimal currency", src: `string(convert(money(m, "usd"), decimal("0.30745"), "kwd"))`, want: "6.149"},
		{name: "convert halves away from zero", src: `string(convert(decimal("0.125"), decimal("1"), "usd"))`, want: "0.13"},
		{name: "convert without a rate", src: `convert(money(m, "eur"), decimal("0"), "usd")`, wantErr: "convert: no exchange rate (it is 0): an absent rate is not 1"},
		{name: "convert unknown currency", src: `convert(d, decimal("1.1"), "xyz")`, wantErr: `convert: unknown currency "xyz"`},
	})
}

func TestMoneyOperators(t *testing.T) {
	runEvalCases(t, newTestEnv(t), []evalCase{
		{name: "decimal add", src: `string(d + decimal("1"))`, want: "13.345"},
		{name: "decimal subtract", src: `string(d - decimal("0.345"))`, want: "12"},
		{name: "decimal multiply", src: `string(d * decimal("2"))`, want: "24.69"},
		{name: "decimal times int", src: `string(d * 3)`, want: "37.035"},
		{name: "int times decimal", src: `string(3 * d)`, want: "37.035"},
		{name: "decimal divide int", src: `string(decimal("10") / 4)`, want: "2.5"},
		{name: "decimal divide rounds to 16 places", src: `string(decimal("2") / decimal("3"))`, want: "0.6666666666666667"},
		{name: "decimal divide by zero int", src: `decimal("1") / 0`, wantErr: "decimal: division by zero"},
		{name: "decimal divide by zero", src: `d / decimal("0.00")`, wantErr: "decimal: division by zero"},
		{name: "decimal negate", src: `string(-d)`, want: "-12.345"},
		{name: "minor add", src: `int(m + n)`, want: "1850"},
		{name: "minor subtract", src: `int(m - n)`, want: "2150"},
		{name: "minor negate", src: `int(-m)`, want: "-2000"},
		{name: "minor times int", src: `int(m * 3)`, want: "6000"},
		{name: "int times minor", src: `int(3 * m)`, want: "6000"},
		{name: "minor add overflow", src: `big + m`, wantErr: "minor: integer overflow"},
		{name: "minor subtract overflow", src: `n - big - big`, wantErr: "minor: integer overflow"},
		{name: "minor multiply overflow", src: `big * 2`, wantErr: "minor: integer overflow"},
		{name: "decimal less", src: `d < decimal("12.35")`, want: "true"},
		{name: "decimal greater int", src: `d > 12`, want: "true"},
		{name: "int less decimal", src: `12 < d`, want: "true"},
		{name: "int greater equals decimal", src: `13 >= d`, want: "true"},
		{name: "decimal less equals", src: `d <= decimal("12.3450")`, want: "true"},
		{name: "minor greater", src: `m > n`, want: "true"},
		{name: "minor greater equals int", src: `m >= 2000`, want: "true"},
		{name: "minor less equals int", src: `m <= 1999`, want: "false"},
		{name: "int less equals minor", src: `2000 <= m`, want: "true"},
		{name: "int greater minor", src: `0 > n`, want: "true"},
		{name: "minor less minor", src: `n < m`, want: "true"},
		{name: "decimal equal ignores places", src: `d == decimal("12.3450")`, want: "true"},
		{name: "decimal not equal", src: `money(m, "usd") != money(n, "usd")`, want: "true"},
		{name: "minor equal", src: `m == m`, want: "true"},
		{name: "minor not equal", src: `m != n`, want: "true"},
		{name: "dyn decimal add", src: `x + d == decimal("13.345")`, vars: map[string]any{"x": Decimal{Decimal: decimal.NewFromInt(1)}}, want: "true"},
		{name: "dyn minor compare", src: `x < m`, want: "true"},
		{name: "dyn minor equals int", src: `x == 7`, want: "true"},
		{name: "dyn minor plus int fails at run time", src: `x + 1`, wantErr: "no such overload"},
		{name: "dyn int to money fails at run time", src: `money(x, "usd")`, vars: map[string]any{"x": int64(5)}, wantErr: "no such overload"},
	})
}

// TestMoneyTypeErrors checks that mixing the money types with each other,
// doubles and plain ints is caught by the checker, which is what turns the
// mistake into a diagnostic naming the conversion.
func TestMoneyTypeErrors(t *testing.T) {
	env := newTestEnv(t)
	for _, src := range []string{
		`m + 1`,
		`m - 1`,
		`m + 1.5`,
		`m * 1.5`,
		`m / 2`,
		`money(m, "usd") + m`,
		`m + d`,
		`d * m`,
		`d + 1.5`,
		`d * 1.5`,
		`d < 1.5`,
		`m < d`,
		`d == m`,
		`decimal(1.5)`,
		`money(2000, "usd")`, // an int literal is not a minor amount
		`money(1.5, "usd")`,
		`minor(20, "usd")`,
		`m == 0`, // == cannot be overloaded in CEL; write int(m) == 0
	} {
		t.Run(src, func(t *testing.T) {
			_, iss := env.Compile(src)
			if iss.Err() == nil {
				t.Fatalf("%s type-checked; want an error", src)
			}
			if msg := iss.Err().Error(); !strings.Contains(msg, "no matching overload") {
				t.Fatalf("%s: %s; want a no matching overload error", src, msg)
			}
		})
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"20.00", true}, {"-0.5", true}, {"+3", true}, {"1200", true}, {"007.10", true},
		{"", false}, {"-", false}, {".5", false}, {"5.", false}, {"1e3", false}, {"1.2.3", false},
		{" 1", false}, {"NaN", false}, {"Inf", false}, {"1_000", false}, {strings.Repeat("9", 101), false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseDecimal(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseDecimal(%q) = %v, %v; want ok=%v", tc.in, d, err, tc.ok)
			}
		})
	}
}
