package main

import (
	"regexp"
	"strings"
)

// inlineRef reports whether a pointer to an expandable type is nonetheless
// always a full object in this position. stripe-go gives such fields (the
// OpenAPI spec's plain $ref, never expandable) the referenced type's own doc.
// A doc that talks about an ID ("The ID of the Radar rule...") still means an ID.
func (b *builder) inlineRef(key, doc string, target *typeDecl) bool {
	if v, ok := inlineOverride[key]; ok {
		return v
	}
	p := firstParagraph(doc)
	return p != "" && p == firstParagraph(target.doc) && !idDoc.MatchString(p)
}

// idDoc matches a doc comment that describes an ID.
var idDoc = regexp.MustCompile(`^(The )?ID\b|^Unique identifier`)

// idList reports whether a slice of an expandable type holds IDs; by default
// its elements are full objects (Invoice.default_tax_rates, Dispute.balance_transactions).
func (b *builder) idList(owner, name, doc string) bool {
	if v, ok := idListOverride[owner+"."+name]; ok {
		return v
	}
	if v, ok := idListOverride["*."+name]; ok {
		return v
	}
	return strings.Contains(doc, "expand[]=")
}

// plainStrings are named string types that have constants but stay plain
// strings: Stripe adds currencies without an API version, so an enum of
// stripe-go's list would reject valid payloads.
var plainStrings = map[string]bool{"Currency": true}

// inlineOverride says, for a pointer to an expandable type, whether the
// position is always a full object (true) or an expandable ID (false), where
// the doc-comment heuristic of inlineRef is wrong.
// Entries follow the API reference (a plain $ref is an object; anyOf
// string|$ref is an expandable ID) and agree with every payload that shows the
// field: testdata/stripe and the OpenAPI fixtures3.json canonical objects
// (charge.source, customer.discount, subscription items' price are objects).
var inlineOverride = map[string]bool{
	// Nullable $refs whose own description hides the type's doc: never IDs.
	"Customer.discount":     true,
	"Invoice.discount":      true,
	"Subscription.discount": true,
	"InvoiceItem.plan":      true,
	"InvoiceItem.price":     true,
	"InvoiceLineItem.plan":  true,
	"InvoiceLineItem.price": true,
	"LineItem.price":        true,
	// Legacy full source objects (a card, a bank account or a source).
	"Charge.source": true,
	"Topup.source":  true,
	// stripe-go's hand-written Error (last_payment_error, last_setup_error)
	// has no doc comments; the API embeds full objects there.
	"Error.payment_intent": true,
	"Error.payment_method": true,
	"Error.setup_intent":   true,
	"Error.source":         true,
}

// idListOverride says whether a slice of an expandable type holds IDs (true)
// or full objects (false), where the "expand[]=" doc heuristic is wrong. A
// key "*.name" applies to the field name in every object.
var idListOverride = map[string]bool{
	"*.account_tax_ids":         true,
	"*.default_account_tax_ids": true,
	"Quote.discounts":           true,
}
