package paypal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePayPal answers like PayPal's REST API: OAuth2 client credentials and
// verify-webhook-signature, which it decides by verifying offline (the
// recorded certificate, at the recorded time) what it was sent.
type fakePayPal struct {
	t        *testing.T
	verifier *Offline // webhook id replaced per request
	required []string // verify_webhook_signature's required fields, from the spec

	mu        sync.Mutex
	tokens    map[string]bool // valid tokens
	issued    int
	verifies  int
	expiresIn int
	fail      int // when not 0, verify answers this status
	lastEvent []byte
}

func newFakePayPal(t *testing.T) (*fakePayPal, *httptest.Server) {
	f := &fakePayPal{t: t, tokens: map[string]bool{}, expiresIn: 32400}
	var spec struct {
		Components struct {
			Schemas map[string]struct {
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(readFile(t, "testdata/openapi/notifications_webhooks_v1.json"), &spec); err != nil {
		t.Fatal(err)
	}
	f.required = spec.Components.Schemas["verify_webhook_signature"].Required
	if len(f.required) != 7 {
		t.Fatalf("required fields %v", f.required)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+tokenPath, f.token)
	mux.HandleFunc("POST "+verifyPath, f.verify)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakePayPal) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != "client-id" || secret != "client-secret" {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client","error_description":"Client Authentication failed"}`))
		return
	}
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.PostFormValue("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"unsupported_grant_type"}`))
		return
	}
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("A21AA-token-%d", f.issued)
	f.tokens[tok] = true
	expires := f.expiresIn
	f.mu.Unlock()
	fmt.Fprintf(w, `{"scope":"https://uri.paypal.com/services/applications/webhooks","access_token":%q,"token_type":"Bearer","app_id":"APP-80W284485P519543T","expires_in":%d,"nonce":"2024-08-02T19:33:35ZWr3"}`, tok, expires)
}

func (f *fakePayPal) verify(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.verifies++
	valid := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	fail := f.fail
	f.mu.Unlock()
	switch {
	case !valid:
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_token","error_description":"Token signature verification failed"}`))
		return
	case fail != 0:
		w.WriteHeader(fail)
		w.Write([]byte(`{"name":"VALIDATION_ERROR","message":"Invalid request - see details","debug_id":"d1"}`))
		return
	case r.Header.Get("Content-Type") != "application/json":
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	var req map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	for _, k := range f.required {
		if _, ok := req[k]; !ok {
			f.t.Errorf("verify request without %s", k)
		}
	}
	field := func(k string) string {
		var s string
		if err := json.Unmarshal(req[k], &s); err != nil {
			f.t.Errorf("%s: %v", k, err)
		}
		return s
	}
	h := http.Header{}
	h.Set(HeaderTransmissionID, field("transmission_id"))
	h.Set(HeaderTransmissionTime, field("transmission_time"))
	h.Set(HeaderTransmissionSig, field("transmission_sig"))
	h.Set(HeaderCertURL, field("cert_url"))
	h.Set(HeaderAuthAlgo, field("auth_algo"))
	v := *f.verifier
	v.webhookID = field("webhook_id")
	event := []byte(req["webhook_event"])
	f.mu.Lock()
	f.lastEvent = event
	f.mu.Unlock()
	status := "SUCCESS"
	if err := v.Verify(r.Context(), h, event); err != nil {
		status = "FAILURE"
	}
	fmt.Fprintf(w, `{"verification_status":%q}`, status)
}

func (f *fakePayPal) counts() (issued, verifies int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued, f.verifies
}

func (f *fakePayPal) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func newOnline(t *testing.T, srv *httptest.Server, now *time.Time) *Online {
	t.Helper()
	o, err := NewOnline(OnlineConfig{
		BaseURL:   srv.URL,
		ClientID:  "client-id",
		Secret:    "client-secret",
		WebhookID: simulatorWebhookID,
		Client:    srv.Client(),
		Now:       func() time.Time { return *now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOnline verifies the recorded deliveries through a loopback server
// that answers like PayPal, with one token for all of them.
func TestOnline(t *testing.T) {
	f, srv := newFakePayPal(t)
	f.verifier = fixtureVerifier(t, fixtureCerts(t), recordedAt)
	now := recordedAt
	o := newOnline(t, srv, &now)
	ctx := context.Background()
	for _, d := range deliveries(t) {
		if err := o.Verify(ctx, d.header, d.body); err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		f.mu.Lock()
		sent := f.lastEvent
		f.mu.Unlock()
		if !bytes.Equal(sent, d.body) {
			t.Errorf("%s: webhook_event differs from the (compact) body", d.name)
		}
		body := bytes.Clone(d.body)
		body[bytes.Index(body, []byte(`"WH-`))+4] ^= 0x01 // still JSON: a digit of the id
		wantReason(t, o.Verify(ctx, d.header, body), ErrBadSignature)
	}
	if issued, _ := f.counts(); issued != 1 {
		t.Errorf("%d tokens issued, want 1", issued)
	}

	// The token is kept until a minute before it expires.
	now = now.Add(9*time.Hour - 61*time.Second)
	d := deliveries(t)[0]
	if err := o.Verify(ctx, d.header, d.body); err != nil {
		t.Fatal(err)
	}
	if issued, _ := f.counts(); issued != 1 {
		t.Errorf("%d tokens issued before expiry, want 1", issued)
	}
	now = now.Add(2 * time.Second)
	if err := o.Verify(ctx, d.header, d.body); err != nil {
		t.Fatal(err)
	}
	if issued, _ := f.counts(); issued != 2 {
		t.Errorf("%d tokens issued after expiry, want 2", issued)
	}

	// A token PayPal no longer accepts is replaced once.
	f.revokeAll()
	if err := o.Verify(ctx, d.header, d.body); err != nil {
		t.Fatal(err)
	}
	if issued, _ := f.counts(); issued != 3 {
		t.Errorf("%d tokens issued after revocation, want 3", issued)
	}
}

// TestOnlineErrors: what is the sender's fault is a SignatureError, and
// nothing goes to PayPal for a malformed delivery.
func TestOnlineErrors(t *testing.T) {
	ctx := context.Background()
	d := deliveries(t)[0]
	f, srv := newFakePayPal(t)
	f.verifier = fixtureVerifier(t, fixtureCerts(t), recordedAt)
	now := recordedAt
	o := newOnline(t, srv, &now)

	for _, tc := range []struct {
		name   string
		header http.Header
		body   []byte
		want   SignatureError
	}{
		{"disallowed cert URL", set(d.header, HeaderCertURL, "https://api.paypal.com@evil.example/v1/notifications/certs/CERT-1"), d.body, ErrCertURLNotAllowed},
		{"no signature", set(d.header, HeaderTransmissionSig, ""), d.body, ErrMissingHeader},
		{"bad algorithm", set(d.header, HeaderAuthAlgo, "SHA1withRSA"), d.body, ErrUnsupportedAlgo},
		{"body not JSON", d.header, []byte("not json"), ErrMalformedBody},
		{"body an array", d.header, []byte("[]"), ErrMalformedBody},
		{"body null", d.header, []byte("null"), ErrMalformedBody},
	} {
		wantReason(t, o.Verify(ctx, tc.header, tc.body), tc.want)
	}
	if issued, verifies := f.counts(); issued != 0 || verifies != 0 {
		t.Errorf("PayPal was asked (%d tokens, %d verifies) about malformed deliveries", issued, verifies)
	}

	for _, tc := range []struct {
		status      int
		want        SignatureError
		unavailable bool
	}{
		{status: http.StatusBadRequest, want: ErrBadSignature},
		{status: http.StatusUnprocessableEntity, want: ErrBadSignature},
		{status: http.StatusTooManyRequests, unavailable: true},
		{status: http.StatusInternalServerError, unavailable: true},
		{status: http.StatusServiceUnavailable, unavailable: true},
	} {
		f.mu.Lock()
		f.fail = tc.status
		f.mu.Unlock()
		err := o.Verify(ctx, d.header, d.body)
		if tc.unavailable {
			var se SignatureError
			if !errors.Is(err, ErrUnavailable) || errors.As(err, &se) {
				t.Errorf("HTTP %d: got %v, want ErrUnavailable", tc.status, err)
			}
		} else {
			wantReason(t, err, tc.want)
			if !strings.Contains(err.Error(), "VALIDATION_ERROR") {
				t.Errorf("HTTP %d: %v does not give PayPal's error name", tc.status, err)
			}
		}
	}
	f.mu.Lock()
	f.fail = 0
	f.mu.Unlock()

	// Bad credentials are the receiver's problem: not a SignatureError, not
	// unavailable.
	bad, err := NewOnline(OnlineConfig{BaseURL: srv.URL, ClientID: "client-id", Secret: "wrong", WebhookID: "W", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Verify(ctx, d.header, d.body)
	var se SignatureError
	if err == nil || errors.As(err, &se) || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("bad credentials: got %v", err)
	}

	// PayPal unreachable.
	srv.Close()
	if err := newOnline(t, srv, &now).Verify(ctx, d.header, d.body); !errors.Is(err, ErrUnavailable) {
		t.Errorf("server down: got %v, want ErrUnavailable", err)
	}
}

func TestNewOnlineConfig(t *testing.T) {
	good := OnlineConfig{BaseURL: SandboxBaseURL, ClientID: "id", Secret: "s", WebhookID: "W"}
	if _, err := NewOnline(good); err != nil {
		t.Fatal(err)
	}
	for _, mutate := range []func(*OnlineConfig){
		func(c *OnlineConfig) { c.BaseURL = "" },
		func(c *OnlineConfig) { c.BaseURL = "http://api-m.paypal.com" },
		func(c *OnlineConfig) { c.BaseURL = "https://user@api-m.paypal.com" },
		func(c *OnlineConfig) { c.ClientID = "" },
		func(c *OnlineConfig) { c.Secret = "" },
		func(c *OnlineConfig) { c.WebhookID = "" },
	} {
		c := good
		mutate(&c)
		if _, err := NewOnline(c); err == nil {
			t.Errorf("NewOnline(%+v) accepted", c)
		}
	}
}

func TestTokenLife(t *testing.T) {
	for _, tc := range []struct {
		s    int64
		want time.Duration
	}{
		{32400, 9*time.Hour - time.Minute},
		{121, 61 * time.Second},
		{120, time.Minute},
		{10, 5 * time.Second},
		{0, 0},
		{-5, 0},
		{1 << 40, 30*24*time.Hour - time.Minute},
	} {
		if got := tokenLife(tc.s); got != tc.want {
			t.Errorf("tokenLife(%d) = %s, want %s", tc.s, got, tc.want)
		}
	}
}
