// Package ax2012 is the schema of the Dynamics AX 2012 connector: the AIF
// document services (SalesOrderService, CustomerService,
// GeneralJournalService) a flow can look records up in and write to.
//
// It takes nothing in and does no I/O. It gives back two views of one set of
// table definitions:
//
//   - Connector returns the *schema.Connector named "ax2012" that the checker
//     reads: an entity per AIF table (CustTable, SalesTable, SalesLine,
//     LedgerJournalTable, LedgerJournalTrans), each an object named
//     "ax2012.<Table>" with its key, field types, required fields and string
//     lengths, plus the journal posting rules of the general journal.
//   - Tables returns how each table travels in its AIF document: the service
//     and document it belongs to, the element path of every field, which
//     fields are dates, which AX fills itself, and where the runtime keeps a
//     write's idempotency key. The driver (runtime/erp/ax2012) and its
//     sandbox encode and decode documents with it.
//
// Field names are the AIF document's element names (the Axd schemas'
// AxdEntity_<Table> types), so a flow reads like the XML it produces. Two
// kinds of field are flattened: the customer's name lives in the DirParty
// child entity (written as a DirOrganization), and a journal line's accounts
// are AxdType_MultiTypeAccount values, written with their DisplayValue.
//
// Sources: the AX 2012 TechNet pages mirrored in the project's reference
// (standard document services, document operations, create/read/find
// examples, partial updates) and svcutil/JAXB proxies of the Axd types in
// public code. What is assumed rather than verified: the external name
// GeneralJournalService (the AOT name is LedgerGeneralJournalService; ports
// may rename it), the document element LedgerGeneralJournal and the string
// lengths, which follow the standard EDTs.
//
// Every value returned is immutable once built and safe for concurrent use.
package ax2012
