package paytrace_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/gateway/paytrace"
	"github.com/flowhq/flow/runtime/gateway/paytrace/paytracetest"
)

const exportPath = "/v1/transactions/export/by_date_range"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClient(t *testing.T, base string, now func() time.Time) *paytrace.Client {
	t.Helper()
	c, err := paytrace.New(paytrace.Config{BaseURL: base, Username: "demo123", Password: "demo123", IntegratorID: "9999", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The token is fetched once, reused until shortly before its 7200 s run
// out, then replaced; a token PayTrace refuses early is replaced once.
func TestTokenIsCachedAndRefreshed(t *testing.T) {
	srv := paytracetest.New("demo123", "demo123")
	defer srv.Close()
	clk := &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	c := newClient(t, srv.URL, clk.Now)
	ctx := context.Background()
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for range 3 {
		if _, err := c.Export(ctx, day, day); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count("/oauth/token"); n != 1 {
		t.Fatalf("%d token requests for 3 calls, want 1", n)
	}
	clk.Add(7200*time.Second - 6*time.Minute) // still 6 minutes left
	c.Export(ctx, day, day)
	if n := srv.Count("/oauth/token"); n != 1 {
		t.Fatalf("refreshed with 6 minutes left: %d", n)
	}
	clk.Add(2 * time.Minute) // 4 minutes left: replaced before it runs out
	if _, err := c.Export(ctx, day, day); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("/oauth/token"); n != 2 {
		t.Fatalf("not refreshed before expiry: %d token requests", n)
	}
	srv.RevokeTokens()
	if _, err := c.Export(ctx, day, day); err != nil {
		t.Fatalf("after a revoked token: %v", err)
	}
	if n := srv.Count("/oauth/token"); n != 3 {
		t.Fatalf("revoked token not replaced: %d", n)
	}
	// expires_in as a string, as some OAuth servers send it.
	srv.SetExpiresIn("60")
	srv.RevokeTokens()
	c.Export(ctx, day, day)
	clk.Add(31 * time.Second)
	c.Export(ctx, day, day)
	if n := srv.Count("/oauth/token"); n != 5 {
		t.Fatalf("a 60 s token was kept past half its life: %d", n)
	}
}

func TestBadCredentialsAreAnAPIError(t *testing.T) {
	srv := paytracetest.New("demo123", "right")
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	_, err := c.Export(context.Background(), time.Now(), time.Now())
	var api *paytrace.APIError
	if !errors.As(err, &api) || !strings.Contains(err.Error(), "invalid_grant") || errors.Is(err, paytrace.ErrUnavailable) {
		t.Fatalf("bad credentials: %v", err)
	}
}

// fixed answers with a recorded body.
func fixed(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			b, _ := os.ReadFile(filepath.Join("testdata", "oauth_token.response.json"))
			w.Write(b)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// PayTrace's recorded answers map to results, declines and request errors.
func TestRecordedAnswers(t *testing.T) {
	ctx := context.Background()
	srv := fixed(t, 200, "application/json", testdata(t, "successful_refund_response.json"))
	res, err := newClient(t, srv.URL, nil).Refund(ctx, "392483066", decimal.RequireFromString("1.00"))
	if err != nil || res.Code != 106 || res.TransactionID != "105968559" {
		t.Fatalf("refund: %+v, %v", res, err)
	}
	for _, c := range []struct {
		file, want string
		decline    bool
	}{
		{"failed_refund_response.json", "error 981: Log in failed for insufficient permissions.", false},
		{"failed_void_response.json", "error 58: Please provide a valid Transaction ID.", false},
		{"failed_purchase_response.json", "declined (response_code 102): Your transaction was not approved.: DECLINE - Do not honor (transaction 392501201)", true},
	} {
		srv := fixed(t, 200, "application/json", testdata(t, c.file))
		_, err := newClient(t, srv.URL, nil).Refund(ctx, "1", decimal.Zero)
		var d *paytrace.Decline
		var api *paytrace.APIError
		if c.decline != errors.As(err, &d) || !c.decline && !errors.As(err, &api) || errors.Is(err, paytrace.ErrUnavailable) {
			t.Errorf("%s: %T %v", c.file, err, err)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.file, err, c.want)
		}
	}
	if _, err := newClient(t, srv.URL, nil).Refund(ctx, "12; DROP", decimal.Zero); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("a bad id: %v", err)
	}
	if _, err := newClient(t, srv.URL, nil).Refund(ctx, "1", decimal.RequireFromString("1.005")); err == nil {
		t.Error("a refund of 1.005 dollars was sent")
	}
}

// What is not PayTrace's JSON is a clear, retryable error.
func TestGarbageAnswers(t *testing.T) {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		status      int
		contentType string
		body, want  string
	}{
		{200, "text/html", "<html>Service Unavailable</html>", `not PayTrace's JSON (HTTP 200): "<html>Service Unavailable</html>"`},
		{503, "application/json", `{}`, "HTTP 503"},
		{429, "application/json", `{}`, "HTTP 429"},
		{200, "application/json", `{"transactions": []}`, "not PayTrace's JSON"},
		{200, "application/json", `{"success": true, "response_code": 1, "transactions": {"a": 1}}`, "does not have PayTrace's shape"},
		{200, "application/json", `[1, 2`, "not PayTrace's JSON"},
		{200, "application/json", "\xff\xfe", "not PayTrace's JSON"},
	} {
		srv := fixed(t, c.status, c.contentType, c.body)
		_, err := newClient(t, srv.URL, nil).Export(context.Background(), day, day)
		if !errors.Is(err, paytrace.ErrUnavailable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d %q: %v, want ErrUnavailable with %q", c.status, c.body, err, c.want)
		}
	}
	srv := fixed(t, 200, "application/json", `{"success": true, "response_code": 999, "status_message": "?"}`)
	if _, err := newClient(t, srv.URL, nil).Export(context.Background(), day, day); err == nil || !strings.Contains(err.Error(), "unknown response_code") {
		t.Errorf("unknown code: %v", err)
	}
	if _, err := paytrace.New(paytrace.Config{Username: "u", Password: "p", BaseURL: "ftp://x"}); err == nil {
		t.Error("an ftp base URL was taken")
	}
	if _, err := paytrace.New(paytrace.Config{}); err == nil {
		t.Error("no credentials were taken")
	}
	unreachable := newClient(t, "http://127.0.0.1:1", nil)
	if _, err := unreachable.Export(context.Background(), day, day); !errors.Is(err, paytrace.ErrUnavailable) {
		t.Errorf("unreachable: %v", err)
	}
}

// The help page's export, read in the merchant's zone: the mixed amounts
// exact, the zone-less times in Chicago.
func TestNormalizeTheHelpPageExport(t *testing.T) {
	var answer struct {
		Transactions []json.RawMessage `json:"transactions"`
	}
	if err := json.Unmarshal([]byte(testdata(t, "export_by_date_range.response.json")), &answer); err != nil || len(answer.Transactions) != 1 {
		t.Fatal(err)
	}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone data")
	}
	ev, err := paytrace.Normalize(answer.Transactions[0], chicago)
	if err != nil {
		t.Fatal(err)
	}
	tx := ev.Transaction
	got := []string{ev.ID, ev.Type, ev.Created, tx.Amount, tx.TaxAmount, tx.Currency, tx.InvoiceID, tx.Created.At, tx.Settled, tx.CreditCard.MaskedNumber, tx.BillingAddress.City}
	want := []string{"79388123", "transaction.sale", "2015-04-10T16:06:30-05:00", "110", "8.1", "USD", "inv1234", "2015-04-10T16:06:30-05:00", "2015-04-10T20:13:45-05:00", "************5454", "Spokane"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	if tx.CreditCard.ExpirationMonth != 12 || tx.CreditCard.ExpirationYear != 20 {
		t.Fatalf("card %+v", tx.CreditCard)
	}
}

func TestAmounts(t *testing.T) {
	for in, want := range map[string]string{`110`: "110", `"8.10"`: "8.1", `" 0.99 "`: "0.99", `1.5e2`: "150", `"-5.00"`: "-5", `0.1`: "0.1"} {
		var v any
		d := json.NewDecoder(strings.NewReader(in))
		d.UseNumber()
		d.Decode(&v)
		got, err := paytrace.Amount(v)
		if err != nil || got.String() != want {
			t.Errorf("Amount(%s) = %s, %v, want %s", in, got, err, want)
		}
	}
	for _, in := range []any{"", "abc", "$5.00", "1,000.00", "1.005", "NaN", "Infinity", "1e400", json.Number("0.001"), true, nil, map[string]any{}} {
		if got, err := paytrace.Amount(in); err == nil {
			t.Errorf("Amount(%#v) = %s, want an error", in, got)
		}
	}
}

// Transactions flowd cannot read are clear errors that name the
// transaction and the field.
func TestBadTransactions(t *testing.T) {
	for raw, want := range map[string]string{
		`[]`: "transaction (no id): transaction: not a JSON object",
		`{"transaction_type": "SALE", "amount": 1, "created": {"at": "4/10/2015 4:06:30 PM"}}`:                               `transaction (no id): transaction_id: "" is not a transaction id`,
		`{"transaction_id": 7, "transaction_type": "SALE", "amount": "ten", "created": {"at": "4/10/2015 4:06:30 PM"}}`:      `transaction 7: amount: "ten" is not an amount in dollars`,
		`{"transaction_id": 7, "transaction_type": "SALE", "amount": 1.005, "created": {"at": "4/10/2015 4:06:30 PM"}}`:      `transaction 7: amount: "1.005" has more than two decimals`,
		`{"transaction_id": 7, "transaction_type": "SALE", "amount": -3, "created": {"at": "4/10/2015 4:06:30 PM"}}`:         `transaction 7: amount: -3 is negative`,
		`{"transaction_id": 7, "transaction_type": "SALE", "amount": 1, "tax_amount": [], "created": {"at": "4/10/2015"}}`:   `transaction 7: tax_amount: want a number or a string, got an array`,
		`{"transaction_id": 7, "transaction_type": "SALE", "amount": 1, "created": {"at": "2015-13-45 99:00"}}`:              `transaction 7: created.at: "2015-13-45 99:00" is not a PayTrace date`,
		`{"transaction_id": 7, "transaction_type": "SALE", "amount": 1}`:                                                     `transaction 7: created: missing`,
		`{"transaction_id": 7, "transaction_type": "S@LE", "amount": 1, "created": {"at": "4/10/2015"}}`:                     `transaction 7: transaction_type: "S@LE" is not a transaction type`,
		`{"transaction_id": 7, "transaction_type": "SALE", "amount": 1, "created": {"at": "4/10/2015"}, "credit_card": "x"}`: `transaction 7: credit_card: want an object, got a string`,
		`{"transaction_id": 7.5, "transaction_type": "SALE", "amount": 1, "created": {"at": "4/10/2015"}}`:                   `transaction 7.5: transaction_id`,
		`{"transaction_id": 7, "transaction_type": "SALE", "amount": 1, "created": {"at": "4/10/2015"}, "settled": "soon"}`:  `transaction 7: settled: "soon" is not a PayTrace date`,
	} {
		_, err := paytrace.Normalize([]byte(raw), time.UTC)
		var bad *paytrace.BadTransaction
		if !errors.As(err, &bad) || !strings.Contains(err.Error(), want) {
			t.Errorf("Normalize(%s) = %v, want %q", raw, err, want)
		}
	}
	// A refund's negative amount is its direction: the event says refund,
	// the amount is positive.
	ev, err := paytrace.Normalize([]byte(`{"transaction_id": 8, "transaction_type": "Refund", "amount": "-5.25", "created": {"at": "4/11/2015 9:00:00 AM"}}`), time.UTC)
	if err != nil || ev.Type != "transaction.refund" || ev.Transaction.Amount != "5.25" || ev.Transaction.TransactionType != "REFUND" {
		t.Fatalf("refund: %+v, %v", ev, err)
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add([]byte(`{"transaction_id": 7, "transaction_type": "SALE", "amount": 110, "tax_amount": "8.10", "created": {"at": "4/10/2015 4:06:30 PM"}}`))
	f.Add([]byte(`{"transaction_id": "7", "amount": "1e99999999", "created": {"at": 5}}`))
	f.Add([]byte(`{"credit_card": {"expiration_month": "1e30"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := paytrace.Normalize(raw, time.UTC)
		if err == nil {
			if _, err := decimal.NewFromString(ev.Transaction.Amount); err != nil || ev.ID == "" || ev.Type == "" {
				t.Fatalf("accepted %s as %+v", raw, ev)
			}
		}
	})
}
