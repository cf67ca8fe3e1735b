package daemon

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/flowhq/flow/runtime/gateway/stripe"
	"github.com/flowhq/flow/runtime/store"
)

// MaxWebhookBody is the largest webhook body accepted (413 above).
const MaxWebhookBody = 1 << 20

// Handler is flowd's HTTP interface:
//
//	POST /webhooks/stripe              signed Stripe events
//	POST /webhooks/paypal              signed PayPal events (with Config.PayPal)
//	GET  /healthz                      the process is up
//	GET  /readyz                       the store is open and a plan loaded
//	GET  /metrics                      Prometheus metrics
//	GET  /admin/events[?status=S]      recent events
//	GET  /admin/events/{id}            one event and its trail
//	GET  /admin/dlq                    dead letters
//	POST /admin/dlq/{id}/replay        run a dead letter again on the current plan
//	POST /admin/dlq/replay             run every dead letter again
//	GET  /admin/payouts[?payout=ID]    payout reconciliation (as flowc recon)
//	GET  /admin/plan                   the running plan and the last reload
//	GET  /admin/stats[?minutes=&step=] counts by status, activity over time
//	GET  /admin/review                 events a flow held for a person
//	POST /admin/review/{id}/approve    run it on past its review steps
//	POST /admin/review/{id}/reject     end it, skipped, with {"note": ...}
//	GET  /admin/aggregates/{name}[/{key}] a flow aggregate's entries, or one
//	GET  /console/                     the web console (its data needs the token)
//	POST /console/login                {"token": ...} -> a session cookie
//
// The admin routes need the admin token when one is set: as a bearer token,
// or as the console's session cookie (with the X-Flowd-Console header on
// anything but a GET).
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/stripe", d.stripeWebhook)
	mux.HandleFunc("POST /webhooks/paypal", d.paypalWebhook)
	mux.HandleFunc("POST /webhooks/d365fo", d.d365Webhook)
	mux.HandleFunc("POST /webhooks/bc", d.bcWebhook)
	mux.HandleFunc("POST /webhooks/dataverse", d.dataverseWebhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "up"})
	})
	mux.HandleFunc("GET /readyz", d.readyz)
	mux.Handle("GET /metrics", d.metrics.handler())
	mux.Handle("GET /admin/events", d.admin(d.listEvents))
	mux.Handle("GET /admin/events/{id}", d.admin(d.showEvent))
	mux.Handle("GET /admin/dlq", d.admin(func(w http.ResponseWriter, r *http.Request) {
		d.list(w, r, store.Dead)
	}))
	mux.Handle("POST /admin/dlq/{id}/replay", d.admin(d.replay))
	mux.Handle("POST /admin/dlq/replay", d.admin(d.replay))
	d.consoleRoutes(mux)
	return mux
}

// stripeWebhook verifies, stores durably, then acknowledges.
func (d *Daemon) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	d.metrics.stripeReceived.Inc()
	in := delivery{d: d, w: w, r: r, source: "stripe"}
	reject := in.reject
	body, ok := in.body(true)
	if !ok {
		return
	}
	if err := stripe.Verify(body, r.Header.Get("Stripe-Signature"), d.current().stripeSecrets, d.cfg.Now(), d.cfg.Tolerance); err != nil {
		var se stripe.SignatureError
		if errors.As(err, &se) {
			reject(http.StatusBadRequest, string(se), err.Error())
			return
		}
		d.log.Error("webhook: cannot verify", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "webhook verification is not configured"})
		return
	}
	ev, err := stripe.Peek(body)
	if err != nil {
		reject(http.StatusBadRequest, "malformed", err.Error())
		return
	}
	dup, err := d.store.Accept(r.Context(), "stripe", ev.ID, ev.Type, body, time.Now())
	if err != nil {
		// Not stored, so not acknowledged: the gateway will deliver it again.
		d.log.Error("webhook: storing", "event", ev.ID, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "could not store the event; retry"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if dup {
		d.metrics.stripeDuplicates.Inc()
		w.Write(ackDuplicate)
	} else {
		d.metrics.stripeAccepted.Inc()
		d.sched.notify()
		w.Write(ackFirst)
	}
	d.metrics.ack.Observe(time.Since(start).Seconds())
}

// The acknowledgements, prebuilt: the webhook path is flowd's hottest.
var (
	ackFirst     = []byte(`{"received": true, "duplicate": false}` + "\n")
	ackDuplicate = []byte(`{"received": true, "duplicate": true}` + "\n")
)

// readBody reads a webhook body of at most MaxWebhookBody bytes into a
// buffer sized from Content-Length when the sender gave one.
// delivery is one webhook delivery being taken from source.
type delivery struct {
	d      *Daemon
	w      http.ResponseWriter
	r      *http.Request
	source string
}

// reject answers a refusal of the delivery, with the reason, and counts
// and logs it.
func (v delivery) reject(status int, reason, msg string) {
	v.d.metrics.rejected.WithLabelValues(v.source, reason).Inc()
	v.d.log.Warn("webhook rejected", "source", v.source, "reason", reason, "remote", v.r.RemoteAddr)
	writeJSON(v.w, status, map[string]any{"error": msg, "reason": reason})
}

// body reads the delivery's body, which must be JSON when json is set; it
// answers what it refuses (a wrong Content-Type, a body over
// MaxWebhookBody, one that could not be read) itself, and ok is false.
func (v delivery) body(json bool) (body []byte, ok bool) {
	if json {
		if mt, _, err := mime.ParseMediaType(v.r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			v.reject(http.StatusBadRequest, "content_type", "Content-Type must be application/json")
			return nil, false
		}
	}
	body, err := readBody(v.w, v.r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			v.reject(http.StatusRequestEntityTooLarge, "too_large", "body over 1 MiB")
			return nil, false
		}
		v.reject(http.StatusBadRequest, "read", "could not read the body")
		return nil, false
	}
	return body, true
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	size := int64(512)
	if r.ContentLength > 0 && r.ContentLength <= MaxWebhookBody {
		size = r.ContentLength + 1 // +1: ReadAll reads until EOF
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	return buf.Bytes(), err
}

func (d *Daemon) readyz(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"plan": d.Version()}
	status := http.StatusOK
	if _, err := d.store.Counts(r.Context()); err != nil {
		status, out["store"] = http.StatusServiceUnavailable, err.Error()
	} else {
		out["store"] = "ok"
	}
	if d.program() == nil {
		status = http.StatusServiceUnavailable
	}
	if msg := d.reloadErr.Load(); msg != nil {
		out["last_reload_error"] = *msg
	}
	writeJSON(w, status, out)
}

// admin guards an admin route with the admin token, when one is set: a
// bearer token, or the console's session cookie.
func (d *Daemon) admin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if tok := d.cfg.AdminToken; tok != "" {
			got := r.Header.Get("Authorization")
			bearer := subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+tok)) == 1
			cookie := !bearer && d.validSession(r)
			if cookie && r.Method != http.MethodGet && r.Header.Get(consoleHeader) == "" {
				writeJSON(w, http.StatusForbidden, map[string]any{"error": "a console request that changes something needs the " + consoleHeader + " header"})
				return
			}
			if !bearer && !cookie {
				w.Header().Set("WWW-Authenticate", `Bearer realm="flowd"`)
				writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "admin routes need the admin token (a bearer token, or sign in to the console)"})
				return
			}
		}
		h(w, r)
	})
}

func (d *Daemon) listEvents(w http.ResponseWriter, r *http.Request) {
	d.list(w, r, store.Status(r.URL.Query().Get("status")))
}

func (d *Daemon) list(w http.ResponseWriter, r *http.Request, status store.Status) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	evs, err := d.store.Events(r.Context(), store.Filter{Status: status, Limit: limit})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	if evs == nil {
		evs = []*store.Event{}
	}
	writeJSON(w, http.StatusOK, evs)
}

func (d *Daemon) showEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := d.store.Event(r.Context(), r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	trail, err := d.store.Trail(r.Context(), ev.Seq)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := map[string]any{"event": ev, "trail": trail}
	if payload, err := d.store.Payload(r.Context(), ev.Seq); err == nil {
		out["payload"] = maskPayload(payload)
	}
	writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) replay(w http.ResponseWriter, r *http.Request) {
	var seq int64
	if id := r.PathValue("id"); id != "" {
		ev, err := d.store.Event(r.Context(), id)
		if err != nil {
			writeStoreError(w, err)
			return
		}
		if ev.Status != store.Dead {
			writeJSON(w, http.StatusConflict, map[string]any{"error": "event " + id + " is " + string(ev.Status) + ", not a dead letter"})
			return
		}
		seq = ev.Seq
	}
	seqs, err := d.store.Requeue(r.Context(), seq, time.Now())
	if err != nil {
		writeStoreError(w, err)
		return
	}
	d.sched.requeued()
	writeJSON(w, http.StatusOK, map[string]any{"requeued": len(seqs), "plan": d.Version()})
}

func writeStoreError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, store.ErrNotFound) {
		status = http.StatusNotFound
	}
	writeJSON(w, status, map[string]any{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
