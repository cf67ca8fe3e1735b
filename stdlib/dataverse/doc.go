// Package dataverse is the schema of the Microsoft Dataverse connector
// (Dynamics 365 Sales / Customer Engagement): the tables a flow can look up
// and write through the Dataverse Web API (OData v4 at /api/data/v9.2/).
//
// It takes in a CSDL document (the $metadata an environment serves at
// /api/data/v9.2/$metadata) and gives back a *Schema: a *schema.Connector
// named "dataverse" whose Entities are keyed by entity set name
// ("accounts", "salesorders", "new_stripepayments"), each an object named
// "dataverse.<entity set>", plus what the driver and the sandbox need that
// the connector does not carry: each table's alternate keys, its lookup
// navigation properties (bound on writes with <navigation>@odata.bind) and
// which columns are GUIDs or dates on the wire. It does no network I/O.
//
// The CSDL is read by the F&O loader (stdlib/d365fo.LoadCSDL), which maps
// types, lengths and docs the same way for both services, and then a second
// streaming pass reads what only Dataverse declares:
//
//   - Alternate keys: the OData.Community.Keys.V1.AlternateKeys annotation
//     of an entity type (each key a list of PropertyPath names).
//   - Lookups: every single-valued NavigationProperty whose entity set the
//     container binds (NavigationPropertyBinding). It becomes a string field
//     of the same name that takes the related record's GUID
//     (customerid_account on salesorders); the value read back is the
//     _<lookup>_value column its ReferentialConstraint names, else
//     _<navigation without its _<table> suffix>_value.
//   - Wire types: Edm.Guid columns are written bare in $filter and checked
//     as GUIDs; Edm.Date columns are dates (2024-01-31).
//
// Dataverse's $metadata does not say which columns a write requires
// (ApplicationRequired is table metadata, not CSDL), so no field is
// Required; the service refuses a write that misses one.
//
// Default returns the built-in schema (embedded default_metadata.xml): the
// standard tables account, contact, salesorder, invoice, transactioncurrency
// and pricelevel with their common columns, the custom columns
// new_stripecustomerid (account, contact; an alternate key) and
// new_stripechargeid (salesorder, invoice; an alternate key), and the custom
// table new_stripepayment. A tenant's own document is loaded with the
// import's `metadata` setting.
package dataverse
