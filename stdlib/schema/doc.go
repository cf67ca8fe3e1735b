// Package schema describes the typed shape of what connectors exchange: gateway
// objects and events, ERP entities, list sources and connector configuration.
//
// It takes nothing in and does no I/O: connector packages (stdlib/stripe,
// stdlib/d365fo) build a *Connector, and the compiler reads it to resolve field
// paths, check types and suggest names. Every value here is immutable once built.
package schema
