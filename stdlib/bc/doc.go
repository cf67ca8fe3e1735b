// Package bc is the schema of the Dynamics 365 Business Central connector
// (import "bc"): the API v2.0 resources a flow can look up and write,
// under /api/v2.0/companies({id})/.
//
// It gives back a *schema.Connector named "bc" whose Entities are keyed by
// entity set name as the API spells it in URLs ("customers",
// "salesOrders", "journalLines"), each an object named "bc.<set>". It does
// no I/O: the schema is built once from the embedded resources.json.
//
// resources.json holds the property tables of the v2.0 resource pages
// (MicrosoftDocs/dynamics365smb-devitpro-pb, api-reference/v2.0/resources),
// with string lengths taken from Microsoft's API v1.0 OpenAPI document
// (BCOAS1.0.yaml) where v1.0 has the same property; Microsoft publishes no
// v2.0 OpenAPI document. generalLedgerEntries (read-only: what posting a
// journal produces) comes from the v1.0 schema, keyed by id as in v2.0.
//
// Mapping rules (resource table to schema):
//
//   - GUID and string: string (with MaxLength when known); decimal:
//     decimal; date and datetime: timestamp; integer and int64: int;
//     boolean: bool. NAV enums: a string restricted to the members the
//     resource page lists, spelled as the API serializes them ("G/L
//     Account", "In Review", " " for a blank option).
//   - Every entity is keyed by id, a GUID Business Central assigns; no
//     field is Required (BC defaults them from its setup and reports what it
//     misses as Application_* errors at run time).
//   - Fields the documentation calls Read-Only or Non-editable keep that
//     in their Doc and are listed by ReadOnly: the driver refuses to send
//     them, as BC does.
//   - Sales documents and customer payments keep a write's idempotency key
//     in externalDocumentNumber (their Anchor): flows leave it to the
//     runtime.
//
// Journals: a journals record (a general journal batch) is the header and
// journalLines its lines, each with one signed amount (debit positive,
// credit negative) on a "G/L Account"; see Journals.
package bc
