package daemon

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/bc"
	bcschema "github.com/flowhq/flow/stdlib/bc"
)

// BCWebhooks configures Business Central change notifications: the
// endpoint POST /webhooks/bc and the subscriptions behind it
// (RunBCSubscriptions).
type BCWebhooks struct {
	// ClientState is the secret every subscription is created with and
	// every notification must echo (at most 2,048 characters); required.
	ClientState string
	// Client reads the changed records and manages the subscriptions; nil
	// uses Config.ERP, which must then be one (a *bc.Driver is).
	Client BCClient
}

// BCClient is what flowd needs of Business Central for webhooks;
// *bc.Driver implements it.
type BCClient interface {
	FetchChanged(ctx context.Context, resource string) (bc.Changed, error)
	Resource(ctx context.Context, set string) (string, error)
	Subscriptions(ctx context.Context) ([]bc.Subscription, error)
	Subscribe(ctx context.Context, notificationURL, resource, clientState string) (bc.Subscription, error)
	Renew(ctx context.Context, s bc.Subscription) (bc.Subscription, error)
	Unsubscribe(ctx context.Context, s bc.Subscription) error
}

var _ BCClient = (*bc.Driver)(nil)

// bcClient returns the configured client, false when Business Central
// webhooks are off.
func (d *Daemon) bcClient() (BCClient, bool) {
	cfg := d.cfg.BC
	if cfg == nil || cfg.ClientState == "" {
		return nil, false
	}
	if cfg.Client != nil {
		return cfg.Client, true
	}
	c, ok := d.cfg.ERP.(BCClient)
	return c, ok
}

// bcNotice is one entry of a notification.
type bcNotice struct {
	SubscriptionID string `json:"subscriptionId"`
	ClientState    string `json:"clientState"`
	Expiration     string `json:"expirationDateTime"`
	Resource       string `json:"resource"`
	ChangeType     string `json:"changeType"`
	LastModified   string `json:"lastModifiedDateTime"`
}

// maxValidationToken bounds the token the handshake echoes.
const maxValidationToken = 1024

// bcWebhook takes Business Central's webhook calls (POST /webhooks/bc):
//
//   - The handshake: BC calls notificationUrl?validationToken=... when a
//     subscription is created or renewed; the answer is 200 with the token
//     as a text/plain body.
//   - Notifications {"value": [...]}: each entry must echo the
//     subscriptions' clientState (compared in constant time); entries that
//     do not are dropped, and a notification with none that does is 401.
//     For each change a flow is triggered by, flowd fetches the record
//     (the notification names only its URL) and stores one event under
//     engine.BCEventID, so a notification sent again is a duplicate; a
//     "collection" entry becomes an event per record its $filter matches,
//     for the set's created and updated flows.
//
// BC deletes a subscription whose endpoint answers anything but 2xx, 408,
// 429 or 5xx: changes no flow wants, records gone since, and resources
// of another company are acknowledged (2xx) and skipped; only a transient
// failure (reading BC, storing) is answered 503, and BC sends the
// notification again.
func (d *Daemon) bcWebhook(w http.ResponseWriter, r *http.Request) {
	const source = "bc"
	start := time.Now()
	d.metrics.received.WithLabelValues(source).Inc()
	in := delivery{d: d, w: w, r: r, source: source}
	reject := in.reject
	client, ok := d.bcClient()
	if !ok {
		reject(http.StatusNotFound, "not_configured", "Business Central webhooks are not configured")
		return
	}
	if tok, handshake := r.URL.Query()["validationToken"]; handshake {
		if len(tok) != 1 || tok[0] == "" || len(tok[0]) > maxValidationToken {
			reject(http.StatusBadRequest, "validation_token", "validationToken must be one non-empty value")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(tok[0]))
		d.log.Info("bc webhook: subscription handshake answered")
		return
	}
	body, ok := in.body(false)
	if !ok {
		return
	}
	var n struct {
		Value []bcNotice `json:"value"`
	}
	if err := json.Unmarshal(body, &n); err != nil || n.Value == nil {
		reject(http.StatusBadRequest, "malformed", `not a notification: want {"value": [...]}`)
		return
	}
	var valid []bcNotice
	for _, e := range n.Value {
		if bcStateMatches(e.ClientState, d.cfg.BC.ClientState) && e.SubscriptionID != "" && e.Resource != "" && e.ChangeType != "" {
			valid = append(valid, e)
		}
	}
	if len(valid) == 0 && len(n.Value) > 0 {
		reject(http.StatusUnauthorized, "client_state", "no entry carries the subscriptions' clientState")
		return
	}
	if dropped := len(n.Value) - len(valid); dropped > 0 {
		d.metrics.rejected.WithLabelValues(source, "client_state").Add(float64(dropped))
		d.log.Warn("bc webhook: entries without the clientState dropped", "dropped", dropped)
	}
	res := bcResult{}
	for _, e := range valid {
		if err := d.bcTake(r.Context(), client, e, &res); err != nil {
			// Not all stored, so not acknowledged: BC sends the
			// notification again, and what was stored is a duplicate.
			d.log.Error("bc webhook: not taken; BC will send it again", "resource", e.Resource, "err", err)
			if ra := erp.RetryAfter(err); ra > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(ra.Seconds()+0.999)))
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "could not take the notification; retry"})
			return
		}
	}
	if res.accepted > 0 {
		d.metrics.accepted.WithLabelValues(source).Add(float64(res.accepted))
		d.sched.notify()
	}
	if res.duplicates > 0 {
		d.metrics.duplicates.WithLabelValues(source).Add(float64(res.duplicates))
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": true, "accepted": res.accepted, "duplicates": res.duplicates, "ignored": res.ignored})
	d.metrics.ack.Observe(time.Since(start).Seconds())
}

type bcResult struct{ accepted, duplicates, ignored int }

// bcStateMatches compares a notification's clientState with the secret in
// constant time (of the hashes, so the length does not leak either).
func bcStateMatches(got, secret string) bool {
	if got == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// bcTake stores the events of one notification entry. It fails only on
// what a retry may cure: a transient error reading BC, or the store.
func (d *Daemon) bcTake(ctx context.Context, client BCClient, e bcNotice, res *bcResult) error {
	set := engine.BCResourceSet(e.Resource)
	var types []string
	changes := []string{e.ChangeType}
	if e.ChangeType == bcschema.Collection {
		changes = []string{"created", "updated"}
	}
	if p := d.program(); p != nil {
		for _, c := range changes {
			if typ := bcschema.EventName(set, c); len(p.Flows("bc", typ)) > 0 {
				types = append(types, typ)
			}
		}
	}
	if len(types) == 0 {
		res.ignored++
		return nil
	}
	if e.ChangeType != bcschema.Collection {
		id := engine.BCEventID(e.Resource, e.ChangeType, e.LastModified, types[0])
		if d.bcKnown(ctx, id) {
			res.duplicates++
			return nil
		}
		rec := map[string]any{"id": bcRecordID(e.Resource)}
		if e.ChangeType != "deleted" {
			ch, err := client.FetchChanged(ctx, e.Resource)
			if err != nil {
				return d.bcSkip(err, e, res)
			}
			if len(ch.Records) == 0 {
				d.log.Info("bc webhook: the changed record is gone", "resource", e.Resource)
				res.ignored++
				return nil
			}
			rec = bcRecordJSON(ch.Records[0])
		}
		return d.bcStore(ctx, id, types[0], e, e.Resource, e.LastModified, rec, res)
	}
	ch, err := client.FetchChanged(ctx, e.Resource)
	if err != nil {
		return d.bcSkip(err, e, res)
	}
	if len(ch.Resources) != len(ch.Records) {
		return d.bcSkip(&erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("the client answered %d records for %d resources", len(ch.Records), len(ch.Resources))}, e, res)
	}
	for i, r := range ch.Records {
		modified := e.LastModified
		if t, ok := r["lastModifiedDateTime"].(time.Time); ok {
			modified = t.UTC().Format(time.RFC3339Nano)
		}
		rec := bcRecordJSON(r)
		for _, typ := range types {
			id := engine.BCEventID(ch.Resources[i], e.ChangeType, modified, typ)
			if err := d.bcStore(ctx, id, typ, e, ch.Resources[i], modified, rec, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// bcSkip decides about a failed fetch: transient errors are returned (the
// notification is answered 503), others are logged and the entry skipped.
func (d *Daemon) bcSkip(err error, e bcNotice, res *bcResult) error {
	if erp.KindOf(err) == erp.Transient {
		return err
	}
	d.log.Warn("bc webhook: cannot read the changed record; skipped", "resource", e.Resource, "err", err)
	res.ignored++
	return nil
}

// bcKnown reports whether the inbox holds the event already.
func (d *Daemon) bcKnown(ctx context.Context, id string) bool {
	_, err := d.store.Event(ctx, "bc:"+id)
	return err == nil
}

// bcStore stores one change event: the notification's envelope, with the
// record's own resource and modification time, and the record.
func (d *Daemon) bcStore(ctx context.Context, id, typ string, e bcNotice, resource, modified string, rec map[string]any, res *bcResult) error {
	payload, err := json.Marshal(map[string]any{
		"event":                typ,
		"subscriptionId":       e.SubscriptionID,
		"resource":             resource,
		"changeType":           e.ChangeType,
		"lastModifiedDateTime": modified,
		"expirationDateTime":   e.Expiration,
		"record":               rec,
	})
	if err != nil {
		return fmt.Errorf("encoding %s: %w", resource, err)
	}
	dup, err := d.store.Accept(ctx, "bc", id, typ, payload, time.Now())
	if err != nil {
		return err
	}
	if dup {
		res.duplicates++
	} else {
		res.accepted++
	}
	return nil
}

// bcRecordID is the record id a resource ends with, "" for none.
func bcRecordID(resource string) string {
	path, _, _ := strings.Cut(resource, "?")
	i := strings.LastIndexByte(path, '(')
	if i < 0 || !strings.HasSuffix(path, ")") {
		return ""
	}
	return strings.ToLower(strings.Trim(path[i+1:len(path)-1], "'{}"))
}

// bcRecordJSON is a record in the form flows read events in: instants in
// RFC 3339 (UTC), decimals as exact JSON numbers.
func bcRecordJSON(rec erp.Record) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		out[k] = bcJSONValue(v)
	}
	return out
}

func bcJSONValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case decimal.Decimal:
		return json.Number(v.String())
	case erp.Record:
		return bcRecordJSON(v)
	case map[string]any:
		return bcRecordJSON(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = bcJSONValue(x)
		}
		return out
	}
	return v
}
