// Package stripe is the runtime's Stripe gateway: it takes in webhook
// requests and Stripe API responses and gives back verified, decoded events
// and API objects as plain JSON values.
//
// Three stages, one verb each:
//
//   - Verify checks a webhook's Stripe-Signature header against the raw body
//     and the endpoint secrets. It fails with a SignatureError (ErrNoSignature,
//     ErrMalformedHeader, ErrStale, ErrBadSignature) that callers map to an
//     HTTP 400 reason and a metrics label. It never looks at the event's
//     api_version: accounts pinned to any API version verify the same way.
//     Sign makes a header Verify accepts, for tests and the demo.
//   - Decode turns a verified body into an *Event: the envelope fields the
//     runtime routes on plus the whole event as map[string]any, decoded with
//     json.Decoder.UseNumber so amounts stay exact (json.Number, never
//     float64). It fails with ErrInvalidEvent.
//   - Client reads the Stripe API through stripe-go's backend (auth, retries,
//     Stripe-Version header): BalanceTransactions lists a payout's balance
//     transactions page by page, Payout and Charge fetch one object. Objects
//     come back as map[string]any decoded the same way as events; the runtime
//     types them by its own schema. Transient tells a retry from a dead letter.
//
// Nothing here panics on input, and nothing keeps package-level mutable state.
package stripe
