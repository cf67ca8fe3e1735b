// Package ax2012 is the erp.Driver for Dynamics AX 2012 (R2/R3): it calls
// the AIF document services (CustomerService, SalesOrderService,
// GeneralJournalService) as SOAP over HTTP, as AX's HTTP adapter exposes
// them at <BaseURL>/<port>/xppservice.svc.
//
// It takes a Config (adapter URL, inbound port, CallContext values,
// credentials) and gives back a *Driver that looks records up, writes
// them, settles writes in doubt and posts general journals. The tables and
// their documents come from stdlib/ax2012; the SOAP messages are read and
// written by package aif.
//
// # Wire
//
//   - Every call is a POST of a SOAP 1.1 envelope (text/xml, SOAPAction
//     http://schemas.microsoft.com/dynamics/2008/01/services/<Service>/<op>)
//     or, with Config.SOAPVersion = SOAP12, a SOAP 1.2 one with WS-Addressing
//     Action and To. The header carries the CallContext: Company, Language,
//     LogonAsUser, MessageId and PartitionKey (empty ones as xsi:nil).
//   - Lookup: find with a QueryCriteria of one CriteriaElement (AIF ORs the
//     elements): the table's key, else the anchor, else the first condition
//     by name; the driver checks the other conditions on the answer,
//     comparing strings without regard to case as AX's collation does. A
//     flattened field (CustTable.Name) is asked of its child data source
//     (DirParty.Name).
//   - Create: create with the document (one root record) answers an
//     EntityKeyList; the driver then reads the record back with read.
//   - Update (and the update half of Upsert): read for the _DocumentHash,
//     then update with the EntityKeyList and the record marked
//     action="update" (a partial update: only the fields sent change).
//   - A SalesLine create is a partial update of its SalesOrder: the header
//     (key and hash) with the new line marked action="create".
//   - PostJournal: one create of a LedgerGeneralJournal document holding the
//     header and every line. AIF runs a document in one transaction, so the
//     journal is whole or absent.
//   - Values: decimal.Decimal as its exact text, int64 as digits, dates
//     (DeliveryDate, TransDate) as xs:date in the time's own location,
//     other times as UTC xs:dateTime, enums by name (No/Yes); floats are
//     refused, as are strings longer than the field and unknown fields.
//     Answers are decoded by the table's types: amounts to decimal.Decimal,
//     never float64.
//
// # Idempotency
//
// Every write's MessageId is a version 5 UUID of the company, the service
// operation and the flow's idempotency key, the same on every attempt, so
// AIF's duplicate message check (on by default for create, update and
// delete) recognizes a retry. When AX rejects the retry as a duplicate, the
// driver finds what the first attempt created and returns it. To find it,
// and to settle a write in doubt after a crash (Find), the key is also
// stored in the record: in the table's anchor field when AX numbers the
// key (SalesTable.CustomerRef, LedgerJournalTable.Name; a key longer than
// the field is stored as "fk-" + 16 hex digits of its SHA-256), or the
// record is found by the key field the flow sets (CustTable.AccountNum). A
// line is found in its parent by its LineNum.
//
// # Errors
//
// Every failure is an *erp.Error:
//
//   - Permanent: an AifFault (AX's validation: its Infolog messages are the
//     Message, XppExceptionType the Code), a Client/Sender fault, other 4xx,
//     a value the table refuses, and any answer that is not the SOAP the
//     operation promises (not XML, no envelope, the wrong response element,
//     an EntityKeyList without the key).
//   - Transient: an AifFault for a deadlock, update conflict or timeout (AX
//     rolled the document back), a Server/Receiver fault without AifFault,
//     408, 429 and 5xx answers that are not faults, a request that never
//     left, a read without an answer.
//   - InDoubt: a write that was sent in full but whose answer never came.
//     Settle it with Find; sending it again is safe too, as its MessageId
//     is the same.
//
// The driver does not retry; the executor does.
package ax2012
