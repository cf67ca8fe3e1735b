package paypal

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The fixtures are copies; testdata/README.md says where each comes from.
const (
	signedDir = "testdata/simulator_signed"
	rootPEM   = "testdata/chain/DigiCert_High_Assurance_EV_Root_CA.pem"
	// simulatorWebhookID is what PayPal's webhook simulator signs with.
	simulatorWebhookID = "WEBHOOK_ID"
	// fixtureCertURL is the PAYPAL-CERT-URL of every recorded delivery.
	fixtureCertURL = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb"
)

// recordedAt is inside the recorded certificate's validity (2024-03-08 to
// 2025-03-07), minutes after the deliveries were sent.
var recordedAt = time.Date(2024, 8, 2, 19, 40, 0, 0, time.UTC)

// recorded is one recorded webhook delivery.
type recorded struct {
	name   string // "PAYMENT.CAPTURE.COMPLETED"
	header http.Header
	body   []byte
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// deliveries returns every signed delivery in the fixtures. The headers
// keep their recorded, lower-case names: http.Header.Get would not find
// them, Verify must.
func deliveries(t testing.TB) []recorded {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(signedDir, "*.headers.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no deliveries in %s (%v)", signedDir, err)
	}
	var out []recorded
	for _, p := range paths {
		var m map[string]string
		if err := json.Unmarshal(readFile(t, p), &m); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		h := http.Header{}
		for k, v := range m {
			h[k] = []string{v}
		}
		base := strings.TrimSuffix(p, ".headers.json")
		_, name, _ := strings.Cut(filepath.Base(base), "__")
		out = append(out, recorded{name: name, header: h, body: readFile(t, base+".body.json")})
	}
	return out
}

// eventFixtures returns the paths of every event body in the fixtures.
func eventFixtures(t testing.TB) []string {
	t.Helper()
	bodies, _ := filepath.Glob(filepath.Join(signedDir, "*.body.json"))
	samples, _ := filepath.Glob("testdata/docs_samples/*.json")
	if len(bodies) == 0 || len(samples) == 0 {
		t.Fatal("no event fixtures")
	}
	return append(bodies, samples...)
}

// seedName names a fuzz seed after its fixture: "PAYMENT.CAPTURE.COMPLETED".
func seedName(p string) string {
	name := strings.TrimSuffix(filepath.Base(p), ".json")
	name = strings.TrimSuffix(name, ".body")
	if _, after, ok := strings.Cut(name, "__"); ok {
		return after
	}
	return name
}

// clone copies a header, so that a test can change it.
func clone(h http.Header) http.Header { return h.Clone() }

// set replaces the header called name (in whatever case it is recorded).
func set(h http.Header, name, value string) http.Header {
	h = clone(h)
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
	h[strings.ToLower(name)] = []string{value}
	return h
}

// get reads the header called name, whatever its case.
func get(h http.Header, name string) string {
	v, _ := headerValue(h, name)
	return v
}

// handlerTransport serves HTTP requests in process with a handler and
// counts them: the certificate fetches of a test that need no sockets.
type handlerTransport struct {
	h     http.Handler
	calls atomic.Int32
}

func (ht *handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ht.calls.Add(1)
	rec := httptest.NewRecorder()
	ht.h.ServeHTTP(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err // as a real transport does when the request is cancelled
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// fixtureCerts serves the recorded certificates, by id, on api.paypal.com
// only; anything else is 404.
func fixtureCerts(t testing.TB) *handlerTransport {
	return &handlerTransport{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := path.Base(r.URL.Path)
		data, err := os.ReadFile(filepath.Join(signedDir, id+".pem"))
		if r.URL.Host != "api.paypal.com" || !strings.HasPrefix(r.URL.Path, certPath) || err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(data)
	})}
}

// digicertRoots is a pool of the one root PayPal's certificates chain to.
func digicertRoots(t testing.TB) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(readFile(t, rootPEM)) {
		t.Fatalf("%s holds no certificate", rootPEM)
	}
	return pool
}

// fixtureVerifier verifies the recorded deliveries offline: their
// certificate from rt, chained to DigiCert's root, at clock now.
func fixtureVerifier(t testing.TB, rt http.RoundTripper, now time.Time) *Offline {
	t.Helper()
	v, err := NewOffline(OfflineConfig{
		WebhookID: simulatorWebhookID,
		Client:    &http.Client{Transport: rt},
		Now:       func() time.Time { return now },
		Roots:     digicertRoots(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
