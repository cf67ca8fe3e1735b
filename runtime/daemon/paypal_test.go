package daemon

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/gateway/paypal"
	"github.com/flowhq/flow/runtime/store"
)

// paypalFixtures are PayPal's signed simulator deliveries (see
// runtime/gateway/paypal/testdata/README.md for their source).
const paypalFixtures = "../gateway/paypal/testdata"

// certFromFixtures answers the certificate fetch with the recorded
// certificate (the verifier still checks its chain, name and validity).
type certFromFixtures struct{}

func (certFromFixtures) RoundTrip(r *http.Request) (*http.Response, error) {
	name := filepath.Base(r.URL.Path)
	b, err := os.ReadFile(filepath.Join(paypalFixtures, "simulator_signed", name+".pem"))
	if err != nil {
		return &http.Response{StatusCode: 404, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-pem-file"}}, Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
}

func paypalDelivery(t *testing.T, name string) (http.Header, []byte) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(paypalFixtures, "simulator_signed", name+".body.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(paypalFixtures, "simulator_signed", name+".headers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var hs map[string]string
	if err := json.Unmarshal(raw, &hs); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range hs {
		if strings.HasPrefix(k, "paypal-") || k == "content-type" {
			h.Set(k, v)
		}
	}
	return h, body
}

// A signed PayPal capture reaches flowd's inbox and its flow writes the
// sales order and payment; a forged one is refused and stores nothing.
func TestPayPalCaptureIsVerifiedStoredAndRun(t *testing.T) {
	root, err := os.ReadFile(filepath.Join(paypalFixtures, "chain", "DigiCert_High_Assurance_EV_Root_CA.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(root)
	recorded := time.Date(2024, 8, 2, 19, 40, 0, 0, time.UTC) // the recorded certificate has expired since
	v, err := paypal.NewOffline(paypal.OfflineConfig{WebhookID: "WEBHOOK_ID", Roots: roots,
		Now: func() time.Time { return recorded }, Client: &http.Client{Transport: certFromFixtures{}}})
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, func(s *setup) { s.Flows, s.PayPal = "../../flows/paypal_d365", v })
	send := func(header http.Header, body []byte) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/paypal", bytes.NewReader(body))
		req.Header = header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	header, body := paypalDelivery(t, "HOOK_PAYMENT_CAPTURE_COMPLETED_V2__PAYMENT.CAPTURE.COMPLETED")
	forged := bytes.Replace(body, []byte(`"value":"`), []byte(`"value":"9`), 1)
	if code := send(header, forged); code != http.StatusBadRequest {
		t.Fatalf("a forged capture: HTTP %d", code)
	}
	if code := send(header, body); code != http.StatusOK {
		t.Fatalf("the signed capture: HTTP %d", code)
	}
	if code := send(header, body); code != http.StatusOK { // PayPal redelivers
		t.Fatalf("the redelivery: HTTP %d", code)
	}
	c := h.settle(10 * time.Second)
	if c[store.Done] != 1 || len(c) != 1 {
		t.Fatalf("statuses %v; want the one capture done", c)
	}
	if n := h.count("SalesOrderHeadersV2"); n != 1 {
		t.Errorf("%d sales orders, want 1", n)
	}
	if n := h.count("CustomerPaymentJournalLines"); n != 1 {
		t.Errorf("%d payment lines, want 1", n)
	}
}
