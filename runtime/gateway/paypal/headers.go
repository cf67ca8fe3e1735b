package paypal

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
)

// The headers PayPal sends with every delivery. Names are matched without
// regard to case.
const (
	HeaderTransmissionID   = "Paypal-Transmission-Id"
	HeaderTransmissionTime = "Paypal-Transmission-Time"
	HeaderTransmissionSig  = "Paypal-Transmission-Sig"
	HeaderCertURL          = "Paypal-Cert-Url"
	HeaderAuthAlgo         = "Paypal-Auth-Algo"
)

// AuthAlgo is the only PAYPAL-AUTH-ALGO accepted (compared without regard to
// case, as Java's Signature.getInstance does in PayPal's Java SDK).
const AuthAlgo = "SHA256withRSA"

// maxHeader bounds each signed header's length: the longest real one, the
// signature of a 4096-bit key, is 684 bytes of base64.
const maxHeader = 2048

// delivery is the signed part of a delivery's headers.
type delivery struct {
	transmissionID   string
	transmissionTime string
	sig              []byte // decoded PAYPAL-TRANSMISSION-SIG
	sigText          string // as sent, for the online check
	certURL          string
	authAlgo         string
}

// parseHeaders reads the signed headers of h. Each must be present once
// (values repeated under any spelling of the name are an error), non-empty
// and at most maxHeader bytes; the signature must be standard base64 and
// the algorithm AuthAlgo. The certificate URL is checked by the caller.
func parseHeaders(h http.Header) (delivery, error) {
	var d delivery
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{HeaderTransmissionID, &d.transmissionID},
		{HeaderTransmissionTime, &d.transmissionTime},
		{HeaderTransmissionSig, &d.sigText},
		{HeaderCertURL, &d.certURL},
		{HeaderAuthAlgo, &d.authAlgo},
	} {
		v, err := headerValue(h, f.name)
		if err != nil {
			return delivery{}, err
		}
		*f.dst = v
	}
	if !strings.EqualFold(d.authAlgo, AuthAlgo) {
		return delivery{}, fmt.Errorf("%w: %q, want %s", ErrUnsupportedAlgo, d.authAlgo, AuthAlgo)
	}
	for _, v := range []string{d.transmissionID, d.transmissionTime} {
		if strings.ContainsAny(v, "|\r\n") {
			return delivery{}, fmt.Errorf("%w: %q contains | or a line break", ErrMalformedHeader, v)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(d.sigText)
	if err != nil || len(sig) == 0 {
		return delivery{}, fmt.Errorf("%w: %s is not base64", ErrMalformedHeader, HeaderTransmissionSig)
	}
	d.sig = sig
	return d, nil
}

// headerValue returns the one value of the header called name, whatever the
// case of its key in h: net/http canonicalises names, but a header map built
// by hand (or a recorded one) need not be.
func headerValue(h http.Header, name string) (string, error) {
	var values []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			values = append(values, vs...)
		}
	}
	switch {
	case len(values) == 0 || len(values) == 1 && strings.TrimSpace(values[0]) == "":
		return "", fmt.Errorf("%w: %s", ErrMissingHeader, name)
	case len(values) > 1:
		return "", fmt.Errorf("%w: %s is repeated", ErrMalformedHeader, name)
	case len(values[0]) > maxHeader:
		return "", fmt.Errorf("%w: %s is over %d bytes", ErrMalformedHeader, name, maxHeader)
	}
	return strings.TrimSpace(values[0]), nil
}

// message is what PayPal signs: "<transmission id>|<transmission time>|
// <webhook id>|<CRC-32 of body>", the CRC being IEEE's, printed as unsigned
// decimal (PayPal-node-SDK crc32.unsigned, PayPal-Java-SDK SSLUtil.crc32).
func message(transmissionID, transmissionTime, webhookID string, body []byte) []byte {
	m := make([]byte, 0, len(transmissionID)+len(transmissionTime)+len(webhookID)+13)
	m = append(m, transmissionID...)
	m = append(m, '|')
	m = append(m, transmissionTime...)
	m = append(m, '|')
	m = append(m, webhookID...)
	m = append(m, '|')
	return strconv.AppendUint(m, uint64(crc32.ChecksumIEEE(body)), 10)
}

// Sign returns the PAYPAL-TRANSMISSION-SIG value PayPal would send with body
// for the webhook webhookID, signed with key: tests and demos make their own
// certificate for key and serve it at a PAYPAL-CERT-URL.
func Sign(key *rsa.PrivateKey, transmissionID, transmissionTime, webhookID string, body []byte) (string, error) {
	digest := sha256.Sum256(message(transmissionID, transmissionTime, webhookID, body))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// checkSignature reports whether sig is d's message signed by pub.
func checkSignature(pub *rsa.PublicKey, d delivery, webhookID string, body []byte) error {
	digest := sha256.Sum256(message(d.transmissionID, d.transmissionTime, webhookID, body))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], d.sig); err != nil {
		return ErrBadSignature
	}
	return nil
}
