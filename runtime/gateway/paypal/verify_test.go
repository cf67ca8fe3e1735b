package paypal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// wantReason checks that err wraps the SignatureError want (or is nil when
// want is "").
func wantReason(t *testing.T, err error, want SignatureError) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		return
	}
	var se SignatureError
	if !errors.As(err, &se) || se != want {
		t.Fatalf("got %v (reason %q), want %s", err, se, want)
	}
}

// TestVerifyFixtures: every recorded simulator delivery verifies offline
// with webhook id "WEBHOOK_ID" at a clock inside the certificate's
// validity, through the real chain (DigiCert SHA2 EV Server CA, bundled,
// to DigiCert High Assurance EV Root CA, injected), fetching the
// certificate once.
func TestVerifyFixtures(t *testing.T) {
	certs := fixtureCerts(t)
	v := fixtureVerifier(t, certs, recordedAt)
	for _, d := range deliveries(t) {
		t.Run(d.name, func(t *testing.T) {
			if get(d.header, HeaderCertURL) != fixtureCertURL {
				t.Fatalf("cert URL %q", get(d.header, HeaderCertURL))
			}
			if err := v.Verify(context.Background(), d.header, d.body); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := certs.calls.Load(); n != 1 {
		t.Errorf("%d certificate fetches, want 1 (cached)", n)
	}
}

// TestVerifyTampered: flipping any byte of a recorded body, or changing any
// signed header or the webhook id, fails.
func TestVerifyTampered(t *testing.T) {
	ctx := context.Background()
	certs := fixtureCerts(t)
	v := fixtureVerifier(t, certs, recordedAt)
	for _, d := range deliveries(t) {
		t.Run(d.name, func(t *testing.T) {
			for i := range d.body {
				body := []byte(string(d.body))
				body[i] ^= 0x01
				if err := v.Verify(ctx, d.header, body); err != ErrBadSignature {
					t.Fatalf("byte %d flipped: got %v, want ErrBadSignature", i, err)
				}
			}
			for _, b := range [][]byte{nil, {}, d.body[:len(d.body)-1], append([]byte(string(d.body)), '\n')} {
				if err := v.Verify(ctx, d.header, b); err != ErrBadSignature {
					t.Errorf("body of %d bytes: got %v", len(b), err)
				}
			}

			sig := get(d.header, HeaderTransmissionSig)
			otherSig := []byte(sig)
			otherSig[10] = 'A' + (otherSig[10]-'A'+1)%26
			tests := []struct {
				name, value string
				want        SignatureError
			}{
				{HeaderTransmissionID, "1c6772d0-5106-11ef-9b66-89f3f924d48b", ErrBadSignature},
				{HeaderTransmissionID, strings.ToUpper(get(d.header, HeaderTransmissionID)), ErrBadSignature},
				{HeaderTransmissionTime, "2024-08-02T19:33:36Z", ErrBadSignature},
				{HeaderTransmissionTime, strings.Replace(get(d.header, HeaderTransmissionTime), "Z", "+00:00", 1), ErrBadSignature},
				{HeaderTransmissionSig, string(otherSig), ErrBadSignature},
				{HeaderTransmissionSig, sig[:len(sig)-4], ErrBadSignature},
				{HeaderTransmissionSig, "not base64!", ErrMalformedHeader},
				{HeaderCertURL, "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cc", ErrCertUnavailable},
				{HeaderCertURL, "https://evil.example/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb", ErrCertURLNotAllowed},
				{HeaderAuthAlgo, "SHA1withRSA", ErrUnsupportedAlgo},
				{HeaderAuthAlgo, "SHA256withECDSA", ErrUnsupportedAlgo},
			}
			for _, tc := range tests {
				wantReason(t, v.Verify(ctx, set(d.header, tc.name, tc.value), d.body), tc.want)
			}
			// The algorithm's name is not case-sensitive (Java's isn't).
			wantReason(t, v.Verify(ctx, set(d.header, HeaderAuthAlgo, "sha256WithRSA"), d.body), "")

			other, err := NewOffline(OfflineConfig{
				WebhookID: "8PT597110X687430LKGECATA",
				Client:    &http.Client{Transport: certs},
				Now:       func() time.Time { return recordedAt },
				Roots:     digicertRoots(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			wantReason(t, other.Verify(ctx, d.header, d.body), ErrBadSignature)
		})
	}
}

// TestVerifyClock: outside the certificate's validity a genuine delivery
// fails with ErrCertExpired; the recorded certificates expired 2025-03-07.
func TestVerifyClock(t *testing.T) {
	d := deliveries(t)[0]
	for _, tc := range []struct {
		now  time.Time
		want SignatureError
	}{
		{time.Date(2024, 3, 8, 0, 0, 0, 0, time.UTC), ""},
		{time.Date(2025, 3, 7, 23, 59, 59, 0, time.UTC), ""},
		{time.Date(2025, 3, 8, 0, 0, 0, 0, time.UTC), ErrCertExpired},
		{time.Date(2024, 3, 7, 23, 59, 59, 0, time.UTC), ErrCertExpired},
		{time.Now(), ErrCertExpired},
	} {
		v := fixtureVerifier(t, fixtureCerts(t), tc.now)
		err := v.Verify(context.Background(), d.header, d.body)
		wantReason(t, err, tc.want)
	}
	// The cache does not carry a verdict from one clock to another.
	now := recordedAt
	v, _ := NewOffline(OfflineConfig{WebhookID: simulatorWebhookID, Client: &http.Client{Transport: fixtureCerts(t)},
		Roots: digicertRoots(t), Now: func() time.Time { return now }})
	wantReason(t, v.Verify(context.Background(), d.header, d.body), "")
	now = now.AddDate(1, 0, 0)
	wantReason(t, v.Verify(context.Background(), d.header, d.body), ErrCertExpired)
}

// TestVerifyUntrustedRoot: with roots that do not include DigiCert's, the
// recorded certificate does not chain.
func TestVerifyUntrustedRoot(t *testing.T) {
	d := deliveries(t)[0]
	v, err := NewOffline(OfflineConfig{
		WebhookID: simulatorWebhookID,
		Client:    &http.Client{Transport: fixtureCerts(t)},
		Now:       func() time.Time { return recordedAt },
		Roots:     testPKI(t).roots,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, v.Verify(context.Background(), d.header, d.body), ErrBadCert)
}

// TestVerifyHeaders: header parsing, before anything is fetched.
func TestVerifyHeaders(t *testing.T) {
	d := deliveries(t)[0]
	upper := http.Header{}
	for k, vs := range d.header {
		upper[strings.ToUpper(k)] = vs
	}
	canonical := http.Header{}
	for k, vs := range d.header {
		canonical.Set(k, vs[0])
	}
	without := func(name string) http.Header {
		h := clone(d.header)
		delete(h, strings.ToLower(name))
		return h
	}
	repeated := clone(d.header)
	repeated["PAYPAL-TRANSMISSION-ID"] = []string{"other"}
	twoValues := clone(d.header)
	twoValues["paypal-transmission-time"] = append(twoValues["paypal-transmission-time"], "2024-08-02T19:33:35Z")

	tests := []struct {
		name   string
		header http.Header
		want   SignatureError
		detail string
	}{
		{"recorded lower-case names", d.header, "", ""},
		{"upper-case names", upper, "", ""},
		{"canonical names", canonical, "", ""},
		{"padded values", set(d.header, HeaderTransmissionID, " "+get(d.header, HeaderTransmissionID)+" "), "", ""},
		{"no headers", nil, ErrMissingHeader, HeaderTransmissionID},
		{"no transmission id", without(HeaderTransmissionID), ErrMissingHeader, HeaderTransmissionID},
		{"no transmission time", without(HeaderTransmissionTime), ErrMissingHeader, HeaderTransmissionTime},
		{"no signature", without(HeaderTransmissionSig), ErrMissingHeader, HeaderTransmissionSig},
		{"no cert URL", without(HeaderCertURL), ErrMissingHeader, HeaderCertURL},
		{"no algorithm", without(HeaderAuthAlgo), ErrMissingHeader, HeaderAuthAlgo},
		{"blank algorithm", set(d.header, HeaderAuthAlgo, "  "), ErrMissingHeader, HeaderAuthAlgo},
		{"repeated under two spellings", repeated, ErrMalformedHeader, "repeated"},
		{"two values", twoValues, ErrMalformedHeader, "repeated"},
		{"signature too long", set(d.header, HeaderTransmissionSig, strings.Repeat("A", maxHeader+4)), ErrMalformedHeader, "over"},
		{"unpadded signature", set(d.header, HeaderTransmissionSig, strings.TrimRight(get(d.header, HeaderTransmissionSig), "=")), ErrMalformedHeader, "base64"},
		{"URL-safe signature", set(d.header, HeaderTransmissionSig, strings.NewReplacer("+", "-", "/", "_").Replace(get(d.header, HeaderTransmissionSig))), ErrMalformedHeader, "base64"},
		{"pipe in transmission id", set(d.header, HeaderTransmissionID, "a|b"), ErrMalformedHeader, "|"},
		{"pipe in transmission time", set(d.header, HeaderTransmissionTime, "2024|"), ErrMalformedHeader, "|"},
		{"no algorithm but bad URL", set(without(HeaderAuthAlgo), HeaderCertURL, "http://x"), ErrMissingHeader, HeaderAuthAlgo},
		{"bad algorithm and bad URL", set(set(d.header, HeaderAuthAlgo, "none"), HeaderCertURL, "http://x"), ErrUnsupportedAlgo, `"none"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certs := fixtureCerts(t)
			v := fixtureVerifier(t, certs, recordedAt)
			err := v.Verify(context.Background(), tc.header, d.body)
			wantReason(t, err, tc.want)
			if err != nil && !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("error %q does not say %q", err, tc.detail)
			}
			if tc.want != "" && tc.want != ErrBadSignature && certs.calls.Load() != 0 {
				t.Error("fetched a certificate for a malformed delivery")
			}
		})
	}
}

// TestCertURLRefusedWithoutFetch: PAYPAL-CERT-URL comes from the sender;
// anything but PayPal's certificates over https on PayPal's API hosts is
// refused before any request goes out.
func TestCertURLRefusedWithoutFetch(t *testing.T) {
	d := deliveries(t)[0]
	const id = "/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb"
	refused := []string{
		"http://api.paypal.com" + id,
		"ftp://api.paypal.com" + id,
		"//api.paypal.com" + id,
		"api.paypal.com" + id,
		"https://evil.example" + id,
		"https://api.paypal.com.evil.example" + id,
		"https://evilapi.paypal.com" + id,
		"https://paypal.com" + id,
		"https://www.paypal.com" + id,
		"https://api.paypal.com@evil.example" + id,
		"https://api.paypal.com:443@evil.example" + id,
		"https://user:pass@api.paypal.com" + id,
		"https://user@api.paypal.com" + id,
		"https://evil.example#@api.paypal.com" + id,
		"https://evil.example?@api.paypal.com" + id,
		`https://api.paypal.com\@evil.example` + id,
		"https://api.paypal.com%2f@evil.example" + id,
		"https://api.paypal.com:8443" + id,
		"https://api.paypal.com:80" + id,
		"https://api.paypal.com:0443x" + id,
		"https://127.0.0.1" + id,
		"https://[::1]" + id,
		"https://api.paypal.com" + id + "?x=1",
		"https://api.paypal.com" + id + "?",
		"https://api.paypal.com" + id + "#frag",
		"https://api.paypal.com/v1/notifications/certs/",
		"https://api.paypal.com/v1/notifications/certs/../../oauth2/token",
		"https://api.paypal.com/v1/notifications/certs/%2e%2e",
		"https://api.paypal.com/v1/notifications/certs/CERT/x",
		"https://api.paypal.com/v1/notifications/CERT-1",
		"https://api.paypal.com/",
		"https://api.paypal.com",
		"https:api.paypal.com" + id,
		"https://api.paypal.com" + id + " x",
		"https://api.paypal.com/v1/notifications/certs/CERT-" + strings.Repeat("a", 500),
		"\x00https://api.paypal.com" + id,
	}
	for _, u := range refused {
		certs := fixtureCerts(t)
		v := fixtureVerifier(t, certs, recordedAt)
		err := v.Verify(context.Background(), set(d.header, HeaderCertURL, u), d.body)
		var se SignatureError
		if !errors.As(err, &se) || se != ErrCertURLNotAllowed {
			t.Errorf("%q: got %v, want cert_url_not_allowed", u, err)
		}
		if n := certs.calls.Load(); n != 0 {
			t.Errorf("%q: %d fetches", u, n)
		}
	}

	allowed := map[string]string{
		"https://api.paypal.com" + id:           "https://api.paypal.com" + id,
		"https://api.paypal.com:443" + id:       "https://api.paypal.com" + id,
		"HTTPS://API.PayPal.com" + id:           "https://api.paypal.com" + id,
		"https://api-m.paypal.com" + id:         "https://api-m.paypal.com" + id,
		"https://api.sandbox.paypal.com" + id:   "https://api.sandbox.paypal.com" + id,
		"https://api-m.sandbox.paypal.com" + id: "https://api-m.sandbox.paypal.com" + id,
	}
	for raw, want := range allowed {
		got, err := checkCertURL(raw)
		if err != nil || got != want {
			t.Errorf("checkCertURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
}

func TestNewOfflineNeedsWebhookID(t *testing.T) {
	_, err := NewOffline(OfflineConfig{})
	var se SignatureError
	if err == nil || errors.As(err, &se) {
		t.Errorf("got %v, want a configuration error", err)
	}
}

func TestSignatureErrorLabels(t *testing.T) {
	tests := []struct {
		err         SignatureError
		label, text string
	}{
		{ErrMissingHeader, "missing_header", "paypal webhook: missing header"},
		{ErrMalformedHeader, "malformed_header", "paypal webhook: malformed header"},
		{ErrUnsupportedAlgo, "unsupported_algo", "paypal webhook: unsupported algo"},
		{ErrCertURLNotAllowed, "cert_url_not_allowed", "paypal webhook: cert url not allowed"},
		{ErrCertUnavailable, "cert_unavailable", "paypal webhook: cert unavailable"},
		{ErrBadCert, "bad_cert", "paypal webhook: bad cert"},
		{ErrCertExpired, "cert_expired", "paypal webhook: cert expired"},
		{ErrBadSignature, "bad_signature", "paypal webhook: bad signature"},
		{ErrMalformedBody, "malformed_body", "paypal webhook: malformed body"},
	}
	for _, tc := range tests {
		if string(tc.err) != tc.label || tc.err.Error() != tc.text {
			t.Errorf("label %q text %q, want %q %q", string(tc.err), tc.err.Error(), tc.label, tc.text)
		}
	}
	var se SignatureError
	if errors.As(ErrUnavailable, &se) {
		t.Error("ErrUnavailable is a SignatureError")
	}
}
