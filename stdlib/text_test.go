package stdlib

import (
	"strings"
	"testing"
)

func TestTextFunctions(t *testing.T) {
	runEvalCases(t, newTestEnv(t), []evalCase{
		{name: "upper", src: `upper(cur)`, want: "USD"},
		{name: "upper unicode", src: `upper("émile zoé")`, want: "ÉMILE ZOÉ"},
		{name: "lower", src: `lower("USD")`, want: "usd"},
		{name: "trim", src: `trim("  a b \n")`, want: "a b"},
		{name: "trim member from ext.Strings", src: `" a ".trim()`, want: "a"},
		{name: "ext.Strings split join", src: `"a,b".split(",").join("-")`, want: "a-b"},
		{name: "truncate runes", src: `truncate("Ångström", 3)`, want: "Ång"},
		{name: "truncate short", src: `truncate("abc", 10)`, want: "abc"},
		{name: "truncate zero", src: `truncate("abc", 0)`, want: ""},
		{name: "truncate negative", src: `truncate("abc", -1)`, wantErr: "truncate: negative length -1"},
		{name: "first_name", src: `first_name("Ada K. Lovelace")`, want: "Ada K."},
		{name: "last_name", src: `last_name("Ada K. Lovelace")`, want: "Lovelace"},
		{name: "street", src: `street("1 Main St", "Apt 2")`, want: "1 Main St\nApt 2"},
		{name: "country3", src: `country3("us")`, want: "USA"},
		{name: "country3 unknown", src: `country3("XK")`, wantErr: `country3: unknown country code "XK"`},
	})
}

func TestSplitName(t *testing.T) {
	cases := []struct {
		full, first, last string
	}{
		{"Ada Lovelace", "Ada", "Lovelace"},
		{"Ada K. Lovelace", "Ada K.", "Lovelace"},
		{"  Jean-Luc \t Picard  ", "Jean-Luc", "Picard"},
		{"Cher", "Cher", ""},
		{"  Cher  ", "Cher", ""},
		{"", "", ""},
		{"   ", "", ""},
		{"José María García López", "José María García", "López"},
	}
	for _, tc := range cases {
		t.Run(tc.full, func(t *testing.T) {
			first, last := splitName(tc.full)
			if first != tc.first || last != tc.last {
				t.Errorf("splitName(%q) = %q, %q; want %q, %q", tc.full, first, last, tc.first, tc.last)
			}
		})
	}
}

func TestStreet(t *testing.T) {
	cases := []struct {
		name, l1, l2, want string
	}{
		{"both", "1 Main St", "Apt 2", "1 Main St\nApt 2"},
		{"no line 2", "1 Main St", "", "1 Main St"},
		{"no line 1", "", "PO Box 7", "PO Box 7"},
		{"blank line 2", "1 Main St", "   ", "1 Main St"},
		{"trimmed", " 1 Main St ", " Apt 2 ", "1 Main St\nApt 2"},
		{"none", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Street(tc.l1, tc.l2); got != tc.want {
				t.Errorf("Street(%q, %q) = %q; want %q", tc.l1, tc.l2, got, tc.want)
			}
		})
	}
}

func TestCountry3(t *testing.T) {
	cases := []struct {
		in, want, wantErr string
	}{
		{"US", "USA", ""},
		{"us", "USA", ""},
		{" gb ", "GBR", ""},
		{"DE", "DEU", ""},
		{"CH", "CHE", ""},
		{"AT", "AUT", ""},
		{"NL", "NLD", ""},
		{"CW", "CUW", ""},
		{"SS", "SSD", ""},
		{"XK", "", `unknown country code "XK"`},
		{"USA", "", `unknown country code "USA"`},
		{"", "", `unknown country code ""`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Country3(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Country3(%q) = %q, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Country3(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCountryTable(t *testing.T) {
	if len(alpha3) != 249 {
		t.Errorf("alpha3 has %d countries; ISO 3166-1 has 249", len(alpha3))
	}
	seen := map[string]string{}
	for a2, a3 := range alpha3 {
		if len(a2) != 2 || len(a3) != 3 || strings.ToUpper(a2) != a2 || strings.ToUpper(a3) != a3 {
			t.Errorf("bad entry %q: %q", a2, a3)
		}
		if prev, dup := seen[a3]; dup {
			t.Errorf("%s and %s both map to %s", prev, a2, a3)
		}
		seen[a3] = a2
	}
}
