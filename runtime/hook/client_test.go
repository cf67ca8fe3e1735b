package hook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/flowhq/flow/runtime/erp"
)

var clock = time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)

// received is what an endpoint was sent.
type received struct {
	header http.Header
	body   []byte
}

// endpoint is a receiver on loopback that answers with answer and keeps
// what it received.
type endpoint struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	last *received
}

func newEndpoint(t *testing.T, answer http.HandlerFunc) *endpoint {
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the delivery: %v", err)
		}
		e.mu.Lock()
		e.got = append(e.got, received{r.Header.Clone(), body})
		e.mu.Unlock()
		if r.Method != http.MethodPost {
			t.Errorf("method %s, want POST", r.Method)
		}
		answer(w, r)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) deliveries() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.got...)
}

func newClient(t *testing.T, e *endpoint, secret string) *Client {
	t.Helper()
	c, err := New(Config{URL: e.URL + "/hooks/dunning", Secret: secret, HTTP: e.Client(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }

func dunning(key string) erp.Write {
	return erp.Write{Op: erp.Create, Entity: "Notice", Key: key, Fields: erp.Record{
		"topic":   "dunning.declined",
		"subject": "Payment declined for invoice INV-1",
		"text":    "DECLINE - Do not honor",
		"fields":  map[string]any{"invoice": "INV-1", "attempt": "2"},
	}}
}

func kindOf(t *testing.T, err error) *erp.Error {
	t.Helper()
	var e *erp.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *erp.Error", err, err)
	}
	return e
}

// A delivery carries the notice as JSON, its id twice and a signature
// Verify accepts; a changed byte fails it.
func TestDelivery(t *testing.T) {
	e := newEndpoint(t, ok)
	c := newClient(t, e, "whsec_test")
	rec, err := c.Write(context.Background(), dunning("dunning:INV-1:2"))
	if err != nil {
		t.Fatal(err)
	}
	id := DeliveryID("Notice", "dunning:INV-1:2")
	if !regexp.MustCompile(`^ntc_[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("id %q, want ntc_ and 32 hex digits", id)
	}
	if rec["id"] != id || rec["status"] != int64(202) || rec["delivered_at"] != clock {
		t.Errorf("record %v", rec)
	}
	got := e.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	for h, want := range map[string]string{"Content-Type": "application/json", "Idempotency-Key": id, "User-Agent": "flowd"} {
		if v := d.header.Get(h); v != want {
			t.Errorf("%s: %q, want %q", h, v, want)
		}
	}
	var body map[string]any
	if err := json.Unmarshal(d.body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": id, "topic": "dunning.declined", "subject": "Payment declined for invoice INV-1", "text": "DECLINE - Do not honor",
		"fields": map[string]any{"invoice": "INV-1", "attempt": "2"}, "sent_at": "2024-05-01T09:30:00Z",
	}
	if b, w := mustJSON(body), mustJSON(want); b != w {
		t.Errorf("body %s\nwant %s", b, w)
	}
	sig := d.header.Get("Flow-Signature")
	if !strings.HasPrefix(sig, "t=1714555800,v1=") {
		t.Errorf("Flow-Signature %q", sig)
	}
	if err := Verify("whsec_test", sig, d.body, clock.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	changed := append([]byte(nil), d.body...)
	changed[len(changed)-3] ^= 1
	for name, err := range map[string]error{
		"a changed byte":   Verify("whsec_test", sig, changed, clock, 5*time.Minute),
		"another secret":   Verify("whsec_other", sig, d.body, clock, 5*time.Minute),
		"too late":         Verify("whsec_test", sig, d.body, clock.Add(6*time.Minute), 5*time.Minute),
		"no header":        Verify("whsec_test", "", d.body, clock, 5*time.Minute),
		"no signature":     Verify("whsec_test", "t=1714555800", d.body, clock, 5*time.Minute),
		"no secret":        Verify("", sig, d.body, clock, 5*time.Minute),
		"a changed header": Verify("whsec_test", strings.Replace(sig, "t=1714555800", "t=1714555801", 1), d.body, clock, 5*time.Minute),
	} {
		if !errors.Is(err, ErrSignature) {
			t.Errorf("%s: Verify = %v, want ErrSignature", name, err)
		}
	}
	// A rotated secret: the receiver accepts any v1 that matches.
	if err := Verify("whsec_test", "v1=00ff,"+sig, d.body, clock, 0); err != nil {
		t.Errorf("Verify with two signatures: %v", err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Without a secret a delivery is unsigned.
func TestUnsigned(t *testing.T) {
	e := newEndpoint(t, ok)
	if _, err := newClient(t, e, "").Write(context.Background(), dunning("k")); err != nil {
		t.Fatal(err)
	}
	if got := e.deliveries(); len(got) != 1 || got[0].header.Get("Flow-Signature") != "" {
		t.Errorf("deliveries %v, want one unsigned", got)
	}
}

// Every attempt of one key carries the same id; another key another.
func TestSameKeySameID(t *testing.T) {
	e := newEndpoint(t, ok)
	c := newClient(t, e, "s")
	for _, key := range []string{"dunning:INV-1:2", "dunning:INV-1:2", "dunning:INV-1:3"} {
		if _, err := c.Write(context.Background(), dunning(key)); err != nil {
			t.Fatal(err)
		}
	}
	got := e.deliveries()
	ids := []string{}
	for _, d := range got {
		var body struct{ ID string }
		_ = json.Unmarshal(d.body, &body)
		if body.ID != d.header.Get("Idempotency-Key") {
			t.Errorf("id %q, Idempotency-Key %q", body.ID, d.header.Get("Idempotency-Key"))
		}
		ids = append(ids, body.ID)
	}
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] == ids[2] {
		t.Errorf("ids %v, want the first two the same", ids)
	}
	if rec, found, err := c.Find(context.Background(), dunning("dunning:INV-1:2")); rec != nil || found || err != nil {
		t.Errorf("Find = %v, %v, %v: a hook cannot be asked", rec, found, err)
	}
}

func TestAnswers(t *testing.T) {
	long := "x" + strings.Repeat("é", 150) // 301 bytes: byte 200 is inside a rune
	for _, tc := range []struct {
		name      string
		answer    http.HandlerFunc
		kind      erp.Kind
		status    int
		retry     time.Duration
		inMessage string
	}{
		{"500", status(500, "", "boom"), erp.Transient, 500, 0, "HTTP 500: boom"},
		{"503 with Retry-After", status(503, "30", ""), erp.Transient, 503, 30 * time.Second, "HTTP 503"},
		{"429 with Retry-After", status(429, "7", "slow down"), erp.Transient, 429, 7 * time.Second, "HTTP 429"},
		{"408", status(408, "", ""), erp.Transient, 408, 0, "HTTP 408"},
		{"425", status(425, "", ""), erp.Transient, 425, 0, "HTTP 425"},
		{"400", status(400, "", "topic not routed: dunning.declined\nsecond line"), erp.Permanent, 400, 0, "HTTP 400: topic not routed: dunning.declined"},
		{"404 with a long body", status(404, "", long), erp.Permanent, 404, 0, "HTTP 404: x" + strings.Repeat("é", 99)},
		{"a redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, erp.Permanent, 302, 0, "HTTP 302: the endpoint redirects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEndpoint(t, tc.answer)
			_, err := newClient(t, e, "s").Write(context.Background(), dunning("k"))
			got := kindOf(t, err)
			if got.Kind != tc.kind || got.Status != tc.status || got.RetryAfter != tc.retry || !strings.Contains(got.Message, tc.inMessage) {
				t.Errorf("error %+v, want %v, status %d, retry after %v, %q", got, tc.kind, tc.status, tc.retry, tc.inMessage)
			}
			if strings.Contains(got.Message, "second line") || strings.Contains(got.Message, "x"+strings.Repeat("é", 100)) {
				t.Errorf("message %q quotes more than the first line's 200 bytes", got.Message)
			}
			if strings.Contains(got.Error(), "/hooks/dunning") {
				t.Errorf("error %q repeats the URL's path", got.Error())
			}
			if n := len(e.deliveries()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func status(code int, retryAfter, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// An endpoint that reads the delivery, then drops the connection: it may
// have acted on it, so the write is in doubt.
func TestAnswerLost(t *testing.T) {
	e := newEndpoint(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	})
	_, err := newClient(t, e, "s").Write(context.Background(), dunning("k"))
	if got := kindOf(t, err); got.Kind != erp.InDoubt || strings.Contains(got.Error(), "/hooks/dunning") {
		t.Errorf("error %v, want in doubt, without the URL's path", err)
	}
	if len(e.deliveries()) == 0 {
		t.Error("nothing was received")
	}
}

// A delivery the endpoint never saw (nothing listens) is transient.
func TestNotSent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Config{URL: "http://" + addr + "/hooks/dunning"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Write(context.Background(), dunning("k"))
	if got := kindOf(t, err); got.Kind != erp.Transient {
		t.Errorf("error %v, want transient", err)
	}
}

// What the endpoint could not take fails before anything is sent.
func TestRefusedBeforeSending(t *testing.T) {
	e := newEndpoint(t, ok)
	c := newClient(t, e, "s")
	withField := func(name string, v any) erp.Write {
		w := dunning("k")
		w.Fields = erp.Record{"topic": "t"}
		w.Fields[name] = v
		return w
	}
	for _, tc := range []struct {
		name string
		w    erp.Write
		want string
	}{
		{"an unknown field", withField("body", "x"), `no parameter "body"`},
		{"no topic", erp.Write{Op: erp.Create, Entity: "Notice", Key: "k", Fields: erp.Record{"text": "x"}}, "needs a topic"},
		{"a long topic", withField("topic", strings.Repeat("x", 101)), "topic: 101 characters, at most 100"},
		{"a long subject", withField("subject", strings.Repeat("ü", 256)), "subject: 256 characters, at most 255"},
		{"a number in fields", withField("fields", map[string]any{"attempt": int64(2)}), `fields["attempt"]: want a string, got int64`},
		{"a number for text", withField("text", int64(2)), "text: want a string, got int64"},
		{"an update", erp.Write{Op: erp.Update, Entity: "Notice", Key: "k", Fields: erp.Record{"topic": "t"}}, "can only create"},
		{"another object", erp.Write{Op: erp.Create, Entity: "Refund", Key: "k", Fields: erp.Record{"topic": "t"}}, "cannot create Refund"},
		{"no key", erp.Write{Op: erp.Create, Entity: "Notice", Fields: erp.Record{"topic": "t"}}, "without an idempotency key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Write(context.Background(), tc.w)
			if got := kindOf(t, err); got.Kind != erp.Permanent || !strings.Contains(got.Message, tc.want) {
				t.Errorf("error %v, want permanent, %q", err, tc.want)
			}
		})
	}
	if n := len(e.deliveries()); n != 0 {
		t.Errorf("%d deliveries, want none", n)
	}
	if _, _, err := c.Lookup(context.Background(), "Notice", nil); kindOf(t, err).Kind != erp.Permanent {
		t.Errorf("Lookup: %v, want permanent", err)
	}
	if _, _, err := c.PostJournal(context.Background(), erp.Journal{}); kindOf(t, err).Kind != erp.Permanent {
		t.Errorf("PostJournal: %v, want permanent", err)
	}
}

// Fields come as the engine hands them over (map[string]any), as Go code
// writes them (map[string]string) or as CEL values.
func TestFieldValues(t *testing.T) {
	e := newEndpoint(t, ok)
	c := newClient(t, e, "")
	celMap := types.NewRefValMap(types.DefaultTypeAdapter, map[ref.Val]ref.Val{types.String("invoice"): types.String("INV-1")})
	for _, f := range []erp.Record{
		{"topic": "t", "fields": map[string]string{"invoice": "INV-1"}},
		{"topic": types.String("t"), "fields": map[string]any{"invoice": types.String("INV-1")}},
		{"topic": "t", "fields": celMap},
	} {
		if _, err := c.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "Notice", Key: "k", Fields: f}); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
	}
	for _, d := range e.deliveries() {
		var body struct {
			Topic  string
			Fields map[string]string
		}
		if err := json.Unmarshal(d.body, &body); err != nil || body.Topic != "t" || body.Fields["invoice"] != "INV-1" {
			t.Errorf("body %s", d.body)
		}
	}
	// No fields: an empty object, never null.
	if _, err := c.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "Notice", Key: "k2", Fields: erp.Record{"topic": "t"}}); err != nil {
		t.Fatal(err)
	}
	got := e.deliveries()
	if last := string(got[len(got)-1].body); !strings.Contains(last, `"fields":{}`) {
		t.Errorf("body %s, want an empty fields object", last)
	}
}

func TestNewRefusesURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://example.com/", "http://10.0.0.8/x", "example.com/hooks", "https:///x"} {
		if _, err := New(Config{URL: u}); err == nil || !strings.HasPrefix(err.Error(), "hook: url: ") {
			t.Errorf("New(%q) = %v, want a url error", u, err)
		}
	}
	for _, u := range []string{"https://example.com/hooks", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:8080/x"} {
		c, err := New(Config{URL: u})
		if err != nil {
			t.Errorf("New(%q): %v", u, err)
			continue
		}
		if c.http.Timeout != 30*time.Second {
			t.Errorf("default timeout %v, want 30s", c.http.Timeout)
		}
	}
}
