package stdlib

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// textFunctions declares the global string helpers. cel-go's ext.Strings
// (charAt, indexOf, split, join, replace, format, ...) is added by Library
// beside them.
func textFunctions() []function {
	s, i := cel.StringType, cel.IntType
	return []function{
		stringFn("upper", "Returns the text in upper case: upper(\"usd\") is \"USD\".", strings.ToUpper),
		stringFn("lower", "Returns the text in lower case.", strings.ToLower),
		stringFn("trim", "Removes leading and trailing white space.", strings.TrimSpace),
		stringFn("first_name", "Returns all but the last word of a full name: first_name(\"Ada K. Lovelace\") is \"Ada K.\"; a single word is the first name.", func(n string) string {
			first, _ := splitName(n)
			return first
		}),
		stringFn("last_name", "Returns the last word of a full name: last_name(\"Ada K. Lovelace\") is \"Lovelace\"; empty for a single word.", func(n string) string {
			_, last := splitName(n)
			return last
		}),
		{
			name: "truncate",
			doc:  "Cuts the text to at most n characters (runes), to fit an ERP field: truncate(\"Lovelace\", 4) is \"Love\".",
			overloads: []overload{{
				id: "truncate_string_int", args: []*cel.Type{s, i}, result: s,
				impl: cel.BinaryBinding(truncateVal),
			}},
		},
		{
			name: "street",
			doc:  "Joins address line 1 and line 2 with a line break, skipping empty lines, as the Street of a Dynamics address.",
			overloads: []overload{{
				id: "street_string_string", args: []*cel.Type{s, s}, result: s,
				impl: cel.BinaryBinding(func(a, b ref.Val) ref.Val {
					l1, ok1 := a.(types.String)
					l2, ok2 := b.(types.String)
					if !ok1 || !ok2 {
						return types.MaybeNoSuchOverloadErr(a)
					}
					return types.String(Street(string(l1), string(l2)))
				}),
			}},
		},
		{
			name: "country3",
			doc:  "Converts an ISO 3166 alpha-2 country code to alpha-3, as Dynamics country/region ids: country3(\"US\") is \"USA\".",
			overloads: []overload{{
				id: "country3_string", args: []*cel.Type{s}, result: s,
				impl: cel.UnaryBinding(func(v ref.Val) ref.Val {
					c, ok := v.(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(v)
					}
					a3, err := Country3(string(c))
					if err != nil {
						return fail("country3", err)
					}
					return types.String(a3)
				}),
			}},
		},
	}
}

// stringFn declares a function from string to string with overload id
// <name>_string.
func stringFn(name, doc string, fn func(string) string) function {
	return function{
		name: name,
		doc:  doc,
		overloads: []overload{{
			id: name + "_string", args: []*cel.Type{cel.StringType}, result: cel.StringType,
			impl: cel.UnaryBinding(func(v ref.Val) ref.Val {
				s, ok := v.(types.String)
				if !ok {
					return types.MaybeNoSuchOverloadErr(v)
				}
				return types.String(fn(string(s)))
			}),
		}},
	}
}

func truncateVal(a, b ref.Val) ref.Val {
	s, ok1 := a.(types.String)
	n, ok2 := b.(types.Int)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(a)
	}
	if n < 0 {
		return failf("truncate", "negative length %d", int64(n))
	}
	return types.String(truncate(string(s), int64(n)))
}

// truncate returns the first n runes of s.
func truncate(s string, n int64) string {
	if int64(len(s)) <= n {
		return s
	}
	var count int64
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}

// splitName splits a full name at its last white-space separated word: the
// first name is everything before it (words joined by one space), the last
// name is that word. A single word is a first name.
func splitName(full string) (first, last string) {
	words := strings.Fields(full)
	switch len(words) {
	case 0:
		return "", ""
	case 1:
		return words[0], ""
	}
	return strings.Join(words[:len(words)-1], " "), words[len(words)-1]
}

// Street joins two address lines with "\n", trimming each and skipping empty
// ones, as Dynamics 365 keeps a multi-line street in one field.
func Street(line1, line2 string) string {
	var lines []string
	for _, l := range []string{line1, line2} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// Country3 returns the ISO 3166-1 alpha-3 code of an alpha-2 code, ignoring
// case and surrounding space: Country3("us") is "USA". An unknown code is an
// error naming it.
func Country3(alpha2 string) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(alpha2))
	if a3, ok := alpha3[code]; ok {
		return a3, nil
	}
	return "", fmt.Errorf("unknown country code %q (want ISO 3166 alpha-2, e.g. \"US\")", alpha2)
}

// alpha3 maps every ISO 3166-1 alpha-2 country code (249, as of the 2024
// edition) to its alpha-3 code. Dynamics uses alpha-3 codes as country/region
// ids (CountryRegionId "USA").
var alpha3 = map[string]string{
	"AD": "AND", "AE": "ARE", "AF": "AFG", "AG": "ATG", "AI": "AIA", "AL": "ALB", "AM": "ARM", "AO": "AGO",
	"AQ": "ATA", "AR": "ARG", "AS": "ASM", "AT": "AUT", "AU": "AUS", "AW": "ABW", "AX": "ALA", "AZ": "AZE",
	"BA": "BIH", "BB": "BRB", "BD": "BGD", "BE": "BEL", "BF": "BFA", "BG": "BGR", "BH": "BHR", "BI": "BDI",
	"BJ": "BEN", "BL": "BLM", "BM": "BMU", "BN": "BRN", "BO": "BOL", "BQ": "BES", "BR": "BRA", "BS": "BHS",
	"BT": "BTN", "BV": "BVT", "BW": "BWA", "BY": "BLR", "BZ": "BLZ", "CA": "CAN", "CC": "CCK", "CD": "COD",
	"CF": "CAF", "CG": "COG", "CH": "CHE", "CI": "CIV", "CK": "COK", "CL": "CHL", "CM": "CMR", "CN": "CHN",
	"CO": "COL", "CR": "CRI", "CU": "CUB", "CV": "CPV", "CW": "CUW", "CX": "CXR", "CY": "CYP", "CZ": "CZE",
	"DE": "DEU", "DJ": "DJI", "DK": "DNK", "DM": "DMA", "DO": "DOM", "DZ": "DZA", "EC": "ECU", "EE": "EST",
	"EG": "EGY", "EH": "ESH", "ER": "ERI", "ES": "ESP", "ET": "ETH", "FI": "FIN", "FJ": "FJI", "FK": "FLK",
	"FM": "FSM", "FO": "FRO", "FR": "FRA", "GA": "GAB", "GB": "GBR", "GD": "GRD", "GE": "GEO", "GF": "GUF",
	"GG": "GGY", "GH": "GHA", "GI": "GIB", "GL": "GRL", "GM": "GMB", "GN": "GIN", "GP": "GLP", "GQ": "GNQ",
	"GR": "GRC", "GS": "SGS", "GT": "GTM", "GU": "GUM", "GW": "GNB", "GY": "GUY", "HK": "HKG", "HM": "HMD",
	"HN": "HND", "HR": "HRV", "HT": "HTI", "HU": "HUN", "ID": "IDN", "IE": "IRL", "IL": "ISR", "IM": "IMN",
	"IN": "IND", "IO": "IOT", "IQ": "IRQ", "IR": "IRN", "IS": "ISL", "IT": "ITA", "JE": "JEY", "JM": "JAM",
	"JO": "JOR", "JP": "JPN", "KE": "KEN", "KG": "KGZ", "KH": "KHM", "KI": "KIR", "KM": "COM", "KN": "KNA",
	"KP": "PRK", "KR": "KOR", "KW": "KWT", "KY": "CYM", "KZ": "KAZ", "LA": "LAO", "LB": "LBN", "LC": "LCA",
	"LI": "LIE", "LK": "LKA", "LR": "LBR", "LS": "LSO", "LT": "LTU", "LU": "LUX", "LV": "LVA", "LY": "LBY",
	"MA": "MAR", "MC": "MCO", "MD": "MDA", "ME": "MNE", "MF": "MAF", "MG": "MDG", "MH": "MHL", "MK": "MKD",
	"ML": "MLI", "MM": "MMR", "MN": "MNG", "MO": "MAC", "MP": "MNP", "MQ": "MTQ", "MR": "MRT", "MS": "MSR",
	"MT": "MLT", "MU": "MUS", "MV": "MDV", "MW": "MWI", "MX": "MEX", "MY": "MYS", "MZ": "MOZ", "NA": "NAM",
	"NC": "NCL", "NE": "NER", "NF": "NFK", "NG": "NGA", "NI": "NIC", "NL": "NLD", "NO": "NOR", "NP": "NPL",
	"NR": "NRU", "NU": "NIU", "NZ": "NZL", "OM": "OMN", "PA": "PAN", "PE": "PER", "PF": "PYF", "PG": "PNG",
	"PH": "PHL", "PK": "PAK", "PL": "POL", "PM": "SPM", "PN": "PCN", "PR": "PRI", "PS": "PSE", "PT": "PRT",
	"PW": "PLW", "PY": "PRY", "QA": "QAT", "RE": "REU", "RO": "ROU", "RS": "SRB", "RU": "RUS", "RW": "RWA",
	"SA": "SAU", "SB": "SLB", "SC": "SYC", "SD": "SDN", "SE": "SWE", "SG": "SGP", "SH": "SHN", "SI": "SVN",
	"SJ": "SJM", "SK": "SVK", "SL": "SLE", "SM": "SMR", "SN": "SEN", "SO": "SOM", "SR": "SUR", "SS": "SSD",
	"ST": "STP", "SV": "SLV", "SX": "SXM", "SY": "SYR", "SZ": "SWZ", "TC": "TCA", "TD": "TCD", "TF": "ATF",
	"TG": "TGO", "TH": "THA", "TJ": "TJK", "TK": "TKL", "TL": "TLS", "TM": "TKM", "TN": "TUN", "TO": "TON",
	"TR": "TUR", "TT": "TTO", "TV": "TUV", "TW": "TWN", "TZ": "TZA", "UA": "UKR", "UG": "UGA", "UM": "UMI",
	"US": "USA", "UY": "URY", "UZ": "UZB", "VA": "VAT", "VC": "VCT", "VE": "VEN", "VG": "VGB", "VI": "VIR",
	"VN": "VNM", "VU": "VUT", "WF": "WLF", "WS": "WSM", "YE": "YEM", "YT": "MYT", "ZA": "ZAF", "ZM": "ZMB",
	"ZW": "ZWE",
}
