package paypal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The seed corpora in testdata/fuzz are made from the fixtures by
// TestFuzzSeeds; FLOW_UPDATE=1 rewrites them.

// FuzzDecode: Decode never panics, and what it accepts satisfies the Event
// contract and survives a round trip through encoding/json.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := Decode(payload)
		if err != nil {
			if e != nil || !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Decode = %v, %v", e, err)
			}
			return
		}
		if e.ID == "" || e.Type == "" || e.Resource() == nil {
			t.Fatalf("accepted %s %s %v", e.ID, e.Type, e.Resource())
		}
		if fs := floats("", e.Envelope); len(fs) > 0 {
			t.Fatalf("float64 values at %v", fs)
		}
		data, err := json.Marshal(e.Envelope)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(data)
		if err != nil {
			t.Fatalf("re-encoded envelope: %v", err)
		}
		if again.ID != e.ID || again.Type != e.Type || again.ResourceID != e.ResourceID ||
			again.ResourceType != e.ResourceType || !again.Created.Equal(e.Created) {
			t.Fatalf("round trip: %s %s %s, then %s %s %s", e.ID, e.Type, e.ResourceID, again.ID, again.Type, again.ResourceID)
		}
	})
}

// FuzzVerify: Verify never panics on any headers (names in either case)
// and body, fails only with SignatureErrors, fetches nothing for a refused
// certificate URL, and what it accepts is bound to the body and the
// webhook id. The fetcher serves the recorded certificates and the clock is
// the recorded time, so the recorded deliveries (the seeds) verify.
func FuzzVerify(f *testing.F) {
	certs := fixtureCerts(f)
	v := fixtureVerifier(f, certs, recordedAt)
	other := *v
	other.webhookID = "OTHER_WEBHOOK_ID"
	f.Fuzz(func(t *testing.T, body []byte, id, at, sig, certURL, algo string, upper bool) {
		name := func(s string) string {
			if upper {
				return strings.ToUpper(s)
			}
			return strings.ToLower(s)
		}
		h := http.Header{
			name(HeaderTransmissionID):   {id},
			name(HeaderTransmissionTime): {at},
			name(HeaderTransmissionSig):  {sig},
			name(HeaderCertURL):          {certURL},
			name(HeaderAuthAlgo):         {algo},
		}
		before := certs.calls.Load()
		err := v.Verify(context.Background(), h, body)
		var se SignatureError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Verify error %v is not a SignatureError", err)
		}
		if se == ErrMissingHeader || se == ErrMalformedHeader || se == ErrUnsupportedAlgo || se == ErrCertURLNotAllowed {
			if certs.calls.Load() != before {
				t.Fatalf("fetched a certificate for a delivery refused with %s", se)
			}
		}
		if fetchURL, uerr := checkCertURL(certURL); uerr == nil {
			u, perr := url.Parse(fetchURL)
			if perr != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || !allowedCertHost(u.Host) ||
				!strings.HasPrefix(u.Path, certPath) || u.RawQuery != "" {
				t.Fatalf("checkCertURL(%q) allowed %q", certURL, fetchURL)
			}
			if again, err := checkCertURL(fetchURL); err != nil || again != fetchURL {
				t.Fatalf("checkCertURL(%q) = %q, then %q, %v", certURL, fetchURL, again, err)
			}
		}
		if err == nil {
			if other.Verify(context.Background(), h, body) != ErrBadSignature {
				t.Fatal("delivery also verifies for another webhook id")
			}
			if v.Verify(context.Background(), h, append(body[:len(body):len(body)], ' ')) != ErrBadSignature {
				t.Fatal("delivery also verifies another body")
			}
		}
	})
}

// TestFuzzSeeds keeps testdata/fuzz in step with the fixtures: one seed per
// event body for FuzzDecode, and for FuzzVerify every recorded delivery as
// recorded, then with upper-case names and a few hostile variants.
func TestFuzzSeeds(t *testing.T) {
	want := map[string]string{} // path -> corpus file
	for _, path := range eventFixtures(t) {
		want[filepath.Join("FuzzDecode", seedName(path))] = corpusFile(t, readFile(t, path))
	}
	for _, d := range deliveries(t) {
		args := func(h http.Header, body []byte, upper bool) string {
			return corpusFile(t, body, get(h, HeaderTransmissionID), get(h, HeaderTransmissionTime),
				get(h, HeaderTransmissionSig), get(h, HeaderCertURL), get(h, HeaderAuthAlgo), upper)
		}
		seed := func(suffix, content string) { want[filepath.Join("FuzzVerify", d.name+suffix)] = content }
		seed("", args(d.header, d.body, false))
		seed("-upper", args(d.header, d.body, true))
		seed("-port443", args(set(d.header, HeaderCertURL, strings.Replace(fixtureCertURL, ".com/", ".com:443/", 1)), d.body, false))
		seed("-userinfo", args(set(d.header, HeaderCertURL, strings.Replace(fixtureCertURL, "api.paypal.com", "api.paypal.com@evil.example", 1)), d.body, false))
		seed("-http", args(set(d.header, HeaderCertURL, strings.Replace(fixtureCertURL, "https", "http", 1)), d.body, false))
		seed("-algo", args(set(d.header, HeaderAuthAlgo, "SHA1withRSA"), d.body, false))
		seed("-flipped", args(d.header, append([]byte{d.body[0] ^ 1}, d.body[1:]...), false))
	}
	update := os.Getenv("FLOW_UPDATE") != ""
	for name, content := range want {
		path := filepath.Join("testdata", "fuzz", name)
		if update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("%s is missing or stale (%v); run FLOW_UPDATE=1 go test -run TestFuzzSeeds", path, err)
		}
	}
}

// corpusFile encodes values in the go test fuzz v1 corpus format.
func corpusFile(t *testing.T, values ...any) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%t)\n", v)
		default:
			t.Fatalf("corpusFile: unsupported %T", v)
		}
	}
	return b.String()
}
