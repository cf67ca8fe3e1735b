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
package sandbox
