package sandbox

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/d365fo"
)

func TestParseFilterPrints(t *testing.T) {
	tests := []struct{ in, want string }{
		{"A eq 'x'", "A eq 'x'"},
		{"A eq 'O''Brien'", "A eq 'O''Brien'"},
		{"A eq 1 and B ne 2.50 or C gt -3", "((A eq 1 and B ne 2.5) or C gt -3)"},
		{"not (A eq true) and (B le null)", "(not (A eq true) and B le null)"},
		{"D ge 2024-01-31T00:00:00Z and E lt 2024-02-01", "(D ge 2024-01-31T00:00:00Z and E lt 2024-02-01T00:00:00Z)"},
		{"F eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", "F eq Microsoft.Dynamics.DataEntities.NoYes'Yes'"},
		{"  (((A eq 'x')))  ", "A eq 'x'"},
	}
	for _, tc := range tests {
		n, err := parseFilter(tc.in)
		if err != nil {
			t.Errorf("parseFilter(%q): %v", tc.in, err)
			continue
		}
		if got := n.String(); got != tc.want {
			t.Errorf("parseFilter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "A eq", "A eq 'x", "(A eq 1", "A eq 1)", "A eq 1 B", "A eq 12abc", "A eq #", "eq eq 1", "A eq Foo.Bar'x"} {
		if n, err := parseFilter(bad); err == nil {
			t.Errorf("parseFilter(%q) = %v, want an error", bad, n)
		}
	}
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"acme*", "Acme Europe", true},
		{"*europe", "Acme Europe", true},
		{"a*e*e", "Acme Europe", true},
		{"*", "", true},
		{"a*a", "a", false},
		{"acme*", "The Acme", false},
	}
	for _, tc := range tests {
		if got := wildcard(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// FuzzFilter checks that parsing and compiling any $filter never panics,
// that a parsed filter prints to text that parses to the same filter, and
// that a compiled one evaluates.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		"CustomerAccount eq 'US-001'",
		"OrganizationName eq 'O''Brien' and (CreditLimit gt 10.5 or not (IsOneTimeCustomer eq Microsoft.Dynamics.DataEntities.NoYes'Yes'))",
		"dataAreaId eq 'usmf' and CredManLastReviewDate ge 2024-01-31",
		"OrganizationName eq 'Acme*'",
		"PersonAnniversaryYear le -1",
	} {
		f.Add(s)
	}
	ents := buildEntities(d365fo.Default())
	e := ents["CustomersV3"]
	rec := record{"dataAreaId": "usmf", "CustomerAccount": "US-001", "OrganizationName": "O'Brien",
		"CreditLimit": decimal.RequireFromString("12.5"), "CredManLastReviewDate": time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s)
		if err != nil {
			return
		}
		printed := n.String()
		again, err := parseFilter(printed)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("%q printed as %q, reparsed as %q", s, printed, again.String())
		}
		if pred, herr := e.compileFilter(n); herr == nil {
			pred(rec)
		}
	})
}
