// Package stripe is the Stripe connector schema: the objects, webhook events,
// list sources and configuration that flows importing "stripe" can use.
//
// It takes in nothing at run time and does no I/O. The schema is derived from
// stripe-go v76's types by ./internal/gen (go generate), which writes
// schema_gen.txt: every struct reachable from an event subject or a list
// element, with field names from the JSON tags, docs from the Go comments,
// enums from the typed string constants, money amounts as Minor, and
// expandable references (customer, balance_transaction...) as their ID
// strings. Connector decodes that file once, adds the event envelopes, the
// list sources, the reverse-event table and the fields of older API versions
// (legacy.go), and returns the immutable *schema.Connector the compiler reads.
package stripe

//go:generate go run ./internal/gen -o schema_gen.txt
