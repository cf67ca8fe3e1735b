// Package sandbox is a local stand-in for Dynamics AX 2012's AIF document
// services: an HTTP server on loopback that answers the same SOAP messages
// as AX's HTTP adapter (any <port>/xppservice.svc path), from a store in
// memory (New) or one kept in a SQLite file (Open: every write is saved
// before it is answered, so a process started again on the file, after a
// crash too, serves what the last one answered), so the real driver
// (runtime/erp/ax2012) is tested over the wire and flows can run with no
// AOS.
//
// It takes a Config (default company, duplicate message behaviour) and
// serves, for CustomerService, SalesOrderService and GeneralJournalService
// (the tables of stdlib/ax2012):
//
//	create  document -> EntityKeyList (number sequences fill SalesId,
//	        JournalNum, AccountNum when omitted, and LineNum per line)
//	read    EntityKeyList -> document, with _DocumentHash per record
//	find    QueryCriteria (elements ORed; Equal, NotEqual, Greater,
//	        GreaterOrEqual, Less, LessOrEqual, Range) -> document
//	update  EntityKeyList + document: a partial update of the root
//	        (action="update", _DocumentHash checked) that may add lines
//	        (action="create"); SalesOrderService and CustomerService only
//
// over SOAP 1.1 (SOAPAction) or 1.2 (action in the Content-Type or the
// WS-Addressing header), with the CallContext's Company choosing the
// company. What it copies from AX: records per company; string comparisons
// without regard to case; validation faults as FaultException<AifFault>
// with HTTP 500, the Infolog messages in InfologMessageList (a required
// field left empty, a string too long, a value of the wrong type, an
// unknown element, a customer that does not exist, a duplicate account, a
// journal that does not balance per currency, a stale _DocumentHash); a
// read of a key that matches nothing as "No valid document identified from
// the entity key". Writes (create, update) are remembered by the
// CallContext MessageId: a message with an id seen before is not processed
// again and gets the first answer (or, with Config.RejectDuplicates, AIF's
// duplicate message fault). A write that failed is not remembered.
//
// What it does not do: AX business logic beyond those checks (no pricing,
// no posting, no defaulting from customers), delete, findKeys, getKeys,
// security, and the WSDL.
//
// Faults are injected with Inject: AIF validation and deadlock faults, 503
// answers, connections dropped before or after the request is applied;
// SetFaultRates makes a fraction of calls fail with them at random.
package sandbox
