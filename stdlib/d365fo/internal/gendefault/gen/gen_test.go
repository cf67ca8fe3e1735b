package gen

import (
	"strings"
	"testing"
)

func TestSingular(t *testing.T) {
	tests := map[string]string{
		"CustomersV3":          "CustomerV3",
		"SalesOrderHeadersV2":  "SalesOrderHeaderV2",
		"SalesOrderLines":      "SalesOrderLine",
		"LedgerJournalLines":   "LedgerJournalLine",
		"Currencies":           "Currency",
		"LegalEntities":        "LegalEntity",
		"ReturnOrderHeadersV2": "ReturnOrderHeaderV2",
	}
	for in, want := range tests {
		if got := singular(in); got != want {
			t.Errorf("singular(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestApplyOverlayRejectsStaleEntries(t *testing.T) {
	mk := func() []*entityType {
		p := &property{name: "CurrencyCode", typ: "Edm.String"}
		n := &property{name: "Amount", typ: "Edm.Decimal"}
		return []*entityType{{set: "Ts", index: map[string]*property{p.name: p, n.name: n}, props: []*property{p, n}}}
	}
	tests := []struct {
		fact fact
		want string
	}{
		{fact{Sets: []string{"Nope"}, Field: "CurrencyCode", Required: true}, "unknown entity set Nope"},
		{fact{Sets: []string{"Ts"}, Field: "CurencyCode", Required: true}, "Ts has no such field"},
		{fact{Field: "Nope", MaxLength: 3}, "no entity has this field"},
		{fact{Sets: []string{"Ts"}, Field: "Amount", MaxLength: 3}, "MaxLength on a Edm.Decimal field"},
	}
	for _, tc := range tests {
		err := applyOverlay(mk(), []fact{tc.fact})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.fact, err, tc.want)
		}
	}
	err := applyOverlay(mk(), []fact{{Field: "CurrencyCode", MaxLength: 3}, {Sets: []string{"Ts"}, Field: "CurrencyCode", MaxLength: 4}})
	if err == nil || !strings.Contains(err.Error(), "conflicts") {
		t.Errorf("conflicting lengths: %v", err)
	}
}
