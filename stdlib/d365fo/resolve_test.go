package d365fo

import "testing"

func TestIsLabelRef(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"@SYS13342", true},
		{"@sys2048", true},
		{"@GLS379", true},
		{"@AccountsReceivable:CustCustomerV3EntityLabel", true},
		{"@TaxGST:HelpTextOfECommerce", true},
		{"Record-ID", false},
		{"(GMT-12:00) International Date Line West", false},
		{"@home", false},
		{"@", false},
		{"", false},
		{"@SYS 1", false},
	}
	for _, tc := range tests {
		if got := isLabelRef(tc.in); got != tc.want {
			t.Errorf("isLabelRef(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSingleEnumTypeShared(t *testing.T) {
	c := Default()
	a, _ := c.Entities["CustomersV3"].Field("IsOneTimeCustomer")
	b, _ := c.Entities["LedgerJournalLines"].Field("ReverseEntry")
	if a.Type != b.Type {
		t.Error("NoYes fields do not share one *schema.Type")
	}
}
