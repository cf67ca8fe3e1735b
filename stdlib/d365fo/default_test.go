package d365fo_test

import (
	"bytes"
	"os"
	"sort"
	"testing"

	"github.com/flowhq/flow/stdlib/d365fo"
	"github.com/flowhq/flow/stdlib/d365fo/internal/gendefault/gen"
	"github.com/flowhq/flow/stdlib/schema"
)

func TestDefaultEntities(t *testing.T) {
	c := d365fo.Default()
	if c != d365fo.Default() {
		t.Error("Default() built the connector twice")
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		set      string
		keys     []string
		required []string
	}{
		{"CustomersV3", []string{"dataAreaId", "CustomerAccount"}, []string{"CustomerGroupId", "SalesCurrencyCode"}},
		{"SalesOrderHeadersV2", []string{"dataAreaId", "SalesOrderNumber"}, []string{"OrderingCustomerAccountNumber"}},
		{"SalesOrderHeadersV3", []string{"dataAreaId", "SalesOrderNumber"}, []string{"OrderingCustomerAccountNumber"}},
		{"SalesOrderHeadersV4", []string{"dataAreaId", "SalesOrderNumber"}, []string{"OrderingCustomerAccountNumber"}},
		{"SalesOrderLines", []string{"dataAreaId", "InventoryLotId"}, []string{"ItemNumber", "SalesOrderNumber"}},
		{"SalesOrderLinesV3", []string{"dataAreaId", "InventoryLotId"}, []string{"ItemNumber", "SalesOrderNumber"}},
		{"CustomerPaymentJournalHeaders", []string{"dataAreaId", "JournalBatchNumber"}, []string{"JournalName"}},
		{"CustomerPaymentJournalLines", []string{"dataAreaId", "JournalBatchNumber", "LineNumber"},
			[]string{"AccountDisplayValue", "CurrencyCode", "JournalBatchNumber", "TransactionDate"}},
		{"LedgerJournalHeaders", []string{"dataAreaId", "JournalBatchNumber"}, []string{"JournalName"}},
		{"LedgerJournalLines", []string{"dataAreaId", "JournalBatchNumber", "LineNumber"},
			[]string{"AccountDisplayValue", "CurrencyCode", "JournalBatchNumber", "TransDate"}},
		{"ReturnOrderHeaders", []string{"dataAreaId", "ReturnOrderNumber"}, []string{"CustomerAccountNumber"}},
		{"ReturnOrderHeadersV2", []string{"dataAreaId", "ReturnOrderNumber"}, []string{"CustomerAccountNumber"}},
		{"ReturnOrderLines", []string{"dataAreaId", "ReturnOrderNumber", "ReturnInventoryLotId"}, []string{"ItemNumber", "ReturnOrderNumber"}},
		{"FreeTextInvoiceHeaders", []string{"dataAreaId", "InvoiceIdentifier"}, []string{"CustomerAccount"}},
		{"FreeTextInvoiceLines", []string{"dataAreaId", "LineNumber", "ParentRecId"}, []string{"ParentRecId"}},
		{"SalesInvoiceHeadersV2", []string{"dataAreaId", "InvoiceNumber", "InvoiceDate", "LedgerVoucher"}, nil},
		{"CustTransOpens", []string{"dataAreaId", "SysRecId"}, nil},
		{"CustTransactions", []string{"dataAreaId", "SysRecId"}, nil},
		{"ExchangeRates", []string{"RateTypeName", "FromCurrency", "ToCurrency", "StartDate"},
			[]string{"FromCurrency", "Rate", "RateTypeName", "StartDate", "ToCurrency"}},
		{"LegalEntities", []string{"LegalEntityId"}, nil},
		{"Currencies", []string{"CurrencyCode"}, nil},
	}
	if len(c.Entities) != len(tests) {
		t.Errorf("Default has %d entities %v, the test knows %d", len(c.Entities), c.EntityNames(), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.set, func(t *testing.T) {
			o := entity(t, c, tc.set)
			if !equal(o.Keys, tc.keys) {
				t.Errorf("keys = %v, want %v", o.Keys, tc.keys)
			}
			var required []string
			for _, f := range o.Fields {
				if f.Required {
					required = append(required, f.Name)
				}
				if f.Key && f.Name == "dataAreaId" && (f.Required || f.MaxLength != 4) {
					t.Errorf("dataAreaId required %v max %d, want optional (the driver fills it) max 4", f.Required, f.MaxLength)
				}
			}
			sort.Strings(required)
			if !equal(required, tc.required) {
				t.Errorf("required = %v, want %v", required, tc.required)
			}
		})
	}
}

func TestDefaultFieldDetails(t *testing.T) {
	c := d365fo.Default()
	tests := []struct {
		set, field string
		typ        string
		maxLength  int
	}{
		{"CustomersV3", "CustomerAccount", "string", 20},
		{"CustomersV3", "SalesCurrencyCode", "string", 3},
		{"CustomersV3", "CreditLimit", "decimal", 0},
		{"SalesOrderHeadersV2", "SalesOrderNumber", "string", 20},
		{"SalesOrderHeadersV2", "OrderingCustomerAccountNumber", "string", 20},
		{"SalesOrderHeadersV2", "CurrencyCode", "string", 3},
		{"SalesOrderLines", "LineNumber", "decimal", 0},
		{"LedgerJournalLines", "DebitAmount", "decimal", 0},
		{"LedgerJournalLines", "TransDate", "timestamp", 0},
		{"LedgerJournalLines", "Company", "string", 4},
		{"LedgerJournalLines", "JournalBatchNumber", "string", 0},
		{"FreeTextInvoiceHeaders", "InvoiceIdentifier", "int", 0},
		{"ExchangeRates", "Rate", "decimal", 0},
		{"LegalEntities", "LegalEntityId", "string", 4},
		{"Currencies", "CurrencyCode", "string", 3},
	}
	for _, tc := range tests {
		f := field(t, entity(t, c, tc.set), tc.field)
		if f.Type.String() != tc.typ || f.MaxLength != tc.maxLength {
			t.Errorf("%s.%s: %s max %d, want %s max %d", tc.set, tc.field, f.Type, f.MaxLength, tc.typ, tc.maxLength)
		}
	}

	// Enums: from the real excerpt (with its real type name), from enums.json,
	// and plain strings where no source lists the members.
	enums := []struct {
		set, field string
		enum       []string
	}{
		{"CustomersV3", "OrganizationABCCode", []string{"A", "B", "C", "None"}},
		{"LedgerJournalLines", "AccountType", []string{"Bank", "Cust", "Employee_RU", "FixedAssets", "FixedAssets_RU", "Ledger", "Project", "RCash", "RDeferrals", "Vend"}},
		{"SalesOrderLines", "SalesOrderLineStatus", []string{"Backorder", "Canceled", "Delivered", "Invoiced", "None"}},
		{"ReturnOrderHeadersV2", "ReturnStatus", nil},
	}
	for _, tc := range enums {
		f := field(t, entity(t, c, tc.set), tc.field)
		if f.Type.Kind != schema.String || !equal(f.Type.Enum, tc.enum) {
			t.Errorf("%s.%s: %s %v, want string %v", tc.set, tc.field, f.Type, f.Type.Enum, tc.enum)
		}
	}
}

// TestDefaultMetadataUpToDate regenerates the built-in CSDL from the testdata
// copies of the reference files and fails when the committed file differs.
func TestDefaultMetadataUpToDate(t *testing.T) {
	want, err := gen.Generate(os.DirFS(testdata))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() // as `go generate` would write it
	path := dir + string(os.PathSeparator) + "default_metadata.xml"
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("default_metadata.xml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("default_metadata.xml is stale: run `go generate` in stdlib/d365fo (fresh output: %s)", path)
	}
}

func BenchmarkDefaultColdLoad(b *testing.B) {
	src, err := os.ReadFile("default_metadata.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d365fo.LoadCSDL(bytes.NewReader(src), "default_metadata.xml"); err != nil {
			b.Fatal(err)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
