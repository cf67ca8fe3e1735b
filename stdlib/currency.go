package stdlib

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// isoMinorUnits is ISO 4217 table A.1 (current currency and funds codes) with
// each code's minor units, as amended through 2025. Codes withdrawn recently
// but still reported by gateways for older objects (ANG next to its successor
// XCG, SLL next to SLE, CUC) are kept. Funds and metals without minor units
// ("N.A." in the standard) are in noMinorUnits instead.
var isoMinorUnits = map[string]int{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
	"AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0,
	"BMD": 2, "BND": 2, "BOB": 2, "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2,
	"BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4,
	"CLP": 0, "CNY": 2, "COP": 2, "COU": 2, "CRC": 2, "CUC": 2, "CUP": 2, "CVE": 2,
	"CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2,
	"EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2,
	"GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2,
	"ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0,
	"KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2,
	"KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2,
	"MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
	"MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2,
	"NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2,
	"PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2,
	"RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2,
	"SLE": 2, "SLL": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2,
	"SZL": 2, "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2,
	"TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2,
	"UYW": 4, "UZS": 2, "VED": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0,
	"XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// noMinorUnits are the ISO 4217 codes for funds, precious metals and testing
// whose minor units are "N.A.": no amount in them can be converted.
var noMinorUnits = map[string]bool{
	"XAG": true, "XAU": true, "XBA": true, "XBB": true, "XBC": true, "XBD": true,
	"XDR": true, "XPD": true, "XPT": true, "XSU": true, "XTS": true, "XUA": true,
	"XXX": true,
}

// gatewayExponents are the currencies whose exponent in gateway API amounts
// differs from, or is pinned independently of, ISO 4217. They follow Stripe's
// rules exactly as recorded in the shared fixtures (stripe/CURRENCIES.md)
// (from https://docs.stripe.com/currencies, sections #zero-decimal,
// #three-decimal and #special-cases):
//
//   - zero-decimal: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF
//     XOF XPF, minus UGX, which the API keeps two-decimal (500 = 5 UGX). MGA is
//     the one where this differs from ISO (2).
//   - two-decimal although ISO says 0: ISK ("to charge 5 ISK, provide an
//     amount value of 500") and UGX. Not in the zero-decimal list, but named
//     with it in the special cases.
//   - two-decimal in charges although payouts treat them as zero-decimal: HUF
//     and TWD (ISO 2 as well; pinned here because of the special case).
//   - three-decimal, amounts in 1/1000 units: BHD JOD KWD OMR TND.
//
// Every other currency uses its ISO exponent.
var gatewayExponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0, "MGA": 0,
	"PYG": 0, "RWF": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"ISK": 2, "UGX": 2, "HUF": 2, "TWD": 2,
	"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}

// normalizeCurrency returns the upper-case form of an ASCII currency code.
func normalizeCurrency(currency string) string {
	return strings.ToUpper(strings.TrimSpace(currency))
}

// ISOExponent returns the ISO 4217 minor units of currency (2 for USD, 0 for
// JPY, 3 for KWD, 4 for CLF). The lookup ignores case. It reports false for an
// unknown code and for funds and metals without minor units (XAU, XDR, ...).
func ISOExponent(currency string) (int, bool) {
	e, ok := isoMinorUnits[normalizeCurrency(currency)]
	return e, ok
}

// Exponent returns the exponent of currency in gateway API amounts: the
// amount 500 means 500 / 10^Exponent units. It follows Stripe's rules (see
// gatewayExponents): JPY 0, USD 2, KWD 3, and ISK and UGX 2 although ISO
// says 0. The lookup ignores case; unknown codes report false.
func Exponent(currency string) (int, bool) {
	code := normalizeCurrency(currency)
	if e, ok := gatewayExponents[code]; ok {
		return e, true
	}
	e, ok := isoMinorUnits[code]
	return e, ok
}

// exponents returns the gateway and ISO exponents of currency, or an error
// naming the code as written.
func exponents(currency string) (gateway, iso int, err error) {
	code := normalizeCurrency(currency)
	if noMinorUnits[code] {
		return 0, 0, fmt.Errorf("currency %q has no minor units", currency)
	}
	iso, ok := isoMinorUnits[code]
	if !ok {
		return 0, 0, fmt.Errorf("unknown currency %q", currency)
	}
	gateway, _ = Exponent(code)
	return gateway, iso, nil
}

// FromMinor converts a gateway amount in minor units to an exact decimal
// amount in major units: FromMinor(2000, "usd") is 20.00, FromMinor(500,
// "jpy") is 500, FromMinor(500, "isk") is 5.00. An unknown currency is an
// error naming the code.
func FromMinor(units int64, currency string) (decimal.Decimal, error) {
	exp, _, err := exponents(currency)
	if err != nil {
		return decimal.Decimal{}, err
	}
	return decimal.New(units, -int32(exp)), nil
}

// ToMinor converts a decimal amount to gateway minor units: ToMinor(20.00,
// "usd") is 2000. It is an error if the amount is not exactly representable:
// more decimal places than the currency has (12.345 USD; 5.5 ISK, since ISK
// has no minor unit even though the gateway counts it in hundredths) or a
// result beyond int64. Nothing is ever rounded here; round first with round()
// or round_bank().
func ToMinor(amount decimal.Decimal, currency string) (int64, error) {
	exp, iso, err := exponents(currency)
	if err != nil {
		return 0, err
	}
	places := int32(min(exp, iso))
	if !amount.Round(places).Equal(amount) {
		return 0, fmt.Errorf("%s %s has more than %d decimal places", amount.String(), normalizeCurrency(currency), places)
	}
	units := amount.Shift(int32(exp)).BigInt()
	if !units.IsInt64() {
		return 0, fmt.Errorf("%s %s is out of range in minor units", amount.String(), normalizeCurrency(currency))
	}
	return units.Int64(), nil
}

// displayPlaces returns the decimal places an amount in currency prints with:
// its ISO minor units, or -1 when unknown.
func displayPlaces(currency string) int32 {
	if e, ok := ISOExponent(currency); ok {
		return int32(e)
	}
	return -1
}
