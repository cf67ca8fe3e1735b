// Package paypal is the PayPal connector schema: the objects, webhook
// events, list sources and configuration that flows importing "paypal" can
// use.
//
// It takes in nothing at run time and does no I/O. The schema is derived
// from PayPal's official OpenAPI specifications (Payments v2, Customer
// Disputes v1, Transaction Search v1 and Webhooks v1, copied into
// ./internal/gen/openapi) by ./internal/gen (go generate), which writes
// schema_gen.txt: every schema reachable from a webhook event's resource or
// a list element, with docs from the descriptions, enums from the enum
// lists, date_time strings as timestamps and every Money's value as an
// exact decimal ("12.34" stays 12.34, never a float). Event names are
// spelled as PayPal spells them (PAYMENT.CAPTURE.COMPLETED): flows write
// `on paypal.PAYMENT.CAPTURE.COMPLETED as ev` and read the capture as
// ev.resource. Connector decodes the file once and adds the list sources,
// the reverse-event table and the import settings.
package paypal

//go:generate go run ./internal/gen -o schema_gen.txt
