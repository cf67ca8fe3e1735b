package paypal

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Verifier checks that a webhook delivery comes from PayPal: header is the
// request's header (names in any case), body the raw request body.
// Offline and Online implement it.
type Verifier interface {
	Verify(ctx context.Context, header http.Header, body []byte) error
}

// SignatureError is why a Verifier rejected a delivery. Its value is a
// stable snake_case reason, fit for a metrics label or a log field; every
// one of them means HTTP 400 to the sender. Errors carrying details wrap
// one: use errors.As to get the reason.
type SignatureError string

const (
	// ErrMissingHeader: one of the signed headers (PAYPAL-TRANSMISSION-ID,
	// -TRANSMISSION-TIME, -TRANSMISSION-SIG, -CERT-URL, -AUTH-ALGO) is
	// missing or blank. The detail names it.
	ErrMissingHeader SignatureError = "missing_header"
	// ErrMalformedHeader: a signed header is repeated or too long, the
	// signature is not base64, or the transmission id or time contains
	// "|" or a line break.
	ErrMalformedHeader SignatureError = "malformed_header"
	// ErrUnsupportedAlgo: PAYPAL-AUTH-ALGO is not SHA256withRSA.
	ErrUnsupportedAlgo SignatureError = "unsupported_algo"
	// ErrCertURLNotAllowed: PAYPAL-CERT-URL is not an https URL of
	// PayPal's certificates on one of PayPal's API hosts. Nothing was
	// fetched.
	ErrCertURLNotAllowed SignatureError = "cert_url_not_allowed"
	// ErrCertUnavailable: PayPal answered the certificate request with a
	// client error (404: no such certificate), or an answer over the size
	// limit, or redirected off its hosts.
	ErrCertUnavailable SignatureError = "cert_unavailable"
	// ErrBadCert: the certificate does not parse, is not RSA, does not name
	// PayPal's message-verification host, or does not chain to a trusted
	// root.
	ErrBadCert SignatureError = "bad_cert"
	// ErrCertExpired: the certificate (or a CA above it) is not valid at the
	// verifier's clock: expired, or not yet valid.
	ErrCertExpired SignatureError = "cert_expired"
	// ErrBadSignature: the signature does not sign this body, these headers
	// and this webhook id (offline), or PayPal said FAILURE (online).
	ErrBadSignature SignatureError = "bad_signature"
	// ErrMalformedBody: online only, the body is not a JSON object, so it
	// cannot be sent to PayPal as webhook_event.
	ErrMalformedBody SignatureError = "malformed_body"
)

func (e SignatureError) Error() string {
	return "paypal webhook: " + strings.ReplaceAll(string(e), "_", " ")
}

// ErrUnavailable is wrapped by errors that are nobody's fault but the
// network's: a certificate or the verification API could not be reached,
// timed out or answered 429 or 5xx. Callers answer 503 so that PayPal
// delivers again later.
var ErrUnavailable = errors.New("paypal webhook: verification unavailable")

// Defaults for OfflineConfig and OnlineConfig.
const (
	DefaultFetchTimeout = 10 * time.Second
	DefaultMaxCertSize  = 64 << 10
	DefaultCacheSize    = 32
)

// OfflineConfig configures NewOffline. Only WebhookID is required.
type OfflineConfig struct {
	// WebhookID is the id of the webhook subscription the deliveries are
	// for (Developer Dashboard), not an event id. Deliveries from PayPal's
	// webhook simulator are signed with the literal "WEBHOOK_ID".
	WebhookID string

	// Client fetches certificates; nil means a plain http.Client.
	// Redirects are followed only to allowed certificate URLs whatever the
	// client's own CheckRedirect.
	Client *http.Client
	// FetchTimeout bounds each certificate fetch (DefaultFetchTimeout when
	// 0 or less), on top of the request context.
	FetchTimeout time.Duration
	// MaxCertSize bounds a certificate response (DefaultMaxCertSize when 0
	// or less).
	MaxCertSize int64
	// CacheSize is how many certificates, by URL, are kept once verified
	// (DefaultCacheSize when 0 or less). PayPal's certificate URLs name one
	// certificate each, so a hit never goes stale; the validity window is
	// still checked on every use.
	CacheSize int

	// Now is the clock certificates are checked against; nil means
	// time.Now. Tests of recorded deliveries fix it inside the
	// certificate's validity.
	Now func() time.Time
	// Roots are the trusted roots; nil means the system pool.
	Roots *x509.CertPool
	// Intermediates are added to the CAs a chain may go through. PayPal
	// serves the leaf alone, so the issuing CA must come from here: the
	// package always adds DigiCert SHA2 Extended Validation Server CA (the
	// issuer of PayPal's certificates, bundled by PayPal's Java SDK too),
	// and certificates after the first in a fetched PEM.
	Intermediates *x509.CertPool
}

// Offline verifies deliveries itself, with the certificate at
// PAYPAL-CERT-URL. It is safe for concurrent use.
type Offline struct {
	webhookID string
	now       func() time.Time
	fetch     fetcher
	chain     chainOptions
	cache     *certCache
}

// NewOffline returns an Offline verifier. It fails only on configuration:
// an empty webhook id.
func NewOffline(cfg OfflineConfig) (*Offline, error) {
	if cfg.WebhookID == "" {
		return nil, errors.New("paypal webhook: no webhook id configured")
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	o := &Offline{
		webhookID: cfg.WebhookID,
		now:       now,
		fetch: fetcher{
			client:  guardRedirects(client),
			timeout: positive(cfg.FetchTimeout, DefaultFetchTimeout),
			maxSize: positive(cfg.MaxCertSize, DefaultMaxCertSize),
		},
		chain: chainOptions{roots: cfg.Roots, intermediates: bundledIntermediates(cfg.Intermediates)},
		cache: newCertCache(positive(cfg.CacheSize, DefaultCacheSize)),
	}
	return o, nil
}

func positive[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Verify checks the delivery: the signed headers, the certificate URL (before
// fetching anything), the certificate (fetched once per URL, then cached),
// its validity at the verifier's clock, and the signature over the raw body.
// It returns nil, an error wrapping one SignatureError, or one wrapping
// ErrUnavailable when the certificate could not be fetched.
func (o *Offline) Verify(ctx context.Context, header http.Header, body []byte) error {
	d, err := parseHeaders(header)
	if err != nil {
		return err
	}
	u, err := checkCertURL(d.certURL)
	if err != nil {
		return err
	}
	c, err := o.certificate(ctx, u)
	if err != nil {
		return err
	}
	if err := c.validAt(o.now()); err != nil {
		return err
	}
	return checkSignature(c.key, d, o.webhookID, body)
}

// certificate returns the verified certificate at url, from the cache or
// fetched, parsed and verified now.
func (o *Offline) certificate(ctx context.Context, url string) (*verifiedCert, error) {
	if c, ok := o.cache.get(url); ok {
		return c, nil
	}
	pemData, err := o.fetch.get(ctx, url)
	if err != nil {
		return nil, err
	}
	c, err := verifyCert(pemData, o.chain, o.now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	o.cache.put(url, c)
	return c, nil
}
