// Package paypal is the runtime's PayPal gateway: it takes in PayPal REST
// webhook deliveries (headers and raw body) and gives back verified, decoded
// events as plain JSON values.
//
// Two stages, one verb each:
//
//   - Verify checks a delivery's PAYPAL-TRANSMISSION-SIG against the raw
//     body. A Verifier does it one of two ways. Offline (NewOffline) follows
//     PayPal's SDKs: the signed message is
//     "<transmission id>|<transmission time>|<webhook id>|<CRC-32 of the body>"
//     (IEEE CRC-32, unsigned decimal), checked with SHA256withRSA (PKCS #1
//     v1.5) under the certificate at PAYPAL-CERT-URL. That URL comes from the
//     sender, so it is checked before anything is fetched (https, one of
//     PayPal's API hosts, port 443, no user info, the certs path), and the
//     certificate must name messageverificationcerts.paypal.com or
//     messageverificationcerts.sandbox.paypal.com, be valid at the
//     verifier's clock and chain to a trusted root. Online (NewOnline) asks
//     PayPal instead: POST /v1/notifications/verify-webhook-signature with an
//     OAuth2 client-credentials token. Both fail with a SignatureError
//     (ErrMissingHeader, ErrMalformedHeader, ErrUnsupportedAlgo,
//     ErrCertURLNotAllowed, ErrCertUnavailable, ErrBadCert, ErrCertExpired,
//     ErrBadSignature, ErrMalformedBody) that callers map to an HTTP 400
//     reason and a metrics label; failures that are not the sender's fault
//     (PayPal unreachable: ErrUnavailable, answer 503 so PayPal retries; a
//     rejected client id: a plain error, answer 500) are not SignatureErrors.
//   - Decode turns a verified body into an *Event: the envelope fields the
//     runtime routes on plus the whole event as map[string]any, decoded with
//     json.Decoder.UseNumber so amounts stay exact. Peek reads only the
//     envelope, for acknowledging. Both fail with ErrInvalidEvent.
//
// A Client (NewClient) reads and writes the REST API with the same OAuth2
// token code as Online: Capture, Refund (idempotent by PayPal-Request-Id),
// CreatePayout and Payout for vendor payments, and Transactions, Transaction
// Search read in 31-day windows and every page of each. Its List method
// serves flows' `paypal.transactions(start_date:, end_date:)` as the
// runtime's engine.Lister; failures worth retrying are Transient.
//
// No PayPal SDK bounds the transmission time, and neither does Verify:
// replays of a genuine delivery are caught by the store's event-id
// deduplication, not here.
//
// Nothing here panics on input, and nothing keeps package-level mutable
// state: the certificate cache and the OAuth2 token belong to a Verifier.
package paypal
