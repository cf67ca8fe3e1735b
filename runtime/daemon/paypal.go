package daemon

import (
	"errors"
	"net/http"
	"time"

	"github.com/flowhq/flow/runtime/gateway/paypal"
)

// paypalWebhook verifies a PayPal delivery (offline against PayPal's
// certificate, or with PayPal's verify API, as Config.PayPal does), stores
// it durably, then acknowledges. PayPal redelivers what is not answered
// 2xx, so a verification PayPal could not be asked about is a 503.
func (d *Daemon) paypalWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	d.metrics.received.WithLabelValues("paypal").Inc()
	in := delivery{d: d, w: w, r: r, source: "paypal"}
	reject := in.reject
	if d.cfg.PayPal == nil {
		reject(http.StatusNotFound, "not_configured", "PayPal webhooks are not configured (set PAYPAL_WEBHOOK_ID)")
		return
	}
	body, ok := in.body(true)
	if !ok {
		return
	}
	if err := d.cfg.PayPal.Verify(r.Context(), r.Header, body); err != nil {
		var se paypal.SignatureError
		switch {
		case errors.As(err, &se):
			reject(http.StatusBadRequest, string(se), err.Error())
		case errors.Is(err, paypal.ErrUnavailable):
			d.log.Warn("webhook: PayPal could not be asked to verify; it will redeliver", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "could not verify the delivery now; retry"})
		default:
			d.log.Error("webhook: cannot verify PayPal deliveries", "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "PayPal webhook verification is not configured correctly"})
		}
		return
	}
	ev, err := paypal.Peek(body)
	if err != nil {
		reject(http.StatusBadRequest, "malformed", err.Error())
		return
	}
	dup, err := d.store.Accept(r.Context(), "paypal", ev.ID, ev.Type, body, time.Now())
	if err != nil {
		d.log.Error("webhook: storing", "event", ev.ID, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "could not store the event; retry"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if dup {
		d.metrics.duplicates.WithLabelValues("paypal").Inc()
		w.Write(ackDuplicate)
	} else {
		d.metrics.accepted.WithLabelValues("paypal").Inc()
		d.sched.notify()
		w.Write(ackFirst)
	}
	d.metrics.ack.Observe(time.Since(start).Seconds())
}
