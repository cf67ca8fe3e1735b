package d365fo

import "github.com/flowhq/flow/stdlib/schema"

// journals is how F&O posts the standard journals through OData: the header
// entity is created first and the server assigns its JournalBatchNumber; each
// line carries that number, an account (AccountDisplayValue, typed by
// AccountType), a DebitAmount or CreditAmount, and a LineNumber.
// Source: the entity keys and fields in the F&O reference (entities_fields.md:
// LedgerJournalHeaders/Lines and CustomerPaymentJournalHeaders/Lines keyed by
// dataAreaId + JournalBatchNumber [+ LineNumber]).
var journals = []schema.Journal{
	{Lines: "LedgerJournalLines", Header: "LedgerJournalHeaders", Link: "JournalBatchNumber", HeaderLink: "JournalBatchNumber",
		Account: "AccountDisplayValue", AccountType: "AccountType", Debit: "DebitAmount", Credit: "CreditAmount", LineNumber: "LineNumber"},
	{Lines: "CustomerPaymentJournalLines", Header: "CustomerPaymentJournalHeaders", Link: "JournalBatchNumber", HeaderLink: "JournalBatchNumber",
		Account: "AccountDisplayValue", AccountType: "AccountType", Debit: "DebitAmount", Credit: "CreditAmount", LineNumber: "LineNumber"},
}

// WithJournals returns a copy of c that knows how to post the standard
// journals its entities support.
func WithJournals(c *schema.Connector) *schema.Connector {
	out := *c
	out.Journals = map[string]*schema.Journal{}
	for i := range journals {
		j := journals[i]
		if _, ok := c.Entities[j.Lines]; !ok {
			continue
		}
		if _, ok := c.Entities[j.Header]; !ok {
			continue
		}
		out.Journals[j.Lines] = &j
	}
	return &out
}
