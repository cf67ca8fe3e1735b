package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/bc"
	"github.com/flowhq/flow/runtime/erp/sandbox"
	"github.com/flowhq/flow/runtime/gateway/stripe"
	"github.com/flowhq/flow/runtime/internal/stripemock"
	"github.com/flowhq/flow/runtime/store"
)

const bcClientState = "bc-client-st4te"

// bcHarness is flowd on the stripe_bc flows with Business Central
// webhooks on, against the bc sandbox (notifying after 20 ms) and
// stripe-mock. It does not use the ERP test table (erps_test.go): these
// tests are about Business Central alone.
type bcHarness struct {
	t   *testing.T
	d   *Daemon
	st  *store.Store
	sb  *sandbox.Server
	drv *bc.Driver
	url string
	// skew is added to the time of the sandbox and of the subscription
	// manager's clock (now): a fake clock both agree on.
	skew atomic.Int64
}

func (h *bcHarness) now() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }

func startBC(t *testing.T) *bcHarness {
	t.Helper()
	dir := t.TempDir()
	h := &bcHarness{t: t}
	sb, err := sandbox.New(sandbox.Config{Dialect: "bc", Path: filepath.Join(dir, "sandbox.db"), ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test",
		BCNotifyDelay: 20 * time.Millisecond, Now: h.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	drv, err := bc.New(bc.Config{BaseURL: base + "/api/v2.0", TokenURL: base + "/test/oauth2/v2.0/token", ClientID: "flowd", ClientSecret: "s3cret",
		Timeout: 5 * time.Second, Company: sandbox.DefaultBCCompany})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d, err := New(Config{Flows: "../../flows/stripe_bc", Company: sandbox.DefaultBCCompany, Store: st, ERP: drv, StripeSecrets: []string{secret},
		Lists:  map[string]engine.Lister{"stripe": stripe.NewClient("sk_test_123", stripemock.Start(t), nil)},
		BC:     &BCWebhooks{ClientState: bcClientState},
		Retry:  Retry{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond, MaxAttempts: 10, WaitPoll: 20 * time.Millisecond},
		Grace:  5 * time.Second,
		Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	h.d, h.st, h.sb, h.drv, h.url = d, st, sb, drv, "http://"+ln.Addr().String()
	return h
}

// postBC calls /webhooks/bc as Business Central does.
func (h *bcHarness) postBC(query, body string) (int, string, http.Header) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+"/webhooks/bc"+query, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (h *bcHarness) bcEvents() []*store.Event {
	h.t.Helper()
	evs, err := h.st.Events(context.Background(), store.Filter{Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*store.Event
	for _, e := range evs {
		if e.Source == "bc" {
			out = append(out, e)
		}
	}
	return out
}

// settle waits until no event has work left that could run soon.
func (h *bcHarness) settle(timeout time.Duration) map[store.Status]int {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := h.st.Counts(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		if c[store.Received]+c[store.Running]+c[store.Retry] == 0 || time.Now().After(deadline) {
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// notice is a notification with one entry.
func notice(state, resource, changeType, modified string) string {
	return `{"value": [` + entry(state, resource, changeType, modified) + `]}`
}

func entry(state, resource, changeType, modified string) string {
	return `{"subscriptionId": "c670ea73cacb459bb51dc1740da2f1db", "clientState": "` + state + `", "expirationDateTime": "2030-01-01T00:00:00Z", "resource": "` +
		resource + `", "changeType": "` + changeType + `", "lastModifiedDateTime": "` + modified + `"}`
}

func TestBCWebhookNotConfigured(t *testing.T) {
	h := startBC(t)
	h.d.cfg.BC = nil // before any request: read without a lock
	if code, body, _ := h.postBC("?validationToken=abc", ""); code != http.StatusNotFound || !strings.Contains(body, "not_configured") {
		t.Fatalf("HTTP %d %s", code, body)
	}
}

// The handshake echoes the token; notifications must carry the
// clientState; a change is fetched and stored once however often BC
// sends it; what no flow wants, or what is gone, is acknowledged and
// skipped (any other answer would make BC delete the subscription).
func TestBCWebhookHandshakeClientStateAndDuplicates(t *testing.T) {
	h := startBC(t)
	ctx := context.Background()
	code, body, hdr := h.postBC("?validationToken=Zm9vYmFy-token", "")
	if code != http.StatusOK || body != "Zm9vYmFy-token" || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("handshake: HTTP %d %q %v", code, body, hdr)
	}
	drv := h.drv
	cust, err := drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "customers", Key: "t", Fields: erp.Record{"number": "C-7", "displayName": "Contoso", "email": "ap@contoso.example"}})
	if err != nil {
		t.Fatal(err)
	}
	coll, err := drv.Resource(ctx, "customers")
	if err != nil {
		t.Fatal(err)
	}
	res := strings.TrimPrefix(coll, "/") + "(" + cust["id"].(string) + ")"
	good := notice(bcClientState, res, "created", "2024-07-03T09:46:40.467Z")

	for _, c := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"wrong clientState", notice("nope", res, "created", "2024-07-03T09:46:40.467Z"), http.StatusUnauthorized, "client_state"},
		{"no clientState", notice("", res, "created", "2024-07-03T09:46:40.467Z"), http.StatusUnauthorized, "client_state"},
		{"not JSON", "{", http.StatusBadRequest, "malformed"},
		{"no value", `{"x": 1}`, http.StatusBadRequest, "malformed"},
		{"a set no flow wants", notice(bcClientState, strings.Replace(res, "/customers(", "/salesInvoices(", 1), "created", "2024-07-03T09:46:41Z"), http.StatusOK, `"ignored": 1`},
		{"a change no flow wants", notice(bcClientState, res, "deleted", "2024-07-03T09:46:42Z"), http.StatusOK, `"ignored": 1`},
		{"a record gone since", notice(bcClientState, strings.TrimPrefix(coll, "/")+"(00000000-0000-4000-a000-000000000001)", "created", "2024-07-03T09:46:43Z"), http.StatusOK, `"ignored": 1`},
		{"another company", notice(bcClientState, "api/v2.0/companies(00000000-0000-4000-a000-000000000002)/customers("+cust["id"].(string)+")", "created", "2024-07-03T09:46:44Z"), http.StatusOK, `"ignored": 1`},
	} {
		code, body, _ := h.postBC("", c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: HTTP %d %s, want %d with %q", c.name, code, body, c.code, c.want)
		}
	}
	if evs := h.bcEvents(); len(evs) != 0 {
		t.Fatalf("stored %d events", len(evs))
	}
	if code, body, _ := h.postBC("", good); code != http.StatusOK || !strings.Contains(body, `"accepted": 1`) {
		t.Fatalf("first: HTTP %d %s", code, body)
	}
	// Sent again, beside an entry with a wrong clientState: a duplicate,
	// and the stranger is dropped.
	again := `{"value": [` + entry("nope", res, "created", "2024-07-03T09:50:00Z") + `, ` + entry(bcClientState, res, "created", "2024-07-03T09:46:40.467Z") + `]}`
	if code, body, _ := h.postBC("", again); code != http.StatusOK || !strings.Contains(body, `"duplicates": 1`) || !strings.Contains(body, `"accepted": 0`) {
		t.Fatalf("again: HTTP %d %s", code, body)
	}
	evs := h.bcEvents()
	if len(evs) != 1 || evs[0].Type != "customers.created" {
		t.Fatalf("events %+v", evs)
	}
	payload, err := h.st.Payload(ctx, evs[0].Seq)
	if err != nil || !strings.Contains(string(payload), `"number":"C-7"`) || strings.Contains(string(payload), bcClientState) {
		t.Fatalf("payload %s, %v", payload, err)
	}
	if c := h.settle(20 * time.Second); c[store.Done] != 1 || c[store.Dead] != 0 {
		t.Fatalf("statuses %v", c)
	}
}

// End to end: flowd subscribes, a customer is created in Business
// Central, BC notifies, flowd fetches the customer and the flow makes it a
// Stripe customer; the customer that came from Stripe is not sent back.
func TestBCCustomerCreatedInBCBecomesAStripeCustomer(t *testing.T) {
	h := startBC(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.d.RunBCSubscriptions(ctx, BCSubscriptionOptions{NotificationURL: h.url + "/webhooks/bc"})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunBCSubscriptions: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.sb.BCSubscriptions()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no subscription")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if subs := h.sb.BCSubscriptions(); len(subs) != 1 || !strings.HasSuffix(subs[0].Resource, "/customers") {
		t.Fatalf("subscriptions %+v", subs)
	}
	drv := h.drv
	for _, f := range []erp.Record{
		{"number": "C-100", "displayName": "Contoso", "email": "ap@contoso.example"},
		{"number": "cus_00000000000042", "displayName": "From Stripe", "email": "s@example.com"},
	} {
		if _, err := drv.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "customers", Key: f["number"].(string), Fields: f}); err != nil {
			t.Fatal(err)
		}
	}
	for len(h.bcEvents()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d events stored", len(h.bcEvents()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c := h.settle(20 * time.Second); c[store.Done] != 1 || c[store.Skipped] != 1 || c[store.Dead] != 0 {
		t.Fatalf("statuses %v", c)
	}
	rec, ok, err := h.st.Get(context.Background(), "bc-cust:C-100")
	if err != nil || !ok || rec["object"] != "customer" || !strings.HasPrefix(rec["id"].(string), "cus_") {
		t.Fatalf("ledger: %v %v %v", rec, ok, err)
	}
	if _, ok, _ := h.st.Get(context.Background(), "bc-cust:cus_00000000000042"); ok {
		t.Fatal("a customer from Stripe was sent back to it")
	}
}

// Subscriptions are renewed before they expire (on a fake clock), kept
// otherwise; subscriptions to other URLs are left alone.
func TestBCSubscriptionsRenewBeforeExpiry(t *testing.T) {
	h := startBC(t)
	ctx := context.Background()
	opts := BCSubscriptionOptions{NotificationURL: h.url + "/webhooks/bc", Now: h.now}
	res, err := h.d.SyncBCSubscriptions(ctx, opts)
	if err != nil || res != (BCSync{Created: 1}) {
		t.Fatalf("first pass %+v, %v", res, err)
	}
	first := h.sb.BCSubscriptions()
	if res, err := h.d.SyncBCSubscriptions(ctx, opts); err != nil || res != (BCSync{Kept: 1}) {
		t.Fatalf("second pass %+v, %v", res, err)
	}
	if n := h.sb.Requests()["PATCH subscriptions"]; n != 0 {
		t.Fatalf("%d renewals of a fresh subscription", n)
	}
	// A day and a bit later, the subscription expires within two days.
	h.skew.Store(int64(25 * time.Hour))
	if res, err := h.d.SyncBCSubscriptions(ctx, opts); err != nil || res != (BCSync{Renewed: 1}) {
		t.Fatalf("a day later %+v, %v", res, err)
	}
	after := h.sb.BCSubscriptions()
	if len(after) != 1 || after[0].ID != first[0].ID || after[0].Expires.Before(first[0].Expires) || h.sb.Requests()["PATCH subscriptions"] != 1 {
		t.Fatalf("before %+v, after %+v", first, after)
	}
	// Another flowd's subscription (another URL) is not ours to touch.
	other := opts
	other.NotificationURL = h.url + "/webhooks/bc?other"
	if _, err := h.drv.Subscribe(ctx, other.NotificationURL, after[0].Resource, bcClientState); err != nil {
		t.Fatal(err)
	}
	if res, err := h.d.SyncBCSubscriptions(ctx, opts); err != nil || res != (BCSync{Kept: 1}) {
		t.Fatalf("beside another %+v, %v", res, err)
	}
	if n := len(h.sb.BCSubscriptions()); n != 2 {
		t.Fatalf("%d subscriptions", n)
	}
}
