package d365fo

// Anchors names, per entity set whose natural key F&O numbers itself, the
// field where the runtime stores a write's idempotency key: F&O has no
// idempotency header, so the key lives in the record, where a retry after
// a crash can find it. A flow must leave that field to the runtime (the
// checker says so) unless the write sets the entity's natural key itself.
// FreeTextInvoiceHeaders has no CustomerRequisitionNumber; its
// CustomerRequisition plays that part.
var Anchors = map[string]string{
	"CustomerPaymentJournalHeaders": "Description",
	"LedgerJournalHeaders":          "Description",
	"ReturnOrderHeaders":            "CustomerRequisitionNumber",
	"ReturnOrderHeadersV2":          "CustomerRequisitionNumber",
	"FreeTextInvoiceHeaders":        "CustomerRequisition",
	"SalesOrderHeadersV2":           "CustomerRequisitionNumber",
	"SalesOrderHeadersV3":           "CustomerRequisitionNumber",
	"SalesOrderHeadersV4":           "CustomerRequisitionNumber",
}
