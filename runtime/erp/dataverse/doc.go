// Package dataverse is the erp.Driver for Microsoft Dataverse (Dynamics 365
// Sales / Customer Engagement): it speaks the Web API (OData v4 at
// <BaseURL>/api/data/v9.2/) over net/http with a Microsoft Entra
// client-credentials token.
//
// It takes a Config (environment URL, token endpoint, credentials, the
// schema from stdlib/dataverse) and gives back a *Driver that looks rows
// up, writes them, settles writes in doubt and writes several rows
// atomically (WriteChangeset). Dataverse has no general ledger, so
// PostJournal is refused.
//
// # Wire
//
//   - Token: POST TokenURL (Entra v2.0) with grant_type=client_credentials
//     and scope <BaseURL>/.default (https://contoso.crm.dynamics.com/.default)
//     unless Config.Scope says otherwise; cached, refreshed at 90% of its
//     lifetime, dropped and fetched again once after a 401
//     (runtime/erp/odata.TokenSource).
//   - Lookup: GET <set>?$select=<columns>&$filter=f eq 'v' and ...&$top=1.
//     GUID, date and instant literals are bare, strings quoted (quotes
//     doubled). A lookup on a lookup field (customerid_account) filters
//     its value column (_customerid_value).
//   - Addressing: a write names its row by the primary key when it sets
//     it (accounts(<guid>)), else by the first alternate key whose columns
//     it all sets (accounts(new_stripecustomerid='cus_1'); several
//     columns are comma-separated). Key columns are not repeated in the
//     body.
//   - Upsert: PATCH the address with no precondition: Dataverse creates the
//     row or updates it. Create: PATCH with If-None-Match: * (a row that
//     exists is refused, 412), or POST the collection when the table has
//     no alternate key the write sets and the write has no idempotency key.
//     Update: GET the row for its @odata.etag, then PATCH with If-Match:
//     <etag>; a 412 (someone changed it) reads it again and sends the patch
//     once more, never If-Match: *. Every write sends Prefer:
//     return=representation and returns the row as stored.
//   - Lookups are written as <navigation>@odata.bind: "/<target>(<guid>)".
//   - Values: decimal.Decimal as a JSON number from its exact text, int64
//     as a number, an Edm.Date column as 2024-01-31, an instant in UTC;
//     floats are refused, GUID columns checked. Answers are decoded with
//     UseNumber and converted by the schema; nothing becomes a float.
//   - WriteChangeset: one multipart/mixed $batch holding one changeset (at
//     most 1000 operations, Dataverse's limit), each operation addressed as
//     above, so that all land or none (runtime/erp/odata's batch format,
//     shared with the F&O driver).
//
// # Idempotency
//
// Dataverse assigns GUIDs, so a write is idempotent through the alternate
// key that holds the gateway's id: the Stripe customer id in
// accounts.new_stripecustomerid, the charge id in
// salesorders/invoices.new_stripechargeid. An upsert on it is idempotent
// by itself, and Find settles a write in doubt by GETting its address. A
// create or upsert that sets neither the primary key nor an alternate key
// could not be found after a crash, and is refused (Permanent).
//
// # Errors
//
// Every failure is an *erp.Error whose Code is Dataverse's hex error code
// ("0x80072322"):
//
//   - Transient: 429 and the service protection codes 0x80072321 (execution
//     time), 0x80072322 (number of requests) and 0x80072326 (concurrent
//     requests), with RetryAfter from Retry-After; 408, 5xx, a 412 on an
//     update after the one re-read, a request that never left, a GET
//     without an answer, a token endpoint that is down.
//   - Permanent: other 4xx (a missing row, a duplicate key, a column that
//     does not exist, a value Dataverse cannot convert), an unknown entity
//     set or field, and any answer that breaks the protocol (not JSON, a
//     field of the wrong JSON kind, a $batch without an answer per
//     operation, a nextLink off the service).
//   - InDoubt: a write sent in full whose answer never came: settle it with
//     Find.
//
// Webhooks (Dataverse's service endpoints posting row changes) are not
// handled here: ERP-originated triggers are a separate piece of work.
package dataverse
