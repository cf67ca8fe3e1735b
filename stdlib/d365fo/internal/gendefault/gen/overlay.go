package gen

import (
	"fmt"
	"strings"
)

// fact is one overlay entry: a required field or a string length that the
// raw field list cannot carry. Every entry names its public source in a
// comment; UNCERTAIN marks an entry no source states outright.
type fact struct {
	Sets      []string // entity sets; nil means every set that has Field
	Field     string
	Required  bool // must be set when the entity is created through OData
	MaxLength int  // maximum string length (the EDT's string size)
}

// Short names for the documents the entries cite. MS-Learn pages live in the
// public MicrosoftDocs/dynamics-365-unified-operations-public repository under
// articles/fin-ops-core/dev-itpro/data-entities/; the EDT pages are the
// Dynamics AX 2012 reference at learn.microsoft.com/previous-versions/dynamics/
// ax-2012/reference (F&O inherited these types).
//
//	[SOH2]  entity-sales-order-headers-v2-salesorderheaderv2.md
//	[SOL2]  entity-sales-order-lines-v2-salesorderline.md
//	[LJH]   entity-general-journal-ledgerjournalheader.md
//	[LJL]   entity-general-journal-ledgerjournalline.md
//	[EDT-DataAreaId]    DirNumSeqCompanyId EDT (gg864878): extends DataAreaId, string size 4;
//	                    LegalEntityDataAreaId EDT (gg855209): string size 4
//	[EDT-CurrencyCode]  CustCurrencyCode EDT (gg863015): extends CurrencyCode, string size 3
//	[EDT-CustAccount]   CustAccount EDT (gg862937), CustInvoiceAccount EDT (gg863324): string size 20
//	[EDT-SalesId]       SalesId EDT (gg899415), SalesIdBase EDT (gg899416): string size 20
//	[ISO4217]           ISO 4217 alphabetic currency codes are three letters
var (
	salesHeaders  = []string{"SalesOrderHeadersV2", "SalesOrderHeadersV3", "SalesOrderHeadersV4"}
	salesLines    = []string{"SalesOrderLines", "SalesOrderLinesV3"}
	returnHeaders = []string{"ReturnOrderHeaders", "ReturnOrderHeadersV2"}
)

var overlay = []fact{
	// ---- Required on create ----

	// [SOH2] ORDERINGCUSTOMERACCOUNTNUMBER: "This field is required." V3/V4:
	// UNCERTAIN, same field in the later versions of the entity, no page of their own.
	// [SOH2] also calls INVOICECUSTOMERACCOUNTNUMBER and REQUESTEDSHIPPINGDATE
	// required (for imports), but F&O defaults both from the customer and the
	// date, so they are not marked.
	{Sets: salesHeaders, Field: "OrderingCustomerAccountNumber", Required: true},

	// [SOL2] SALESORDERNUMBER and ITEMNUMBER: "This field is required."
	// SalesOrderLinesV3: UNCERTAIN, same fields, no page of its own.
	// DELIVERYADDRESSLOCATIONID and REQUESTEDSHIPPINGDATE default from the header.
	{Sets: salesLines, Field: "SalesOrderNumber", Required: true},
	{Sets: salesLines, Field: "ItemNumber", Required: true},

	// [LJH] JOURNALNAME: "This field is required." (JOURNALBATCHNUMBER comes
	// from the journal name's number sequence on create.)
	{Sets: []string{"LedgerJournalHeaders"}, Field: "JournalName", Required: true},

	// [LJL] JOURNALBATCHNUMBER: "required ... must reference an existing,
	// unposted header"; TRANSDATE and CURRENCYCODE: "This field is required."
	// VOUCHER is called required too but "defaults to the journal name" (its
	// number sequence), so it is not marked.
	{Sets: []string{"LedgerJournalLines"}, Field: "JournalBatchNumber", Required: true},
	{Sets: []string{"LedgerJournalLines"}, Field: "TransDate", Required: true},
	{Sets: []string{"LedgerJournalLines"}, Field: "CurrencyCode", Required: true},
	// UNCERTAIN: [LJL] does not say ACCOUNTDISPLAYVALUE is required, but a
	// journal line without an account cannot be validated or posted.
	{Sets: []string{"LedgerJournalLines"}, Field: "AccountDisplayValue", Required: true},

	// UNCERTAIN: no entity page; same journal table as [LJH], so JournalName
	// plays the same role.
	{Sets: []string{"CustomerPaymentJournalHeaders"}, Field: "JournalName", Required: true},
	// UNCERTAIN: no entity page; same journal line table as [LJL].
	{Sets: []string{"CustomerPaymentJournalLines"}, Field: "JournalBatchNumber", Required: true},
	{Sets: []string{"CustomerPaymentJournalLines"}, Field: "TransactionDate", Required: true},
	{Sets: []string{"CustomerPaymentJournalLines"}, Field: "CurrencyCode", Required: true},
	{Sets: []string{"CustomerPaymentJournalLines"}, Field: "AccountDisplayValue", Required: true},

	// UNCERTAIN: no entity page; a return order (RMA) is always for a customer.
	{Sets: returnHeaders, Field: "CustomerAccountNumber", Required: true},
	// UNCERTAIN: no entity page; lines must name their header (as [SOL2]) and item.
	{Sets: []string{"ReturnOrderLines"}, Field: "ReturnOrderNumber", Required: true},
	{Sets: []string{"ReturnOrderLines"}, Field: "ItemNumber", Required: true},

	// UNCERTAIN: no entity page; a free text invoice is always for a customer.
	{Sets: []string{"FreeTextInvoiceHeaders"}, Field: "CustomerAccount", Required: true},
	// UNCERTAIN: no entity page; a line must name its header (RecId of the header).
	{Sets: []string{"FreeTextInvoiceLines"}, Field: "ParentRecId", Required: true},

	// UNCERTAIN: no entity page; the key of an exchange rate has no number
	// sequence to fill it, and a rate without a value is meaningless.
	{Sets: []string{"ExchangeRates"}, Field: "RateTypeName", Required: true},
	{Sets: []string{"ExchangeRates"}, Field: "FromCurrency", Required: true},
	{Sets: []string{"ExchangeRates"}, Field: "ToCurrency", Required: true},
	{Sets: []string{"ExchangeRates"}, Field: "StartDate", Required: true},
	{Sets: []string{"ExchangeRates"}, Field: "Rate", Required: true},

	// CustomersV3: CustomerGroupId and SalesCurrencyCode are required by the
	// real $metadata excerpt itself (IsRequired annotations), merged by gen.go.

	// ---- String lengths ----

	// [EDT-DataAreaId]: company ids are at most 4 characters.
	{Field: "dataAreaId", MaxLength: 4},
	{Sets: []string{"LegalEntities"}, Field: "LegalEntityId", MaxLength: 4},
	// [EDT-DataAreaId]; UNCERTAIN which EDT these entity fields use, but every
	// F&O company id is at most 4 characters.
	{Sets: []string{"LedgerJournalLines", "CustomerPaymentJournalLines"}, Field: "Company", MaxLength: 4},
	{Sets: []string{"LedgerJournalLines", "CustomerPaymentJournalLines"}, Field: "OffsetCompany", MaxLength: 4},

	// [EDT-CurrencyCode], [ISO4217].
	{Field: "CurrencyCode", MaxLength: 3},
	{Sets: []string{"CustomersV3"}, Field: "SalesCurrencyCode", MaxLength: 3},
	{Sets: []string{"CustomersV3"}, Field: "CredManEligibleCreditLimitCurrency", MaxLength: 3},
	{Sets: []string{"LedgerJournalHeaders"}, Field: "AccountingCurrency", MaxLength: 3},
	{Sets: []string{"ExchangeRates"}, Field: "FromCurrency", MaxLength: 3},
	{Sets: []string{"ExchangeRates"}, Field: "ToCurrency", MaxLength: 3},

	// [EDT-CustAccount].
	{Sets: []string{"CustomersV3"}, Field: "CustomerAccount", MaxLength: 20},
	{Sets: []string{"CustomersV3", "FreeTextInvoiceHeaders"}, Field: "InvoiceAccount", MaxLength: 20},
	{Sets: salesHeaders, Field: "OrderingCustomerAccountNumber", MaxLength: 20},
	{Field: "InvoiceCustomerAccountNumber", MaxLength: 20},
	{Field: "CustomerAccountNumber", MaxLength: 20},
	{Sets: []string{"FreeTextInvoiceHeaders"}, Field: "CustomerAccount", MaxLength: 20},
	{Sets: []string{"CustTransOpens", "CustTransactions"}, Field: "AccountNum", MaxLength: 20},

	// [EDT-SalesId].
	{Sets: append(append([]string{"SalesInvoiceHeadersV2"}, salesHeaders...), salesLines...), Field: "SalesOrderNumber", MaxLength: 20},

	// Not declared: JournalBatchNumber and JournalName. The AX 2012 EDTs
	// (LedgerJournalId gg889873, LedgerJournalNameId gg889889) have string
	// size 10, but no source confirms F&O kept that size, and a wrong length
	// would reject valid flows.
}

// applyOverlay applies the facts; an entry that matches no field, or two
// entries that disagree, is an error so that the table cannot rot silently.
func applyOverlay(types []*entityType, facts []fact) error {
	bySet := map[string]*entityType{}
	for _, t := range types {
		bySet[t.set] = t
	}
	for _, f := range facts {
		where := fmt.Sprintf("overlay %s (%s)", f.Field, strings.Join(f.Sets, ", "))
		var targets []*property
		if f.Sets == nil {
			for _, t := range types {
				if p := t.index[f.Field]; p != nil {
					targets = append(targets, p)
				}
			}
			if targets == nil {
				return fmt.Errorf("%s: no entity has this field", where)
			}
		}
		for _, set := range f.Sets {
			t := bySet[set]
			if t == nil {
				return fmt.Errorf("%s: unknown entity set %s", where, set)
			}
			p := t.index[f.Field]
			if p == nil {
				return fmt.Errorf("%s: %s has no such field", where, set)
			}
			targets = append(targets, p)
		}
		for _, p := range targets {
			if f.MaxLength > 0 {
				if p.typ != "Edm.String" {
					return fmt.Errorf("%s: MaxLength on a %s field", where, p.typ)
				}
				if p.maxLength != 0 && p.maxLength != f.MaxLength {
					return fmt.Errorf("%s: MaxLength %d conflicts with %d", where, f.MaxLength, p.maxLength)
				}
				p.maxLength = f.MaxLength
			}
			if f.Required {
				p.required = true
			}
		}
	}
	return nil
}
