package d365fo_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/d365fo"
)

// brokenERP is a server that answers every /data request with a fixed,
// broken answer, the way a misconfigured proxy or a half-deployed
// environment does.
func brokenERP(t *testing.T, status int, contentType, body string) *d365fo.Driver {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth2/token") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"t"}`))
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	drv, err := d365fo.New(d365fo.Config{BaseURL: srv.URL, TokenURL: srv.URL + "/t/oauth2/token", Company: "usmf", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return drv
}

func TestGarbageAnswers(t *testing.T) {
	ctx := context.Background()
	lookup := func(d *d365fo.Driver) error {
		_, _, err := d.Lookup(ctx, "CustomersV3", erp.Record{"CustomerAccount": "US-001"})
		return err
	}
	create := func(d *d365fo.Driver) error {
		_, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "k", Fields: customer("US-001")})
		return err
	}
	lines := func(d *d365fo.Driver) error {
		// The header lookup must find a header for the driver to reach $batch,
		// so every answer here is also the lookup's: only malformed ones.
		_, _, err := d.PostJournal(ctx, journal("k", ledgerLine("110180-", "DebitAmount", "1")))
		return err
	}
	const multipart = "multipart/mixed; boundary=b"
	tests := []struct {
		name              string
		status            int
		contentType, body string
		call              func(*d365fo.Driver) error
		want              erp.Kind
	}{
		{"HTML page on 200", 200, "text/html", "<html><body>Sign in</body></html>", lookup, erp.Permanent},
		{"truncated JSON", 200, "application/json", `{"value":[{"CustomerAccount":"US`, lookup, erp.Permanent},
		{"no value array", 200, "application/json", `{"@odata.context":"x"}`, lookup, erp.Permanent},
		{"field of the wrong kind", 200, "application/json", `{"value":[{"CreditLimit":"lots"}]}`, lookup, erp.Permanent},
		{"float where an integer belongs", 200, "application/json", `{"value":[{"PersonAnniversaryYear":1.5}]}`, lookup, erp.Permanent},
		{"nextLink to another host", 200, "application/json", `{"value":[],"@odata.nextLink":"https://evil.example/data/CustomersV3"}`,
			func(d *d365fo.Driver) error {
				_, _, err := d.Find(ctx, erp.Write{Entity: "LedgerJournalHeaders", Key: "k"})
				return err
			}, erp.Permanent},
		{"created but HTML", 201, "text/html", "<html>ok</html>", create, erp.Permanent},
		{"created but an array", 201, "application/json", `[]`, create, erp.Permanent},
		{"400 that is not JSON", 400, "text/plain", "Bad Request", create, erp.Permanent},
		{"503 from a load balancer", 503, "text/html", "<html>503</html>", create, erp.Transient},
		{"200 multipart for a lookup", 200, multipart, "--b--", lines, erp.Permanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(brokenERP(t, tc.status, tc.contentType, tc.body))
			if err == nil {
				t.Fatal("no error")
			}
			if k := kindOf(t, err); k != tc.want {
				t.Errorf("%v: kind %v, want %v", err, k, tc.want)
			}
		})
	}
}

// TestGarbageBatchAnswers lets the header lookup and POST succeed and
// breaks only the $batch answer.
func TestGarbageBatchAnswers(t *testing.T) {
	header := `{"dataAreaId":"usmf","JournalBatchNumber":"GJ-000001","JournalName":"GenJrn","Description":"k"}`
	part := func(status string, body string) string {
		return "--b\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 " + status + "\r\nContent-Type: application/json\r\n\r\n" + body + "\r\n"
	}
	tests := []struct {
		name, contentType, body string
		want                    erp.Kind
	}{
		{"HTML", "text/html", "<html>oops</html>", erp.Permanent},
		{"truncated multipart", "multipart/mixed; boundary=b", part("201 Created", "{}"), erp.Permanent},
		{"no answer for the line", "multipart/mixed; boundary=b", "--b--\r\n", erp.Permanent},
		{"line answer not JSON", "multipart/mixed; boundary=b", part("201 Created", "<xml/>") + "--b--\r\n", erp.Permanent},
		{"line throttled", "multipart/mixed; boundary=b", part("429 Too Many Requests", `{"error":{"code":"","message":"slow down"}}`) + "--b--\r\n", erp.Transient},
		{"line rejected", "multipart/mixed; boundary=b", part("400 Bad Request", `{"error":{"code":"","message":"bad","innererror":{"message":"The property 'X' does not exist","type":"","stacktrace":""}}}`) + "--b--\r\n", erp.Permanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasSuffix(r.URL.Path, "/oauth2/token"):
					_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":"3599","access_token":"t"}`))
				case strings.HasSuffix(r.URL.Path, "/$batch"):
					w.Header().Set("Content-Type", tc.contentType)
					_, _ = w.Write([]byte(tc.body))
				case r.Method == http.MethodGet:
					_, _ = w.Write([]byte(`{"value":[]}`))
				default:
					w.WriteHeader(http.StatusCreated)
					_, _ = w.Write([]byte(header))
				}
			}))
			defer srv.Close()
			drv, err := d365fo.New(d365fo.Config{BaseURL: srv.URL, TokenURL: srv.URL + "/t/oauth2/token", Company: "usmf"})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = drv.PostJournal(context.Background(), journal("k", ledgerLine("110180-", "DebitAmount", "1")))
			if err == nil {
				t.Fatal("no error")
			}
			if k := kindOf(t, err); k != tc.want {
				t.Errorf("%v: kind %v, want %v", err, k, tc.want)
			}
		})
	}
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	drv, err := d365fo.New(d365fo.Config{BaseURL: "http://" + addr, Company: "usmf", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = drv.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "k", Fields: customer("US-001")})
	if err == nil || kindOf(t, err) != erp.Transient {
		t.Errorf("connection refused: %v, want Transient (the write never left)", err)
	}
}
