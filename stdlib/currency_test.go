package stdlib

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestExponents(t *testing.T) {
	cases := []struct {
		code         string
		gateway, iso int
		ok           bool
	}{
		{"USD", 2, 2, true},
		{"usd", 2, 2, true},
		{"Jpy", 0, 0, true},
		{"KWD", 3, 3, true},
		{"BHD", 3, 3, true},
		{"TND", 3, 3, true},
		{"ISK", 2, 0, true}, // Stripe keeps ISK two-decimal: 500 = 5 ISK
		{"UGX", 2, 0, true}, // likewise, although listed as zero-decimal
		{"MGA", 0, 2, true}, // zero-decimal at Stripe, 2 in ISO
		{"HUF", 2, 2, true},
		{"TWD", 2, 2, true},
		{"KRW", 0, 0, true},
		{"CLF", 4, 4, true},
		{"IQD", 3, 3, true}, // not a Stripe three-decimal currency: ISO applies
		{"xyz", 0, 0, false},
		{"XAU", 0, 0, false}, // no minor units
		{"", 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			g, ok := Exponent(tc.code)
			if g != tc.gateway || ok != tc.ok {
				t.Errorf("Exponent(%q) = %d, %v; want %d, %v", tc.code, g, ok, tc.gateway, tc.ok)
			}
			i, ok := ISOExponent(tc.code)
			if i != tc.iso || ok != tc.ok {
				t.Errorf("ISOExponent(%q) = %d, %v; want %d, %v", tc.code, i, ok, tc.iso, tc.ok)
			}
		})
	}
}

// TestGatewayDiffersFromISO pins the complete set of currencies whose gateway
// exponent is not the ISO one.
func TestGatewayDiffersFromISO(t *testing.T) {
	var diff []string
	for code, iso := range isoMinorUnits {
		if g, _ := Exponent(code); g != iso {
			diff = append(diff, code)
		}
	}
	slices.Sort(diff)
	got := strings.Join(diff, " ")
	if want := "ISK MGA UGX"; got != want {
		t.Errorf("gateway exponent differs from ISO for %s; want %s", got, want)
	}
	for code := range gatewayExponents {
		if _, ok := isoMinorUnits[code]; !ok {
			t.Errorf("gateway currency %s is not in the ISO table", code)
		}
	}
}

func TestCurrencyTable(t *testing.T) {
	// Pinned so that a change to the table is deliberate: 168 currencies
	// with minor units plus 13 funds and metals without.
	if n, m := len(isoMinorUnits), len(noMinorUnits); n != 168 || m != 13 {
		t.Errorf("ISO tables have %d + %d codes; want 168 + 13", n, m)
	}
	for code, e := range isoMinorUnits {
		if len(code) != 3 || strings.ToUpper(code) != code {
			t.Errorf("bad code %q", code)
		}
		if e < 0 || e > 4 {
			t.Errorf("%s: exponent %d", code, e)
		}
		if noMinorUnits[code] {
			t.Errorf("%s is in both tables", code)
		}
	}
}

func TestFromMinor(t *testing.T) {
	cases := []struct {
		units   int64
		code    string
		want    string
		wantErr string
	}{
		{2000, "usd", "20", ""},
		{-150, "EUR", "-1.5", ""},
		{500, "jpy", "500", ""},
		{500, "isk", "5", ""},
		{500, "ugx", "5", ""},
		{5120, "kwd", "5.12", ""},
		{1, "clf", "0.0001", ""},
		{math.MaxInt64, "usd", "92233720368547758.07", ""},
		{1, "xyz", "", `unknown currency "xyz"`},
		{1, "XAU", "", `currency "XAU" has no minor units`},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			got, err := FromMinor(tc.units, tc.code)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("FromMinor(%d, %q) error = %v; want %q", tc.units, tc.code, err, tc.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(decimal.RequireFromString(tc.want)) {
				t.Fatalf("FromMinor(%d, %q) = %v, %v; want %s", tc.units, tc.code, got, err, tc.want)
			}
		})
	}
}

func TestToMinor(t *testing.T) {
	cases := []struct {
		name    string
		amount  string
		code    string
		want    int64
		wantErr string
	}{
		{"usd", "20.00", "usd", 2000, ""},
		{"usd whole", "20", "USD", 2000, ""},
		{"usd negative", "-0.01", "usd", -1, ""},
		{"usd too precise", "12.345", "usd", 0, "12.345 USD has more than 2 decimal places"},
		{"kwd", "5.125", "kwd", 5125, ""},
		{"kwd too precise", "5.1255", "kwd", 0, "5.1255 KWD has more than 3 decimal places"},
		{"jpy", "500", "jpy", 500, ""},
		{"jpy fraction", "500.5", "jpy", 0, "500.5 JPY has more than 0 decimal places"},
		{"isk in hundredths", "5", "isk", 500, ""},
		{"isk has no minor unit", "5.5", "isk", 0, "5.5 ISK has more than 0 decimal places"},
		{"mga", "1234", "mga", 1234, ""},
		{"mga fraction", "1.5", "mga", 0, "1.5 MGA has more than 0 decimal places"},
		{"out of range", "100000000000000000000", "usd", 0, "out of range"},
		{"unknown", "1", "xyz", 0, `unknown currency "xyz"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToMinor(decimal.RequireFromString(tc.amount), tc.code)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ToMinor(%s, %q) = %d, %v; want error %q", tc.amount, tc.code, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ToMinor(%s, %q) = %d, %v; want %d", tc.amount, tc.code, got, err, tc.want)
			}
		})
	}
}

// TestMinorRoundTrip converts minor units to decimals and back for every
// currency. Gateway amounts in ISK and UGX are whole units (multiples of 100).
func TestMinorRoundTrip(t *testing.T) {
	units := []int64{0, 100, -100, 12300, 999999900, math.MaxInt64 / 100 * 100, math.MinInt64 / 100 * 100}
	fractional := []int64{1, -1, 99, 12345}
	for code := range isoMinorUnits {
		t.Run(code, func(t *testing.T) {
			all := units
			if code != "ISK" && code != "UGX" {
				all = append(append([]int64(nil), units...), fractional...)
			}
			for _, u := range all {
				d, err := FromMinor(u, code)
				if err != nil {
					t.Fatal(err)
				}
				back, err := ToMinor(d, strings.ToLower(code))
				if err != nil || back != u {
					t.Fatalf("%d %s -> %s -> %d, %v", u, code, d, back, err)
				}
			}
		})
	}
}
