package paypal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"sync"
	"testing"
	"time"
)

// A test PKI in the shape of PayPal's: a root, an issuing CA and a
// message-verification leaf, all made here, so that chain checks, names
// and keys can be varied without PayPal's private keys.
var (
	pkiOnce sync.Once
	pkiVal  *pki
	pkiErr  error
)

// pkiNow is inside every window of the test PKI's certificates.
var pkiNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

type pki struct {
	roots     *x509.CertPool
	root      *x509.Certificate
	rootKey   *rsa.PrivateKey
	inter     *x509.Certificate
	interKey  *rsa.PrivateKey
	interPEM  []byte
	leafKey   *rsa.PrivateKey // the key of every leaf made with leaf()
	leafPEM   []byte          // messageverificationcerts.paypal.com, 2030
	otherKey  *rsa.PrivateKey
	serverTLS tls.Certificate // api.paypal.com, for the loopback server
}

// testPKI returns the test PKI, made once per test binary.
func testPKI(t testing.TB) *pki {
	t.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = newPKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

func newPKI() (*pki, error) {
	p := &pki{}
	keys := make([]*rsa.PrivateKey, 4)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	p.rootKey, p.interKey, p.leafKey, p.otherKey = keys[0], keys[1], keys[2], keys[3]
	var err error
	p.root, err = makeCert(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "Flow Test Root CA"},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil, nil, &p.rootKey.PublicKey, p.rootKey)
	if err != nil {
		return nil, err
	}
	p.inter, err = makeCert(caTemplate("Flow Test Issuing CA", time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)),
		p.root, p.rootKey, &p.interKey.PublicKey, nil)
	if err != nil {
		return nil, err
	}
	p.roots = x509.NewCertPool()
	p.roots.AddCert(p.root)
	p.interPEM = pemOf(p.inter)
	leaf, err := makeCert(leafTemplate("messageverificationcerts.paypal.com", "messageverificationcerts.paypal.com"),
		p.inter, p.interKey, &p.leafKey.PublicKey, nil)
	if err != nil {
		return nil, err
	}
	p.leafPEM = pemOf(leaf)
	// The loopback server's certificate is checked against the real
	// clock by the TLS client.
	serverTmpl := leafTemplate("api.paypal.com", "api.paypal.com")
	serverTmpl.NotBefore, serverTmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	server, err := makeCert(serverTmpl, p.inter, p.interKey, &p.otherKey.PublicKey, nil)
	if err != nil {
		return nil, err
	}
	p.serverTLS = tls.Certificate{Certificate: [][]byte{server.Raw, p.inter.Raw}, PrivateKey: p.otherKey}
	return p, nil
}

// makeCert signs tmpl for pub with parent and parentKey, or self-signed
// with self when parent is nil.
func makeCert(tmpl, parent *x509.Certificate, parentKey any, pub any, self *rsa.PrivateKey) (*x509.Certificate, error) {
	sn, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = sn
	if parent == nil {
		parent, parentKey = tmpl, self
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func caTemplate(cn string, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
}

// leafTemplate is a 2030 server certificate; san may be "" for none.
func leafTemplate(cn, san string) *x509.Certificate {
	c := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"PayPal, Inc."}},
		NotBefore:   time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:    time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if san != "" {
		c.DNSNames = []string{san}
	}
	return c
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// leaf issues a leaf from tmpl under the test issuing CA for key (the
// PKI's leaf key when nil) and returns its PEM.
func (p *pki) leaf(t testing.TB, tmpl *x509.Certificate, key any) []byte {
	t.Helper()
	if key == nil {
		key = &p.leafKey.PublicKey
	}
	c, err := makeCert(tmpl, p.inter, p.interKey, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(c)
}

// ecdsaKey makes a P-256 public key, for a leaf that is not RSA.
func ecdsaKey(t testing.TB) any {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// testWebhookID is the webhook id of deliveries signed by the test PKI.
const testWebhookID = "8PT597110X687430L"

// testBody is a small event.
var testBody = []byte(`{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource_type":"capture","create_time":"2030-06-01T11:59:00Z","resource":{"id":"C1","amount":{"currency_code":"EUR","value":"10.00"}}}`)

// signed returns the headers PayPal would send with body, signed with key
// (the PKI's leaf key when nil), naming certURL.
func (p *pki) signed(t testing.TB, key *rsa.PrivateKey, certURL string, body []byte) http.Header {
	t.Helper()
	if key == nil {
		key = p.leafKey
	}
	const id, at = "b2a8f3e0-1f3c-11f5-9d47-0242ac120002", "2030-06-01T11:59:01Z"
	sig, err := Sign(key, id, at, testWebhookID, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(HeaderTransmissionID, id)
	h.Set(HeaderTransmissionTime, at)
	h.Set(HeaderTransmissionSig, sig)
	h.Set(HeaderCertURL, certURL)
	h.Set(HeaderAuthAlgo, AuthAlgo)
	h.Set("Paypal-Auth-Version", "v2")
	return h
}
