package stripe

import (
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// TestVerifyPublishedVector checks stripe-dotnet's published vector: a
// header with one v1 and one v0 over a 2017-05-25 event of a Connect account.
func TestVerifyPublishedVector(t *testing.T) {
	payload := readFile(t, filepath.Join(fixtures, "signature", "event_test_signature.json"))
	signed := time.Unix(vectorT, 0)
	secrets := []string{vectorSecret}

	if err := Verify(payload, vectorHeader, secrets, signed.Add(100*time.Second), 300*time.Second); err != nil {
		t.Errorf("at t+100s: %v", err)
	}
	if err := Verify(payload, vectorHeader, secrets, signed.Add(400*time.Second), 300*time.Second); !errors.Is(err, ErrStale) {
		t.Errorf("at t+400s: got %v, want ErrStale", err)
	}
	tampered := append(payload[:len(payload):len(payload)], "this_changes_the_json"...)
	if err := Verify(tampered, vectorHeader, secrets, signed, 0); err != ErrBadSignature {
		t.Errorf("tampered body: got %v, want ErrBadSignature", err)
	}
	if got, want := Sign(payload, vectorSecret, signed), vectorHeader[:strings.Index(vectorHeader, ",v0=")]; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	const (
		secret = "whsec_current"
		old    = "whsec_previous"
	)
	body := []byte(`{"id":"evt_1","type":"charge.succeeded"}`)
	signed := time.Unix(1648320032, 0)
	v1 := func(secret string) string {
		return "v1=" + hex.EncodeToString(signature(body, secret, signed.Unix()))
	}
	ts := "t=1648320032"
	valid := ts + "," + v1(secret)

	tests := []struct {
		name      string
		body      []byte // nil: body
		header    string
		secrets   []string // nil: {secret}
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{name: "valid", header: valid, now: signed},
		{name: "Sign output", header: Sign(body, secret, signed), now: signed},
		{name: "v1 before t", header: v1(secret) + "," + ts, now: signed},
		{name: "one of several v1", header: ts + "," + v1("whsec_other") + "," + v1(secret), now: signed},
		{name: "signed with the previous secret", header: ts + "," + v1(old), secrets: []string{secret, old}, now: signed},
		{name: "upper-case hex", header: ts + ",v1=" + strings.ToUpper(v1(secret)[3:]), now: signed},
		{name: "unknown keys and v0 ignored", header: valid + ",v0=abcd,scheme=x=y", now: signed},
		{name: "undecodable v1 skipped", header: ts + ",v1=zz-not-hex," + v1(secret), now: signed},
		{name: "future timestamp", header: valid, now: signed.Add(-time.Hour)},
		{name: "age equal to tolerance", header: valid, now: signed.Add(DefaultTolerance)},
		{name: "zero tolerance is the default", header: valid, now: signed.Add(DefaultTolerance + time.Second), want: ErrStale},
		{name: "custom tolerance", header: valid, now: signed.Add(11 * time.Second), tolerance: 10 * time.Second, want: ErrStale},
		{name: "large tolerance", header: valid, now: signed.Add(24 * time.Hour), tolerance: 48 * time.Hour},
		{name: "zero now is the current time", header: valid, want: ErrStale},
		{name: "empty header", header: "", now: signed, want: ErrNoSignature},
		{name: "no v1", header: ts + ",v0=" + v1(secret)[3:], now: signed, want: ErrNoSignature},
		{name: "only undecodable v1", header: ts + ",v1=xyz", now: signed, want: ErrNoSignature},
		{name: "empty v1", header: ts + ",v1=", now: signed, want: ErrBadSignature},
		{name: "no timestamp", header: v1(secret), now: signed, want: ErrMalformedHeader},
		{name: "empty timestamp", header: "t=," + v1(secret), now: signed, want: ErrMalformedHeader},
		{name: "non-numeric timestamp", header: "t=yesterday," + v1(secret), now: signed, want: ErrMalformedHeader},
		{name: "negative timestamp", header: "t=-1," + v1(secret), now: signed, want: ErrMalformedHeader},
		{name: "repeated timestamp", header: valid + ",t=1648320032", now: signed, want: ErrMalformedHeader},
		{name: "entry without =", header: valid + ",v1", now: signed, want: ErrMalformedHeader},
		{name: "stray comma", header: ts + ",," + v1(secret), now: signed, want: ErrMalformedHeader},
		{name: "spaces are not trimmed", header: ts + ", " + v1(secret), now: signed, want: ErrNoSignature},
		{name: "wrong secret", header: ts + "," + v1("whsec_other"), now: signed, want: ErrBadSignature},
		{name: "other timestamp", header: "t=1648320033," + v1(secret), now: signed, want: ErrBadSignature},
		{name: "body changed", body: append([]byte(" "), body...), header: valid, now: signed, want: ErrBadSignature},
		{name: "signature checked before age", header: ts + "," + v1("whsec_other"), now: signed.Add(time.Hour), want: ErrBadSignature},
		{name: "stale", header: valid, now: signed.Add(time.Hour), want: ErrStale},
		{name: "empty secret is never a key", header: ts + "," + v1(""), secrets: []string{"", secret}, now: signed, want: ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, secrets := tc.body, tc.secrets
			if b == nil {
				b = body
			}
			if secrets == nil {
				secrets = []string{secret}
			}
			err := Verify(b, tc.header, secrets, tc.now, tc.tolerance)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Verify(%q) = %v, want %v", tc.header, err, tc.want)
			}
			var se SignatureError
			if err != nil && !errors.As(err, &se) {
				t.Errorf("error %v is not a SignatureError", err)
			}
		})
	}
}

// TestVerifyWithoutSecret: a receiver with no secret configured must fail
// loudly, with an error that is not the sender's fault (not a SignatureError).
func TestVerifyWithoutSecret(t *testing.T) {
	body := []byte(`{}`)
	now := time.Unix(1648320032, 0)
	header := Sign(body, "", now) // what anybody can compute
	for _, secrets := range [][]string{nil, {}, {""}} {
		err := Verify(body, header, secrets, now, 0)
		var se SignatureError
		if err == nil || errors.As(err, &se) {
			t.Errorf("secrets %q: got %v, want a configuration error", secrets, err)
		}
	}
}

func TestSignatureErrorLabels(t *testing.T) {
	tests := []struct {
		err         SignatureError
		label, text string
	}{
		{ErrNoSignature, "no_signature", "stripe webhook: no signature"},
		{ErrMalformedHeader, "malformed_header", "stripe webhook: malformed header"},
		{ErrStale, "stale", "stripe webhook: stale"},
		{ErrBadSignature, "bad_signature", "stripe webhook: bad signature"},
	}
	for _, tc := range tests {
		if string(tc.err) != tc.label || tc.err.Error() != tc.text {
			t.Errorf("label %q text %q, want %q %q", string(tc.err), tc.err.Error(), tc.label, tc.text)
		}
	}

	// Errors with detail still give their label through errors.As.
	err := Verify(nil, "t=x,v1=00", []string{"s"}, time.Time{}, 0)
	var se SignatureError
	if !errors.As(err, &se) || se != ErrMalformedHeader || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("got %v (label %q), want malformed_header naming the bad timestamp", err, se)
	}
}

// TestSignAgreesWithStripeGo: stripe-go accepts what Sign makes, and Verify
// accepts what stripe-go's test helper makes.
func TestSignAgreesWithStripeGo(t *testing.T) {
	for _, path := range fixtureEvents(t) {
		t.Run(seedName(path), func(t *testing.T) {
			payload := readFile(t, path)
			now := time.Now()
			header := Sign(payload, "whsec_test", now)
			if err := webhook.ValidatePayload(payload, header, "whsec_test"); err != nil {
				t.Errorf("stripe-go rejects Sign's header: %v", err)
			}
			theirs := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_test", Timestamp: now})
			if theirs.Header != header {
				t.Errorf("stripe-go header %q, Sign %q", theirs.Header, header)
			}
			if err := Verify(payload, theirs.Header, []string{"whsec_test"}, now, 0); err != nil {
				t.Errorf("Verify rejects stripe-go's header: %v", err)
			}
		})
	}
}
