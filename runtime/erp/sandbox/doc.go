// Package sandbox is an embedded stand-in for Dynamics 365 Finance &
// Operations: it serves F&O's OData v4 dialect over HTTP on loopback and
// keeps the records in SQLite (modernc.org/sqlite, WAL), so the real driver
// (runtime/erp/d365fo) is tested over the wire and a new user can run flows
// with no tenant.
//
// It takes a *schema.Connector (d365fo.Default() unless configured) and
// serves, for every entity set in it:
//
//	POST   /{tenant}/oauth2/token            Azure AD v1 client credentials
//	GET    /data/$metadata                   CSDL generated from the connector
//	GET    /data/<Set>?$filter=...           $filter $select $top $skip $count $orderby, cross-company
//	GET    /data/<Set>(dataAreaId='usmf',K='x')
//	POST   /data/<Set>                       201 and the record with its @odata.etag
//	PATCH  /data/<Set>(key)                  204, If-Match honoured
//	DELETE /data/<Set>(key)                  204
//	POST   /data/$batch                      multipart/mixed, each changeset one SQLite transaction
//
// What it copies from F&O (see the reference NOTES.md): records of the
// default company only unless cross-company=true; dataAreaId stored lower
// case; string keys and string comparisons case-insensitive (SQL Server's
// collation); `*` in a string eq acts as a wildcard; enum literals written
// Microsoft.Dynamics.DataEntities.NoYes'Yes' (a plain string literal is
// accepted too); number sequences fill omitted keys (JournalBatchNumber,
// SalesOrderNumber, ReturnOrderNumber, lot ids, RecId-like integer keys, and
// journal LineNumbers); every property is returned, unset ones with F&O's
// defaults (empty dates as 1900-01-01T12:00:00Z); errors in F&O's body shape,
// OData-level problems (unknown property, wrong type, bad query) as 400 and
// validateWrite failures (missing required field, string too long, duplicate
// key, journal line without its header) as 500 with an AxODataWriteException,
// as F&O answers them.
//
// What it does not do: business logic beyond the checks above (no posting,
// no defaulting from customers), $expand, $apply, lambda operators, Content-ID
// references inside changesets, and real enum values (the generated CSDL
// numbers members in name order because the schema keeps names only).
//
// Faults (latency, 429, 5xx, timeouts, lost replies) are injected on /data
// requests with a seeded generator, settable while the server runs.
//
// # Business Central dialect
//
// With Config.Dialect "bc" the sandbox is a stand-in for Business Central's
// API v2.0 instead (entity sets from stdlib/bc unless configured), with one
// company (Config.Company, default "CRONUS USA, Inc."; its id is derived from
// the name), on the same store, $filter evaluation and faults:
//
//	POST   /{tenant}/oauth2/v2.0/token                  Entra v2.0 client credentials (scope .../.default)
//	GET    /api/v2.0/companies[({id})]                  $filter on name, id
//	GET    /api/v2.0/companies({id})/<set>              $filter $select $top $skip $count $orderby; paging by @odata.nextLink ($skiptoken)
//	POST   /api/v2.0/companies({id})/<set>              201, id (GUID) and numbers assigned, @odata.etag
//	GET    /api/v2.0/companies({id})/<set>({id})
//	PATCH  /api/v2.0/companies({id})/<set>({id})        If-Match required: 400 BadRequest_InvalidToken without
//	                                                    it, 409 Request_EntityChanged on a stale ETag; 200 and the record
//	DELETE /api/v2.0/companies({id})/<set>({id})        If-Match required, 204
//	...    /api/v2.0/companies({id})/<parent>({id})/<child>[({id})]   journals/journalLines,
//	                                                    customerPaymentJournals/customerPayments, document lines
//	POST   /api/v2.0/companies({id})/journals({id})/Microsoft.NAV.post
//	POST   /api/v2.0/$batch                             JSON batch, at most 100 operations; Isolation: snapshot
//	                                                    runs it in one transaction (any failure applies nothing)
//
// What it copies from BC: errors as {"error":{"code","message"}} with BC's
// codes (BadRequest_*, Application_*, Internal_*, Request_EntityChanged,
// Authentication_InvalidCredentials); read-only fields and sets refused;
// dates written 2024-01-31 and bare GUID literals in $filter; numbers
// (customers, sales documents) from number series when left out; line
// numbers 10000, 20000, ...; a sales document's customer must exist and
// lends it customerId and customerName; journal and payment journal codes
// unique; posting a journal checks each line has an account, a document
// number and a posting date, that each document balances, writes
// generalLedgerEntries (debitAmount/creditAmount) and deletes the lines, all
// in one transaction; 429 with Retry-After (code Application_TooManyRequests,
// an assumption: the documentation names only the status) and 503 with
// Retry-After. It does not post sales documents beyond marking them Open,
// uppercase Code fields, or serve $metadata or webhook subscriptions.
package sandbox
