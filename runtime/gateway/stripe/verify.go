package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how old a signed timestamp may be, as in every Stripe
// SDK (stripe-go webhook.DefaultTolerance).
const DefaultTolerance = 300 * time.Second

// SignatureError is why Verify rejected a webhook. Its value is a stable
// snake_case reason, fit for a metrics label or a log field; every one of
// them means HTTP 400 to the sender.
type SignatureError string

const (
	// ErrNoSignature: the Stripe-Signature header is missing or empty, or
	// carries no decodable v1 signature (only v0, say).
	ErrNoSignature SignatureError = "no_signature"
	// ErrMalformedHeader: the header is not "t=<unix seconds>,v1=<hex>...":
	// an entry without "=", or a missing, repeated or non-numeric t.
	ErrMalformedHeader SignatureError = "malformed_header"
	// ErrStale: a signature matched, but the timestamp is older than the
	// tolerance (a replay, or a sender whose clock is far behind).
	ErrStale SignatureError = "stale"
	// ErrBadSignature: no v1 signature matches the body under any secret.
	ErrBadSignature SignatureError = "bad_signature"
)

func (e SignatureError) Error() string {
	return "stripe webhook: " + strings.ReplaceAll(string(e), "_", " ")
}

// errNoSecret is a configuration problem, not the sender's: callers should
// answer 500, so it is not a SignatureError.
var errNoSecret = errors.New("stripe webhook: no endpoint secret configured")

// signedHeader is a parsed Stripe-Signature header.
type signedHeader struct {
	t          int64
	signatures [][]byte // every decodable v1 entry
}

// parseHeader splits the header on "," then on "=", as stripe-go does: t is
// the timestamp, every v1 is a candidate signature, other keys (v0) are
// ignored and v1 entries that are not hex are skipped.
func parseHeader(header string) (signedHeader, error) {
	var h signedHeader
	if header == "" {
		return h, ErrNoSignature
	}
	haveT := false
	for _, pair := range strings.Split(header, ",") {
		key, value, ok := strings.Cut(pair, "=")
		if !ok {
			return h, fmt.Errorf("%w: entry %q is not key=value", ErrMalformedHeader, pair)
		}
		switch key {
		case "t":
			t, err := strconv.ParseInt(value, 10, 64)
			if err != nil || t < 0 || haveT {
				return h, fmt.Errorf("%w: bad or repeated timestamp %q", ErrMalformedHeader, value)
			}
			h.t, haveT = t, true
		case "v1":
			if sig, err := hex.DecodeString(value); err == nil {
				h.signatures = append(h.signatures, sig)
			}
		}
	}
	if !haveT {
		return h, fmt.Errorf("%w: no timestamp", ErrMalformedHeader)
	}
	if len(h.signatures) == 0 {
		return h, ErrNoSignature
	}
	return h, nil
}

// Verify checks that sigHeader, the Stripe-Signature header of a webhook
// request, signs payload, the raw request body, under one of secrets (more
// than one while an endpoint secret rolls; empty secrets are ignored), and
// that its timestamp is no more than tolerance before now (DefaultTolerance
// when tolerance is 0 or less; the current time when now is zero, as in
// x509.VerifyOptions). Timestamps after now are accepted, as the Stripe SDKs
// do.
//
// Verify returns nil or an error wrapping one SignatureError, except when no
// secret is configured: that is the receiver's fault and gets a plain error.
// The signature is checked before the age, so ErrStale always means an
// authentic but old request.
func Verify(payload []byte, sigHeader string, secrets []string, now time.Time, tolerance time.Duration) error {
	if !hasSecret(secrets) {
		return errNoSecret
	}
	h, err := parseHeader(sigHeader)
	if err != nil {
		return err
	}
	if !matches(h, payload, secrets) {
		return ErrBadSignature
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if now.IsZero() {
		now = time.Now()
	}
	signed := time.Unix(h.t, 0)
	if age := now.Sub(signed); age > tolerance {
		return fmt.Errorf("%w: signed %s ago, tolerance %s", ErrStale, age.Round(time.Second), tolerance)
	}
	return nil
}

func hasSecret(secrets []string) bool {
	for _, s := range secrets {
		if s != "" {
			return true
		}
	}
	return false
}

// matches reports whether any candidate signature of h equals the expected
// one under any non-empty secret, comparing in constant time.
func matches(h signedHeader, payload []byte, secrets []string) bool {
	for _, secret := range secrets {
		if secret == "" {
			continue // an empty key is one anybody can sign with
		}
		want := signature(payload, secret, h.t)
		for _, got := range h.signatures {
			if hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// signature is HMAC-SHA256 over "<t>.<payload>" keyed by the secret string.
func signature(payload []byte, secret string, t int64) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(strconv.AppendInt(nil, t, 10))
	mac.Write([]byte{'.'})
	mac.Write(payload)
	return mac.Sum(nil)
}

// Sign returns the Stripe-Signature header value Stripe would send with
// payload signed by secret at t ("t=<unix>,v1=<hex>"), as the Stripe CLI and
// stripe-go's webhook.GenerateTestSignedPayload make it.
func Sign(payload []byte, secret string, t time.Time) string {
	unix := t.Unix()
	return "t=" + strconv.FormatInt(unix, 10) + ",v1=" + hex.EncodeToString(signature(payload, secret, unix))
}
