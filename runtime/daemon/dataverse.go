package daemon

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/engine"
)

// dataverseWebhook takes Dataverse webhook events (POST /webhooks/dataverse):
// a service endpoint of contract Webhook posts the execution context of
// every step registered on it (Create, Update or Delete of a table), one
// context per request. Dataverse does not sign them; the endpoint is
// authenticated with Config.DataverseWebhookKey, given the way the
// service endpoint's authentication type sends it:
//
//   - WebhookKey: the key as the code query parameter (?code=<key>);
//   - HttpQueryString: a code=<key> pair, the same;
//   - HttpHeader: an x-api-key: <key> pair, or Authorization: Bearer <key>.
//
// The context is flattened (engine.FlattenDataverse) and stored durably
// under engine.DataverseEventID, so a redelivery is a duplicate, then
// acknowledged. Dataverse does not promise order; flows that must see one
// row's events one at a time say `order by ev.PrimaryEntityId`, and flowd
// then runs them in the order they arrived. A step registered as
// synchronous fails the user's operation when the answer is not 2xx: an
// event flowd could not store is answered 503 either way.
func (d *Daemon) dataverseWebhook(w http.ResponseWriter, r *http.Request) {
	const source = "dataverse"
	start := time.Now()
	d.metrics.received.WithLabelValues(source).Inc()
	in := delivery{d: d, w: w, r: r, source: source}
	reject := in.reject
	if d.cfg.DataverseWebhookKey == "" {
		reject(http.StatusNotFound, "not_configured", "Dataverse webhooks are not configured (set DATAVERSE_WEBHOOK_KEY)")
		return
	}
	if !dataverseAuthorized(r, d.cfg.DataverseWebhookKey) {
		reject(http.StatusUnauthorized, "unauthorized", "the webhook key is required, as the code parameter or the x-api-key header")
		return
	}
	body, ok := in.body(true)
	if !ok {
		return
	}
	// Over 256 KB, Dataverse leaves out the parameters and images and says
	// so in this header; the flat form keeps the fact (MessageSizeExceeded).
	trimmed := strings.EqualFold(strings.TrimSpace(r.Header.Get("x-ms-dynamics-msg-size-exceeded")), "true")
	flat, err := engine.FlattenDataverse(body, trimmed)
	if err != nil {
		reject(http.StatusBadRequest, "malformed", err.Error())
		return
	}
	ev, err := engine.DecodeEvent(flat)
	if err == nil && ev.Source != source {
		err = errors.New("not a Dataverse execution context")
	}
	if err != nil {
		reject(http.StatusBadRequest, "malformed", err.Error())
		return
	}
	dup, err := d.store.Accept(r.Context(), source, ev.ID, ev.Type, flat, time.Now())
	if err != nil {
		// Not stored, so not acknowledged: an asynchronous step is retried
		// by Dataverse; a synchronous one fails the user's operation.
		d.log.Error("webhook: storing", "source", source, "event", ev.ID, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "could not store the event; retry"})
		return
	}
	accepted, duplicates := 1, 0
	if dup {
		accepted, duplicates = 0, 1
		d.metrics.duplicates.WithLabelValues(source).Inc()
	} else {
		d.metrics.accepted.WithLabelValues(source).Inc()
		d.sched.notify()
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": true, "accepted": accepted, "duplicates": duplicates, "event": ev.Type})
	d.metrics.ack.Observe(time.Since(start).Seconds())
}

// dataverseAuthorized compares every place the key may come in (the code
// query parameter, the x-api-key header, a bearer token) with the key, in
// constant time (of the hashes, so the key's length does not leak
// either); one match is enough.
func dataverseAuthorized(r *http.Request, key string) bool {
	want := sha256.Sum256([]byte(key))
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	ok := 0
	for _, got := range []string{r.URL.Query().Get("code"), r.Header.Get("x-api-key"), bearer} {
		h := sha256.Sum256([]byte(got))
		ok |= subtle.ConstantTimeCompare(h[:], want[:]) & boolInt(got != "")
	}
	return ok == 1
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
