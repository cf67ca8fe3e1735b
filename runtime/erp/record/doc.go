// Package record is an erp.Driver that needs no ERP: it writes every
// operation it is asked for as one JSON line to an io.Writer and keeps what
// it "wrote" in memory, so that a later Lookup or Find in the same run
// finds it. It is the driver of dry runs, `flowc replay` diffs and tests.
//
// Each line is a JSON object with sorted keys:
//
//	{"entity":"CustomersV3","fields":{"CreditLimit":1234.50,"CustomerAccount":"US-001"},"key":"cust:1","op":"create"}
//	{"entity":"LedgerJournalHeaders","fields":{...},"key":"payout:po_1","lines":[{...},{...}],"line_entity":"LedgerJournalLines","op":"journal"}
//
// Decimals are exact JSON numbers (their decimal text), times RFC 3339 in
// UTC, so equal runs give byte-equal output. Numbers an ERP would generate
// (a journal's batch number, a key field the write left out) come from
// per-entity counters: "<Entity>-000001", "<Entity>-000002", ... and 1, 2,
// ... for integer keys, so they are deterministic too.
package record
