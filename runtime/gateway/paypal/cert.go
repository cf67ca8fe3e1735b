package paypal

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// certPath is where PayPal serves its message-verification certificates;
// the rest of the path is the certificate's id ("CERT-360caa42-...").
const certPath = "/v1/notifications/certs/"

// maxCertURL bounds PAYPAL-CERT-URL; the API's cert_url allows 500.
const maxCertURL = 500

// allowedCertHost reports whether host (lower case, no port) is one of
// PayPal's API hosts, live or sandbox, the only ones PAYPAL-CERT-URL may
// name.
func allowedCertHost(host string) bool {
	switch host {
	case "api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com":
		return true
	}
	return false
}

// allowedCertName reports whether name is the subject of a PayPal
// message-verification certificate, live or sandbox.
func allowedCertName(name string) bool {
	switch strings.ToLower(name) {
	case "messageverificationcerts.paypal.com", "messageverificationcerts.sandbox.paypal.com":
		return true
	}
	return false
}

// checkCertURL checks the attacker-supplied PAYPAL-CERT-URL before anything
// is fetched: https, an allowed host, no user info, no port but 443, the
// certs path followed by one id of letters, digits, "-" and "_", and no
// query or fragment. It returns the URL to fetch (and cache by): the same
// URL with the host in lower case and without ":443".
func checkCertURL(raw string) (string, error) {
	refuse := func(why string) (string, error) {
		if len(raw) > 80 {
			raw = raw[:80] + "..."
		}
		return "", fmt.Errorf("%w: %q: %s", ErrCertURLNotAllowed, raw, why)
	}
	if len(raw) > maxCertURL {
		return refuse("too long")
	}
	if strings.ContainsAny(raw, "\\ \t") {
		return refuse("contains a backslash or white space")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return refuse("does not parse")
	case u.Scheme != "https":
		return refuse("not https")
	case u.Opaque != "" || u.User != nil:
		return refuse("has user info")
	case u.Port() != "" && u.Port() != "443":
		return refuse("port is not 443")
	case !allowedCertHost(strings.ToLower(u.Hostname())):
		return refuse("host is not one of PayPal's API hosts")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "":
		return refuse("has a query or fragment")
	case u.RawPath != "" || !strings.HasPrefix(u.Path, certPath) || !certID(u.Path[len(certPath):]):
		return refuse("path is not " + certPath + "<id>")
	}
	return "https://" + strings.ToLower(u.Hostname()) + u.Path, nil
}

// certID reports whether s is a plausible certificate id: 1 to 100
// letters, digits, "-" and "_".
func certID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// errRedirect marks a redirect off the allowed certificate URLs.
var errRedirect = errors.New("redirected to a URL that is not allowed")

// guardRedirects returns a copy of client that follows at most 3 redirects,
// each to an allowed certificate URL, before asking the client's own
// CheckRedirect.
func guardRedirects(client *http.Client) *http.Client {
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return fmt.Errorf("%w: more than 3 redirects", errRedirect)
		}
		if _, err := checkCertURL(req.URL.String()); err != nil {
			return fmt.Errorf("%w: %v", errRedirect, err)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// fetcher gets certificates over HTTP with a timeout and a size limit.
type fetcher struct {
	client  *http.Client
	timeout time.Duration
	maxSize int64
}

// get fetches url. Network failures, timeouts, 429 and 5xx wrap
// ErrUnavailable; other statuses, oversized answers and redirects off
// PayPal's hosts are ErrCertUnavailable.
func (f fetcher) get(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertUnavailable, url, err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, errRedirect) {
			return nil, fmt.Errorf("%w: %s: %v", ErrCertUnavailable, url, err)
		}
		return nil, fmt.Errorf("%w: fetching certificate %s: %v", ErrUnavailable, url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: fetching certificate %s: %s", ErrUnavailable, url, resp.Status)
	default:
		return nil, fmt.Errorf("%w: %s: %s", ErrCertUnavailable, url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading certificate %s: %v", ErrUnavailable, url, err)
	}
	if int64(len(data)) > f.maxSize {
		return nil, fmt.Errorf("%w: %s: over %d bytes", ErrCertUnavailable, url, f.maxSize)
	}
	return data, nil
}

// digicertEV is DigiCert SHA2 Extended Validation Server CA, the issuer of
// PayPal's message-verification certificates (see testdata/README.md).
//
//go:embed digicert_sha2_ev_server_ca.pem
var digicertEV []byte

// bundledIntermediates returns extra (or an empty pool) plus digicertEV.
func bundledIntermediates(extra *x509.CertPool) *x509.CertPool {
	pool := x509.NewCertPool()
	if extra != nil {
		pool = extra.Clone()
	}
	pool.AppendCertsFromPEM(digicertEV)
	return pool
}

// chainOptions is what a certificate chain is verified against.
type chainOptions struct {
	roots         *x509.CertPool // nil: the system pool
	intermediates *x509.CertPool // never nil
}

// verifiedCert is a certificate whose name and chain have been verified.
type verifiedCert struct {
	key                 *rsa.PublicKey
	notBefore, notAfter time.Time // the intersection of the chain's windows
}

// validAt checks that t falls in the certificate's validity window.
func (c *verifiedCert) validAt(t time.Time) error {
	if t.Before(c.notBefore) {
		return fmt.Errorf("%w: not valid before %s (now %s)", ErrCertExpired, c.notBefore.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	if t.After(c.notAfter) {
		return fmt.Errorf("%w: expired %s (now %s)", ErrCertExpired, c.notAfter.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	return nil
}

// maxExtraCerts bounds the CA certificates a fetched PEM may carry.
const maxExtraCerts = 4

// verifyCert parses a fetched PEM (the leaf first, then any CAs) and checks
// the leaf: an RSA key of 2048 bits or more, PayPal's message-verification
// name as its common name or a DNS subject alternative name, and a chain to
// opts.roots. The chain is verified at now moved into the leaf's window, so
// the result does not depend on the clock; validAt checks the clock on every
// use.
func verifyCert(pemData []byte, opts chainOptions, now time.Time) (*verifiedCert, error) {
	var certs []*x509.Certificate
	for rest := pemData; len(certs) <= maxExtraCerts; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadCert, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no PEM certificate", ErrBadCert)
	}
	leaf := certs[0]
	key, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: key is %T, want RSA", ErrBadCert, leaf.PublicKey)
	}
	if key.N.BitLen() < 2048 {
		return nil, fmt.Errorf("%w: RSA key of %d bits", ErrBadCert, key.N.BitLen())
	}
	if !namesPayPal(leaf) {
		return nil, fmt.Errorf("%w: subject %q is not PayPal's message verification host", ErrBadCert, leaf.Subject.String())
	}
	intermediates := opts.intermediates
	if len(certs) > 1 {
		intermediates = intermediates.Clone()
		for _, c := range certs[1:] {
			intermediates.AddCert(c)
		}
	}
	at := now
	if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	} else if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         opts.roots,
		Intermediates: intermediates,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		var invalid x509.CertificateInvalidError
		if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
			// A CA above the leaf is not valid during the leaf's window.
			return nil, fmt.Errorf("%w: %v", ErrCertExpired, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrBadCert, err)
	}
	c := &verifiedCert{key: key, notBefore: leaf.NotBefore, notAfter: leaf.NotAfter}
	for _, ca := range chains[0][1:] {
		if ca.NotBefore.After(c.notBefore) {
			c.notBefore = ca.NotBefore
		}
		if ca.NotAfter.Before(c.notAfter) {
			c.notAfter = ca.NotAfter
		}
	}
	return c, nil
}

// namesPayPal reports whether the leaf's common name or one of its DNS
// subject alternative names is PayPal's message-verification host.
func namesPayPal(leaf *x509.Certificate) bool {
	if allowedCertName(leaf.Subject.CommonName) {
		return true
	}
	for _, n := range leaf.DNSNames {
		if allowedCertName(n) {
			return true
		}
	}
	return false
}

// certCache keeps verified certificates by URL, at most size of them; when
// full, the oldest entry goes.
type certCache struct {
	mu    sync.Mutex
	size  int
	certs map[string]*verifiedCert
	order []string // insertion order, oldest first
}

func newCertCache(size int) *certCache {
	return &certCache{size: size, certs: make(map[string]*verifiedCert, size)}
}

func (c *certCache) get(url string) (*verifiedCert, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.certs[url]
	return v, ok
}

func (c *certCache) put(url string, v *verifiedCert) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.certs[url]; ok {
		c.certs[url] = v
		return
	}
	for len(c.order) >= c.size {
		delete(c.certs, c.order[0])
		c.order = c.order[1:]
	}
	c.certs[url] = v
	c.order = append(c.order, url)
}

// len is the number of cached certificates.
func (c *certCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.certs)
}
