package paypal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCertURL is where the test PKI's leaf is served.
const testCertURL = "https://api.paypal.com/v1/notifications/certs/CERT-test"

// TestVerifyOverLoopbackTLS fetches the certificate over real HTTPS: a
// loopback TLS server with a certificate for api.paypal.com (from the test
// PKI), reached by a client whose dialer sends every connection to it. The
// production host allow-list stays in force; only DNS is replaced.
func TestVerifyOverLoopbackTLS(t *testing.T) {
	p := testPKI(t)
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Method != http.MethodGet || r.Host != "api.paypal.com" || r.URL.Path != "/v1/notifications/certs/CERT-test" {
			http.NotFound(w, r)
			return
		}
		w.Write(append(bytes.Clone(p.leafPEM), p.interPEM...)) // the leaf, then its CA
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.serverTLS}}
	srv.StartTLS()
	defer srv.Close()

	var dialed []string
	var mu sync.Mutex
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, addr)
			mu.Unlock()
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		},
		TLSClientConfig: &tls.Config{RootCAs: p.roots},
	}}
	defer client.CloseIdleConnections()
	v, err := NewOffline(OfflineConfig{
		WebhookID: testWebhookID,
		Client:    client,
		Now:       func() time.Time { return pkiNow },
		Roots:     p.roots,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h := p.signed(t, nil, testCertURL, testBody)
	for range 2 {
		if err := v.Verify(ctx, h, testBody); err != nil {
			t.Fatal(err)
		}
	}
	wantReason(t, v.Verify(ctx, h, append(bytes.Clone(testBody), ' ')), ErrBadSignature)
	wantReason(t, v.Verify(ctx, p.signed(t, p.otherKey, testCertURL, testBody), testBody), ErrBadSignature)
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (cached)", n)
	}
	if len(dialed) != 1 || dialed[0] != "api.paypal.com:443" {
		t.Errorf("dialed %v, want [api.paypal.com:443]", dialed)
	}
}

// serve returns a transport serving the PEMs by certificate id, counting
// requests by host.
func serve(pems map[string][]byte) (*handlerTransport, *sync.Map) {
	hosts := &sync.Map{}
	return &handlerTransport{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := hosts.LoadOrStore(r.URL.Host, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		data, ok := pems[strings.TrimPrefix(r.URL.Path, certPath)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	})}, hosts
}

func testVerifier(t *testing.T, rt http.RoundTripper, cfg OfflineConfig) *Offline {
	t.Helper()
	cfg.WebhookID = testWebhookID
	cfg.Client = &http.Client{Transport: rt}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return pkiNow }
	}
	if cfg.Roots == nil {
		cfg.Roots = testPKI(t).roots
	}
	v, err := NewOffline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCertChecks varies the served certificate.
func TestCertChecks(t *testing.T) {
	p := testPKI(t)
	chain := func(leaf []byte) []byte { return append(bytes.Clone(leaf), p.interPEM...) }
	shortInter, err := makeCert(caTemplate("Flow Test Issuing CA", time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC)),
		p.root, p.rootKey, &p.interKey.PublicKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	interPool := x509.NewCertPool()
	interPool.AddCert(p.inter)

	tests := []struct {
		name  string
		pem   []byte
		inter *x509.CertPool
		roots *x509.CertPool
		want  SignatureError
	}{
		{name: "leaf and CA", pem: chain(p.leafPEM)},
		{name: "leaf alone, CA injected", pem: p.leafPEM, inter: interPool},
		{name: "leaf alone", pem: p.leafPEM, want: ErrBadCert},
		{name: "system roots do not know the test root", pem: chain(p.leafPEM), roots: digicertRoots(t), want: ErrBadCert},
		{name: "common name only", pem: chain(p.leaf(t, leafTemplate("messageverificationcerts.paypal.com", ""), nil))},
		{name: "SAN only", pem: chain(p.leaf(t, leafTemplate("PayPal", "messageverificationcerts.paypal.com"), nil))},
		{name: "sandbox", pem: chain(p.leaf(t, leafTemplate("messageverificationcerts.sandbox.paypal.com", "messageverificationcerts.sandbox.paypal.com"), nil))},
		{name: "other name", pem: chain(p.leaf(t, leafTemplate("api.paypal.com", "api.paypal.com"), nil)), want: ErrBadCert},
		{name: "name as a suffix", pem: chain(p.leaf(t, leafTemplate("messageverificationcerts.paypal.com.evil.example", "messageverificationcerts.paypal.com.evil.example"), nil)), want: ErrBadCert},
		{name: "self-signed", pem: mustSelfSigned(t, p), want: ErrBadCert},
		{name: "CA expired during the leaf's window", pem: append(bytes.Clone(p.leafPEM), pemOf(shortInter)...), want: ErrCertExpired},
		{name: "ECDSA key", pem: chain(p.leaf(t, leafTemplate("messageverificationcerts.paypal.com", ""), ecdsaKey(t))), want: ErrBadCert},
		{name: "1024-bit key", pem: chain(p.leaf(t, leafTemplate("messageverificationcerts.paypal.com", ""), &smallKey.PublicKey)), want: ErrBadCert},
		{name: "empty", pem: []byte{}, want: ErrBadCert},
		{name: "not PEM", pem: []byte("<html>hello</html>"), want: ErrBadCert},
		{name: "PEM of a key", pem: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), want: ErrBadCert},
		{name: "PEM of garbage", pem: []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), want: ErrBadCert},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, _ := serve(map[string][]byte{"CERT-test": tc.pem})
			v := testVerifier(t, rt, OfflineConfig{Intermediates: tc.inter, Roots: tc.roots})
			err := v.Verify(context.Background(), p.signed(t, nil, testCertURL, testBody), testBody)
			wantReason(t, err, tc.want)
			if tc.want != "" && v.cache.len() != 0 {
				t.Error("a rejected certificate was cached")
			}
		})
	}
}

func mustSelfSigned(t *testing.T, p *pki) []byte {
	t.Helper()
	c, err := makeCert(leafTemplate("messageverificationcerts.paypal.com", "messageverificationcerts.paypal.com"), nil, nil, &p.leafKey.PublicKey, p.leafKey)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(c)
}

// TestFetch: how fetch failures are told apart (the sender's fault, a
// SignatureError, or the network's, ErrUnavailable), redirects, limits,
// and that failures are not cached.
func TestFetch(t *testing.T) {
	p := testPKI(t)
	good := append(bytes.Clone(p.leafPEM), p.interPEM...)
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		cfg         OfflineConfig
		want        SignatureError
		unavailable bool
	}{
		{name: "200", handler: func(w http.ResponseWriter, r *http.Request) { w.Write(good) }},
		{name: "404", handler: http.NotFound, want: ErrCertUnavailable},
		{name: "403", handler: status(403), want: ErrCertUnavailable},
		{name: "500", handler: status(500), unavailable: true},
		{name: "503", handler: status(503), unavailable: true},
		{name: "429", handler: status(429), unavailable: true},
		{name: "over the size limit", handler: func(w http.ResponseWriter, r *http.Request) { w.Write(good) },
			cfg: OfflineConfig{MaxCertSize: int64(len(good) - 1)}, want: ErrCertUnavailable},
		{name: "at the size limit", handler: func(w http.ResponseWriter, r *http.Request) { w.Write(good) },
			cfg: OfflineConfig{MaxCertSize: int64(len(good))}},
		{name: "redirect to another PayPal certificate", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Host == "api.sandbox.paypal.com" {
				w.Write(good)
				return
			}
			http.Redirect(w, r, "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-moved", http.StatusFound)
		}},
		{name: "redirect off PayPal", handler: redirectTo("https://evil.example/cert.pem"), want: ErrCertUnavailable},
		{name: "redirect to http", handler: redirectTo("http://api.paypal.com/v1/notifications/certs/CERT-test"), want: ErrCertUnavailable},
		{name: "redirect loop", handler: redirectTo(testCertURL), want: ErrCertUnavailable},
		{name: "timeout", handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			cfg: OfflineConfig{FetchTimeout: 20 * time.Millisecond}, unavailable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evil atomic.Int32
			rt := &handlerTransport{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !allowedCertHost(r.URL.Host) || r.URL.Scheme != "https" {
					evil.Add(1)
				}
				tc.handler(w, r)
			})}
			v := testVerifier(t, rt, tc.cfg)
			h := p.signed(t, nil, testCertURL, testBody)
			err := v.Verify(context.Background(), h, testBody)
			if tc.unavailable {
				var se SignatureError
				if !errors.Is(err, ErrUnavailable) || errors.As(err, &se) {
					t.Fatalf("got %v, want ErrUnavailable", err)
				}
			} else {
				wantReason(t, err, tc.want)
			}
			if evil.Load() != 0 {
				t.Error("followed a redirect off PayPal's https hosts")
			}
			if err != nil {
				before := rt.calls.Load()
				v.Verify(context.Background(), h, testBody)
				if rt.calls.Load() == before {
					t.Error("a failed fetch was cached")
				}
			}
		})
	}

	// A transport failure is the network's fault.
	v := testVerifier(t, roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	}), OfflineConfig{})
	if err := v.Verify(context.Background(), p.signed(t, nil, testCertURL, testBody), testBody); !errors.Is(err, ErrUnavailable) {
		t.Errorf("transport failure: got %v, want ErrUnavailable", err)
	}
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Error(w, http.StatusText(code), code) }
}

func redirectTo(u string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, u, http.StatusFound) }
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCacheBounded: the cache keeps at most CacheSize certificates, by
// URL, dropping the oldest.
func TestCacheBounded(t *testing.T) {
	p := testPKI(t)
	good := append(bytes.Clone(p.leafPEM), p.interPEM...)
	rt, _ := serve(map[string][]byte{"CERT-a": good, "CERT-b": good, "CERT-c": good})
	v := testVerifier(t, rt, OfflineConfig{CacheSize: 2})
	ctx := context.Background()
	for _, id := range []string{"CERT-a", "CERT-b", "CERT-a", "CERT-c", "CERT-b", "CERT-a"} {
		if err := v.Verify(ctx, p.signed(t, nil, certPathURL(id), testBody), testBody); err != nil {
			t.Fatal(err)
		}
	}
	// a, b fetched; a hit; c evicts a; b hit; a evicts b.
	if n := rt.calls.Load(); n != 4 {
		t.Errorf("%d fetches, want 4", n)
	}
	if n := v.cache.len(); n != 2 {
		t.Errorf("cache holds %d, want 2", n)
	}
}

func certPathURL(id string) string { return "https://api.paypal.com" + certPath + id }

// TestVerifyConcurrent: one verifier, many requests at once (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	p := testPKI(t)
	good := append(bytes.Clone(p.leafPEM), p.interPEM...)
	rt, _ := serve(map[string][]byte{"CERT-a": good, "CERT-b": good, "CERT-c": good})
	v := testVerifier(t, rt, OfflineConfig{CacheSize: 2})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := []string{"CERT-a", "CERT-b", "CERT-c"}[i%3]
			if err := v.Verify(context.Background(), p.signed(t, nil, certPathURL(id), testBody), testBody); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// TestBundledIntermediate: the embedded CA is DigiCert SHA2 Extended
// Validation Server CA and issued the recorded PayPal certificate.
func TestBundledIntermediate(t *testing.T) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(digicertEV) {
		t.Fatal("no certificate in digicert_sha2_ev_server_ca.pem")
	}
	leaf, err := verifyCert(readFile(t, signedDir+"/CERT-360caa42-fca2a594-1a5f47cb.pem"),
		chainOptions{roots: digicertRoots(t), intermediates: bundledIntermediates(nil)}, recordedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !leaf.notAfter.Equal(time.Date(2025, 3, 7, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("window ends %s", leaf.notAfter)
	}
}
