// Package hook is the runtime of the outbound notification hook connector
// (stdlib/hook): a Client that implements erp.Driver and POSTs each notice
// a flow creates (`create notify.Notice key ... { ... }`) to the import's
// url.
//
// Each delivery is one POST of a JSON object:
//
//	{"id": "ntc_…", "topic": "dunning.declined", "subject": "…", "text": "…",
//	 "fields": {"invoice": "INV-1"}, "sent_at": "2024-05-01T09:30:00Z"}
//
// with the headers Content-Type: application/json, Idempotency-Key (the id
// again), User-Agent: flowd and, when the import names a secret,
// Flow-Signature. The id is DeliveryID of the flow's key: every attempt of
// one key carries the same id, so a receiver that keeps the ids it has seen
// takes each notice once. Delivery is at least once: an attempt whose
// answer is lost is sent again.
//
// The signature follows Stripe's scheme: "t=<unix seconds>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" keyed with the secret>". A receiver checks it
// against the raw body before parsing it:
//
//	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//	err := hook.Verify(secret, r.Header.Get("Flow-Signature"), body, time.Now(), 5*time.Minute)
//	if err != nil {
//		http.Error(w, "bad signature", http.StatusBadRequest)
//		return
//	}
//
// The endpoint's answer decides what the executor does: 2xx binds
// hook.Notice (id, status, delivered_at); 408, 425, 429 and 5xx are
// transient (Retry-After is honoured); other answers are permanent. A
// request that never left (no connection, no such host) is transient; one
// that was sent but whose answer was lost is in doubt, and, since a hook
// cannot be asked what it received, is sent again with the same id.
package hook
