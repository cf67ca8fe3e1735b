package bc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/sandbox"
)

// receiver is a notification endpoint: it answers the handshake (unless
// refuse is set) and keeps the notifications.
type receiver struct {
	mu       sync.Mutex
	tokens   int
	refuse   bool
	received []map[string]string
	got      chan struct{}
}

func newReceiver(t *testing.T) (*receiver, string) {
	rc := &receiver{got: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			rc.tokens++
			if rc.refuse {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
			return
		}
		var n struct{ Value []map[string]string }
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			t.Errorf("notification: %v", err)
		}
		rc.received = append(rc.received, n.Value...)
		rc.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return rc, srv.URL + "/webhooks/bc"
}

func (rc *receiver) wait(t *testing.T) []map[string]string {
	t.Helper()
	select {
	case <-rc.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.received
	rc.received = nil
	return out
}

func TestSubscribeRenewNotifyAndDelete(t *testing.T) {
	sb, d, base := start(t, sandbox.Config{BCNotifyDelay: 150 * time.Millisecond, BCMaxNotifications: 2})
	ctx := context.Background()
	rc, hook := newReceiver(t)
	res, err := d.Resource(ctx, "customers")
	if err != nil || !strings.HasPrefix(res, "/api/v2.0/companies(") || !strings.HasSuffix(res, ")/customers") {
		t.Fatalf("resource %q, %v", res, err)
	}
	sub, err := d.Subscribe(ctx, hook, res, "s3cret-state")
	if err != nil {
		t.Fatal(err)
	}
	if sub.ID == "" || sub.ETag == "" || time.Until(sub.Expiration) < 71*time.Hour || rc.tokens != 1 {
		t.Fatalf("subscription %+v after %d handshakes", sub, rc.tokens)
	}

	// A customer created, then updated within the delay: one "created".
	cust, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "customers", Key: "k1", Fields: erp.Record{"number": "C-1", "displayName": "Ada"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write(ctx, erp.Write{Op: erp.Update, Entity: "customers", Fields: erp.Record{"number": "C-1", "email": "ada@example.com"}}); err != nil {
		t.Fatal(err)
	}
	got := rc.wait(t)
	if len(got) != 1 || got[0]["changeType"] != "created" || got[0]["clientState"] != "s3cret-state" || got[0]["subscriptionId"] != sub.ID {
		t.Fatalf("notification %v", got)
	}
	ch, err := d.FetchChanged(ctx, got[0]["resource"])
	if err != nil || ch.Set != "customers" || len(ch.Records) != 1 || ch.Records[0]["id"] != cust["id"] || ch.Records[0]["email"] != "ada@example.com" {
		t.Fatalf("fetched %+v, %v", ch, err)
	}
	if ch.Resources[0] != strings.TrimPrefix(got[0]["resource"], "/") {
		t.Errorf("resource %q, notified %q", ch.Resources[0], got[0]["resource"])
	}

	// More changes than BCMaxNotifications: one collection notice, whose
	// records FetchChanged reads.
	for _, n := range []string{"C-2", "C-3", "C-4"} {
		if _, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "customers", Key: n, Fields: erp.Record{"number": n}}); err != nil {
			t.Fatal(err)
		}
	}
	got = rc.wait(t)
	if len(got) != 1 || got[0]["changeType"] != "collection" || !strings.Contains(got[0]["resource"], "$filter=") {
		t.Fatalf("notification %v", got)
	}
	ch, err = d.FetchChanged(ctx, got[0]["resource"])
	if err != nil || len(ch.Records) != 3 || ch.Records[0]["number"] != "C-2" {
		t.Fatalf("collection %+v, %v", ch, err)
	}

	// Renewal repeats the handshake; a stale ETag is refused.
	renewed, err := d.Renew(ctx, sub)
	if err != nil || renewed.ETag == sub.ETag || rc.tokens != 2 {
		t.Fatalf("renewed %+v, %v (%d handshakes)", renewed, err, rc.tokens)
	}
	if _, err := d.Renew(ctx, sub); err == nil {
		t.Fatal("a renewal with a stale ETag went through")
	}
	list, err := d.Subscriptions(ctx)
	if err != nil || len(list) != 1 || list[0].ClientState != "s3cret-state" || list[0].Resource != res {
		t.Fatalf("subscriptions %+v, %v", list, err)
	}

	// A deleted record is notified as such; a fetch of it finds nothing.
	deleteRecord(t, base, strings.TrimPrefix(res, "/api/v2.0/")+"("+cust["id"].(string)+")")
	got = rc.wait(t)
	if len(got) != 1 || got[0]["changeType"] != "deleted" || !strings.HasSuffix(got[0]["resource"], "("+cust["id"].(string)+")") {
		t.Fatalf("notification %v", got)
	}
	ch, err = d.FetchChanged(ctx, got[0]["resource"])
	if err != nil || len(ch.Records) != 0 {
		t.Fatalf("a deleted record: %+v, %v", ch, err)
	}
	if err := d.Unsubscribe(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	if list, _ := d.Subscriptions(ctx); len(list) != 0 {
		t.Fatalf("left %+v", list)
	}
	if _, err := d.FetchChanged(ctx, "api/v2.0/companies(00000000-0000-0000-0000-000000000001)/customers("+cust["id"].(string)+")"); err == nil {
		t.Error("another company's resource was fetched")
	}
	_ = sb
}

// A subscription is not created when the endpoint fails the handshake.
func TestSubscribeNeedsTheHandshake(t *testing.T) {
	_, d, _ := start(t, sandbox.Config{})
	ctx := context.Background()
	rc, hook := newReceiver(t)
	rc.refuse = true
	res, _ := d.Resource(ctx, "customers")
	if _, err := d.Subscribe(ctx, hook, res, "x"); err == nil || erp.KindOf(err) != erp.Permanent {
		t.Fatalf("subscribed without a handshake: %v", err)
	}
	if _, err := d.Subscribe(ctx, hook, strings.TrimSuffix(res, "customers")+"journalLines", "x"); err == nil {
		t.Fatal("subscribed to a resource BC has no webhooks for")
	}
	if list, err := d.Subscriptions(ctx); err != nil || len(list) != 0 {
		t.Fatalf("subscriptions %+v, %v", list, err)
	}
}

// deleteRecord DELETEs an API path (relative to /api/v2.0/) as a user in
// BC would.
func deleteRecord(t *testing.T, base, path string) {
	t.Helper()
	resp, err := http.PostForm(base+"/test/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"flowd"},
		"client_secret": {"s3cret"}, "scope": {"https://api.businesscentral.dynamics.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/v2.0/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("If-Match", "*")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d", path, resp.StatusCode)
	}
}
