// Package bc is the erp.Driver for Dynamics 365 Business Central: it
// speaks the API v2.0 (/api/v2.0/companies({id})/...) over net/http with a
// Microsoft Entra client-credentials token.
//
// It takes a Config (API root, token endpoint, credentials, company by
// name or id, entity schemas from stdlib/bc) and gives back a *Driver that
// looks records up, writes them, settles writes in doubt and posts
// general journals.
//
// # Wire
//
//   - Token: POST TokenURL (Entra v2.0) with grant_type=client_credentials,
//     client_id, client_secret and scope (https://api.businesscentral.dynamics.com/.default
//     unless Config.Scope says otherwise). The token is cached and fetched
//     again when 90% of its lifetime has passed; a 401 drops it and the
//     request is sent once more.
//   - Company: a GUID is used as is; a name is resolved once with
//     GET /companies?$filter=name eq '...'.
//   - Lookup: GET companies(<id>)/<set>?$filter=f eq 'v' and ...&$top=1;
//     GUIDs, dates and instants are written bare, strings quoted (quotes
//     doubled). A set that lives under a parent (journalLines under journals,
//     customerPayments under customerPaymentJournals, document lines under
//     their documents) is read under it when the filter names the parent.
//   - Reads follow @odata.nextLink (server-driven paging), which must stay
//     under BaseURL.
//   - Create: POST the collection (201 and the record). Update: find the
//     record (by id, else its number or code, else its parent and line
//     number, else its anchored key), then PATCH <set>(<id>) with If-Match:
//     its @odata.etag. A 409 Request_EntityChanged reads the record again and
//     sends the patch once more with the new ETag; it never overwrites with
//     If-Match: *. Upsert: update when found, else create.
//   - Values: decimal.Decimal as a JSON number from its exact text, int64
//     as a number, a date field as 2024-01-31 (the time's own calendar date),
//     a datetime in UTC; floats are refused, and so are read-only fields
//     (stdlib/bc.ReadOnly) and writes to read-only sets (generalLedgerEntries).
//     Answers are decoded with UseNumber and converted by the schema.
//
// # Idempotency
//
// Business Central assigns ids, so a create stores the flow's key in the
// entity's anchor field, externalDocumentNumber (Code[35]; a longer key is
// stored as "fk-" + 16 hex digits of its SHA-256), on salesOrders,
// salesInvoices, salesCreditMemos, customerPayments and journalLines. A
// write that sets a customer's number, a journal's code, a document's
// number, or a line's parent and line number is found by those instead.
// A create with none of these cannot be settled after a crash and is
// refused (Permanent).
//
// # Journals
//
// PostJournal names the journal batch JournalCode(key) (Code[10]) and its
// lines' document number DocumentNumber(key) (Code[20]), keeps the key in
// the batch's displayName and the lines' externalDocumentNumber, creates
// the lines it lacks in JSON $batch requests with Isolation: snapshot (at
// most 100 operations each; all of one batch land or none), then calls
// journals(<id>)/Microsoft.NAV.post. Posting deletes the lines, so a
// journal is known to be posted by the generalLedgerEntries that carry its
// document number: after a crash at any point, posting again finds them,
// or finds the batch and its lines and completes them.
//
// # Errors
//
// Every failure is an *erp.Error whose Code is BC's error code:
//
//   - Transient: 429, 502, 503 and 504 (RetryAfter from Retry-After), 408,
//     other 5xx except Internal_* codes that describe the data, 409
//     Request_EntityChanged (after the one re-read), a request that never
//     left, a GET without an answer, a token endpoint that is down.
//   - Permanent: other 4xx (BadRequest_*, Application_*, Authentication_*,
//     Authorization_*), an unknown entity or field, a company not found, and
//     any answer that breaks the protocol (not JSON, a field of the wrong
//     JSON kind, a $batch without an answer per operation, a nextLink off
//     the service).
//   - InDoubt: a write sent in full whose answer never came: settle it with
//     Find (PostJournal settles itself).
package bc
