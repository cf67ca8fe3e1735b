// Package d365fo is the erp.Driver for Dynamics 365 Finance & Operations:
// it speaks F&O's OData v4 dialect over net/http to <BaseURL>/data with an
// Azure AD client-credentials token.
//
// It takes a Config (environment URL, token endpoint, credentials, company,
// entity schemas from stdlib/d365fo) and gives back a *Driver that looks
// records up, writes them, settles writes in doubt and posts journals.
//
// # Wire
//
//   - Token: POST TokenURL with grant_type=client_credentials, client_id,
//     client_secret and resource (BaseURL unless Config.Resource says
//     otherwise). The token is cached and fetched again when 90% of its
//     lifetime has passed; concurrent callers share one fetch. A 401 from
//     /data drops the token and the request is sent once more.
//   - Lookup: GET /data/<Set>?$filter=dataAreaId eq 'usmf' and F eq 'v'&$top=1
//     &cross-company=true (company filter and cross-company only when
//     Config.Company is set). Quotes in strings are doubled; enum members are
//     written Microsoft.Dynamics.DataEntities.NoYes'Yes' when the enum type is
//     known (NoYes, or Config.EnumTypes).
//   - Create: POST /data/<Set> (201 and the record). Update: PATCH
//     /data/<Set>(dataAreaId='usmf',Key='x') by the full key, which the fields
//     must hold (dataAreaId comes from Company), with Prefer:
//     return=representation. Upsert: look the record up by its natural key
//     (or by the anchor when the fields lack it), then PATCH or POST.
//   - Values: decimal.Decimal is sent as a JSON number written from its exact
//     text, int64 as a number, time.Time as RFC 3339 in UTC (a time at
//     midnight in its own location is a date: "2024-01-31T00:00:00Z"), enums
//     as member names; floats are refused. Answers are decoded with
//     json.Decoder.UseNumber and converted by the entity's schema types:
//     Edm.Decimal to decimal.Decimal, integers to int64, DateTimeOffset to
//     time.Time, never float64.
//
// # Idempotency anchor
//
// F&O has no idempotency header, so the key is stored in the record itself.
// If the write sets every natural key field of the entity (dataAreaId
// aside), the natural key identifies the record. Otherwise (F&O numbers the
// key) the driver writes the key into the entity set's anchor field:
//
//	CustomerPaymentJournalHeaders, LedgerJournalHeaders   Description
//	ReturnOrderHeaders(V2), SalesOrderHeadersV2/V3/V4       CustomerRequisitionNumber
//	FreeTextInvoiceHeaders                                  CustomerRequisition
//
// (Config.Anchors overrides or adds entries.) The anchor is written on every
// create that has one, natural key or not, unless the flow set that field
// itself next to a natural key. A key
// longer than the field (MaxLength from the schema; else 60 for
// Description, 20 for the requisition fields and 20 for any other) is
// stored as "fk-" + the first 16 hex digits of its SHA-256. A create with
// neither a natural key nor an anchor field is refused (Permanent): nothing
// could settle it. Updates write no anchor: sending one again is harmless.
//
// Find settles a write in doubt, after a crash too: by the write's natural
// key when it sets one, else by the anchor value (in the company).
// PostJournal is idempotent by itself: run again, it reuses the anchored
// header and posts only the lines that are missing.
//
// # Journals
//
// PostJournal creates the header (anchored), reads the JournalBatchNumber
// F&O assigned, and posts every line in one changeset of a multipart/mixed
// $batch, each line carrying the link field and a LineNumber (1, 2, ... when
// the flow gave none). The envelope is 200 even when an operation failed, so
// every inner answer is parsed and the first failure that is a cause (not a
// 424 for an operation the cause took down) becomes the error.
//
// # Errors
//
// Every failure is an *erp.Error:
//
//   - Transient: 429 (RetryAfter from Retry-After), 408, 5xx, a request that
//     never left (connection refused), a GET without an answer, a token
//     endpoint that is down.
//   - Permanent: other 4xx, F&O validation failures (an
//     AxODataWriteException, which F&O sends with status 500, unless it reports
//     a deadlock or update conflict), credentials refused, an unknown entity or
//     field, and any answer that breaks the protocol (not JSON, a record
//     whose field has the wrong JSON kind, a batch without an answer per
//     operation, a nextLink off the service). Message holds the
//     innererror.message.
//   - InDoubt: a write that was sent in full but whose answer never came
//     (timeout after sending, connection reset, a reply lost): settle it
//     with Find.
//
// The driver does not retry (the executor does), except once after a 401.
package d365fo
