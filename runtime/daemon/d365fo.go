package daemon

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/stdlib/d365fo"
)

// d365Webhook takes Dynamics 365 F&O business events (POST /webhooks/d365fo):
// one event as a JSON object, or several as an array. F&O does not sign
// them, so the endpoint is authenticated with Config.D365WebhookSecret,
// given as a bearer token or, for endpoints that can only be configured
// with a URL (F&O's HTTPS endpoint type), as the code query parameter
// (https://flowd.example.com/webhooks/d365fo?code=...). Every event of the
// delivery is checked before any is stored; each is stored durably under
// its EventId (or ControlNumber), so a redelivery is a duplicate, and then
// the delivery is acknowledged. F&O's endpoint test event is acknowledged
// and not stored.
func (d *Daemon) d365Webhook(w http.ResponseWriter, r *http.Request) {
	const source = "d365fo"
	start := time.Now()
	d.metrics.received.WithLabelValues(source).Inc()
	in := delivery{d: d, w: w, r: r, source: source}
	reject := in.reject
	if d.cfg.D365WebhookSecret == "" {
		reject(http.StatusNotFound, "not_configured", "Dynamics 365 business events are not configured (set D365_WEBHOOK_SECRET)")
		return
	}
	if !d365Authorized(r, d.cfg.D365WebhookSecret) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flowd d365fo"`)
		reject(http.StatusUnauthorized, "unauthorized", "a bearer token or code parameter with the webhook secret is required")
		return
	}
	body, ok := in.body(true)
	if !ok {
		return
	}
	events, err := splitD365(body)
	if err != nil {
		reject(http.StatusBadRequest, "malformed", err.Error())
		return
	}
	var accepted, duplicates, tests int
	for _, e := range events {
		if e.ev.Type == d365fo.TestEventID {
			tests++
			continue
		}
		dup, err := d.store.Accept(r.Context(), source, e.ev.ID, e.ev.Type, e.raw, time.Now())
		if err != nil {
			// Not all stored, so not acknowledged: F&O sends the delivery
			// again, and what was stored is then a duplicate.
			d.log.Error("webhook: storing", "source", source, "event", e.ev.ID, "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "could not store the event; retry"})
			return
		}
		if dup {
			duplicates++
			d.metrics.duplicates.WithLabelValues(source).Inc()
		} else {
			accepted++
			d.metrics.accepted.WithLabelValues(source).Inc()
		}
	}
	if accepted > 0 {
		d.sched.notify()
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": true, "accepted": accepted, "duplicates": duplicates, "tests": tests})
	d.metrics.ack.Observe(time.Since(start).Seconds())
}

// d365Authorized compares the bearer token or the code parameter with the
// secret in constant time (of the hashes, so the secret's length does not
// leak either).
func d365Authorized(r *http.Request, secret string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		got = r.URL.Query().Get("code")
	}
	if got == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// d365Delivery is one event of a delivery: its raw JSON (what is stored) and
// what engine.DecodeEvent read of it.
type d365Delivery struct {
	raw []byte
	ev  *engine.Event
}

// maxD365Batch is the most events one delivery may carry.
const maxD365Batch = 1000

// splitD365 reads a delivery: one business event object, or an array of
// them. Every event must have a BusinessEventId and an EventId or
// ControlNumber; the first that does not fails the whole delivery.
func splitD365(body []byte) ([]d365Delivery, error) {
	body = bytes.TrimSpace(body)
	var raws []json.RawMessage
	switch {
	case len(body) > 0 && body[0] == '{':
		raws = []json.RawMessage{body}
	case len(body) > 0 && body[0] == '[':
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, fmt.Errorf("not a JSON array of business events: %v", err)
		}
		if len(raws) == 0 {
			return nil, errors.New("an empty array: no business event")
		}
		if len(raws) > maxD365Batch {
			return nil, fmt.Errorf("%d events in one delivery; at most %d", len(raws), maxD365Batch)
		}
	default:
		return nil, errors.New("not a JSON object or array")
	}
	out := make([]d365Delivery, 0, len(raws))
	for i, raw := range raws {
		ev, err := engine.DecodeEvent(raw)
		if err == nil && ev.Source != "d365fo" {
			err = errors.New("not a business event: no BusinessEventId")
		}
		if err != nil {
			if len(raws) > 1 {
				return nil, fmt.Errorf("event %d: %v", i, err)
			}
			return nil, err
		}
		out = append(out, d365Delivery{raw: bytes.TrimSpace(raw), ev: ev})
	}
	return out, nil
}
