package paytrace_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/gateway/paytrace"
	"github.com/flowhq/flow/runtime/gateway/paytrace/paytracetest"
)

const salePath = paytracetest.SalePath

// saleClient is a client of srv whose clock and zone the double shares.
func saleClient(t *testing.T, srv *paytracetest.Server, cfg paytrace.Config) *paytrace.Client {
	t.Helper()
	cfg.BaseURL, cfg.Username, cfg.Password, cfg.IntegratorID = srv.URL, "demo123", "demo123", "9999"
	if cfg.Now == nil {
		clk := &clock{t: time.Date(2024, 5, 1, 22, 30, 0, 0, time.UTC)}
		cfg.Now = clk.Now
	}
	srv.SetNow(cfg.Now)
	c, err := paytrace.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newSaleServer(t *testing.T) *paytracetest.Server {
	t.Helper()
	srv := paytracetest.New("demo123", "demo123")
	t.Cleanup(srv.Close)
	srv.AddProfile("cust-0001")
	return srv
}

func saleWrite(fields erp.Record) erp.Write {
	return erp.Write{Op: erp.Create, Entity: paytrace.SaleEntity, Key: "recurring:INV-1:1", Fields: fields}
}

func dollars(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func kindOf(err error) string {
	if err == nil {
		return "nil"
	}
	return erp.KindOf(err).String()
}

// An approved sale is a record with the schema's fields and Go types, sent
// as PayTrace takes it: amount as a string of dollars and cents.
func TestSaleApproved(t *testing.T) {
	srv := newSaleServer(t)
	c := saleClient(t, srv, paytrace.Config{})
	rec, err := c.Write(context.Background(), saleWrite(erp.Record{
		"customer_id": "cust-0001", "amount": dollars("12.5"), "invoice_id": "INV-1",
		"description": "May subscription", "customer_reference_id": "PO-77", "email": "ap@example.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := erp.Record{
		"approved": true, "transaction_id": "392483066", "response_code": int64(101),
		"status_message": "Your transaction was successfully approved.", "approval_code": "TAS610",
		"approval_message": "NO  MATCH - Approved and completed", "avs_response": "No Match", "csc_response": "",
		"masked_card_number": "xxxxxxxxxxxx5439", "amount": dollars("12.5"), "invoice_id": "INV-1", "customer_id": "cust-0001",
	}
	if !equalRecords(rec, want) {
		t.Fatalf("got  %v\nwant %v", rec, want)
	}
	reqs := srv.Requests(salePath)
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	sent := reqs[0]
	for k, v := range map[string]any{"amount": "12.50", "customer_id": "cust-0001", "invoice_id": "INV-1", "integrator_id": "9999",
		"description": "May subscription", "customer_reference_id": "PO-77", "email": "ap@example.com"} {
		if sent[k] != v {
			t.Errorf("sent %s = %#v, want %#v", k, sent[k], v)
		}
	}
	if len(sent) != 7 {
		t.Errorf("sent %v", sent)
	}
	// A whole amount may come as an integer; unset optional params are
	// not sent.
	if _, err := c.Write(context.Background(), saleWrite(erp.Record{"customer_id": "cust-0001", "amount": int64(30), "description": nil})); err != nil {
		t.Fatal(err)
	}
	if sent := srv.Requests(salePath)[1]; sent["amount"] != "30.00" || len(sent) != 3 {
		t.Errorf("sent %v", sent)
	}
}

// equalRecords compares records, decimals by value.
func equalRecords(a, b erp.Record) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			return false
		}
		if d, isDec := v.(decimal.Decimal); isDec {
			if e, ok := w.(decimal.Decimal); !ok || !d.Equal(e) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}

// A decline is an answer, not a failure: the record says why, so a flow
// can run its dunning; the next charge goes through.
func TestSaleDeclined(t *testing.T) {
	srv := newSaleServer(t)
	srv.Decline("cust-0001", 1)
	c := saleClient(t, srv, paytrace.Config{})
	w := saleWrite(erp.Record{"customer_id": "cust-0001", "amount": dollars("99.00"), "invoice_id": "INV-1"})
	rec, err := c.Write(context.Background(), w)
	if err != nil {
		t.Fatalf("a decline is an error: %v", err)
	}
	if rec["approved"] != false || rec["response_code"] != int64(102) || rec["approval_message"] != "DECLINE - Do not honor" ||
		rec["status_message"] != "Your transaction was not approved." || rec["transaction_id"] == "" || rec["approval_code"] != "" {
		t.Fatalf("decline %v", rec)
	}
	rec, err = c.Write(context.Background(), w)
	if err != nil || rec["approved"] != true {
		t.Fatalf("the next attempt: %v, %v", rec, err)
	}
}

// An unknown profile is a request error: permanent, naming PayTrace's
// errors.
func TestSaleUnknownProfile(t *testing.T) {
	srv := newSaleServer(t)
	c := saleClient(t, srv, paytrace.Config{})
	_, err := c.Write(context.Background(), saleWrite(erp.Record{"customer_id": "nobody", "amount": dollars("5")}))
	var e *erp.Error
	var api *paytrace.APIError
	if !errors.As(err, &e) || e.Kind != erp.Permanent || !errors.As(err, &api) || api.Code != 1 ||
		!strings.Contains(err.Error(), "Please provide a valid Customer ID.") || e.Code == "" {
		t.Fatalf("unknown profile: %#v", err)
	}
	if len(srv.Sales()) != 0 {
		t.Fatal("a sale was made")
	}
}

// What the driver cannot send, or could not settle, fails permanently
// before anything leaves (not even a token request).
func TestSaleValidation(t *testing.T) {
	srv := newSaleServer(t)
	c := saleClient(t, srv, paytrace.Config{})
	ok := erp.Record{"customer_id": "cust-0001", "amount": dollars("10.00"), "invoice_id": "INV-1"}
	with := func(k string, v any) erp.Record {
		r := erp.Record{}
		for k, v := range ok {
			r[k] = v
		}
		if v == nil {
			delete(r, k)
		} else {
			r[k] = v
		}
		return r
	}
	for want, w := range map[string]erp.Write{
		"only create":                {Op: erp.Upsert, Entity: "Sale", Fields: ok},
		"cannot create Refund":       {Op: erp.Create, Entity: "Refund", Fields: ok},
		`no parameter "currency"`:    saleWrite(with("currency", "USD")),
		"needs the customer_id":      saleWrite(with("customer_id", nil)),
		"needs the customer_id of":   saleWrite(with("customer_id", "  ")),
		"has spaces around it":       saleWrite(with("customer_id", " cust-0001")),
		"customer_id: 51 characters": saleWrite(with("customer_id", strings.Repeat("c", 51))),
		"customer_id: want a string": saleWrite(with("customer_id", int64(7))),
		"needs an amount":            saleWrite(with("amount", nil)),
		"amount 0 is not positive":   saleWrite(with("amount", decimal.Zero)),
		"amount -5 is not positive":  saleWrite(with("amount", dollars("-5"))),
		"more than two decimal":      saleWrite(with("amount", dollars("12.345"))),
		"too large":                  saleWrite(with("amount", dollars("1000000000"))),
		"want an exact decimal":      saleWrite(with("amount", "12.50")),
		"customer_reference_id: 18":  saleWrite(with("customer_reference_id", strings.Repeat("r", 18))),
		"invoice_id: 51 characters":  saleWrite(with("invoice_id", strings.Repeat("i", 51))),
	} {
		_, err := c.Write(context.Background(), w)
		if kindOf(err) != "permanent" || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	if n := srv.Count(salePath) + srv.Count("/oauth/token"); n != 0 {
		t.Fatalf("%d requests were sent", n)
	}
	if _, _, err := c.Lookup(context.Background(), "Sale", nil); kindOf(err) != "permanent" {
		t.Errorf("Lookup: %v", err)
	}
	if _, _, err := c.PostJournal(context.Background(), erp.Journal{}); kindOf(err) != "permanent" {
		t.Errorf("PostJournal: %v", err)
	}
}

// Failures before the sale reached PayTrace, and answers that say it did
// not act, are transient; a 504 may hide a charge and is in doubt.
func TestSaleTransientFailures(t *testing.T) {
	w := saleWrite(erp.Record{"customer_id": "cust-0001", "amount": dollars("10.00"), "invoice_id": "INV-1"})
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{salePath, "transient", http.StatusInternalServerError},
		{salePath, "transient", http.StatusServiceUnavailable},
		{salePath, "in doubt", http.StatusGatewayTimeout},
		{"/oauth/token", "transient", http.StatusServiceUnavailable}, // no token
	} {
		srv := newSaleServer(t)
		srv.Override(tc.path, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(tc.status)
			w.Write([]byte("<html>oops</html>"))
		})
		_, err := saleClient(t, srv, paytrace.Config{}).Write(context.Background(), w)
		if kindOf(err) != tc.want || !strings.Contains(err.Error(), "HTTP") {
			t.Errorf("%s %d: %v, want %s", tc.path, tc.status, err, tc.want)
		}
	}
	srv := newSaleServer(t)
	srv.Override(salePath, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "7")
		writeJSONAnswer(w, http.StatusTooManyRequests, `{}`)
	})
	_, err := saleClient(t, srv, paytrace.Config{}).Write(context.Background(), w)
	if kindOf(err) != "transient" || erp.RetryAfter(err) != 7*time.Second {
		t.Errorf("429: %v (retry after %v)", err, erp.RetryAfter(err))
	}
	// Nothing listens: the token request is refused.
	unreachable, err := paytrace.New(paytrace.Config{BaseURL: "http://127.0.0.1:1", Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unreachable.Write(context.Background(), w); kindOf(err) != "transient" {
		t.Errorf("connection refused: %v", err)
	}
	// Bad credentials do not get better.
	srv = paytracetest.New("demo123", "other")
	defer srv.Close()
	if _, err := saleClient(t, srv, paytrace.Config{}).Write(context.Background(), w); kindOf(err) != "permanent" || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("bad credentials: %v", err)
	}
}

func writeJSONAnswer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// A sale whose answer is lost after PayTrace received it is in doubt; Find
// then returns the sale that was made, and there is exactly one.
func TestSaleInDoubtIsFound(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone data")
	}
	srv := newSaleServer(t)
	srv.AddProfile("cust-0002")
	clk := &clock{t: time.Date(2024, 5, 1, 23, 50, 0, 0, chicago)} // 04:50 the next day in UTC
	c := saleClient(t, srv, paytrace.Config{Now: clk.Now, Loc: chicago})
	ctx := context.Background()
	// Other sales in the export: another customer's, another amount.
	for _, f := range []erp.Record{
		{"customer_id": "cust-0002", "amount": dollars("49.99"), "invoice_id": "INV-7"},
		{"customer_id": "cust-0001", "amount": dollars("10.00"), "invoice_id": "INV-7"},
	} {
		if _, err := c.Write(ctx, saleWrite(f)); err != nil {
			t.Fatal(err)
		}
	}
	w := saleWrite(erp.Record{"customer_id": "cust-0001", "amount": dollars("49.99"), "invoice_id": "INV-7"})
	srv.LoseAnswers(1)
	_, err = c.Write(ctx, w)
	if kindOf(err) != "in doubt" {
		t.Fatalf("a lost answer: %v", err)
	}
	clk.Add(20 * time.Minute) // settled the next day
	rec, found, err := c.Find(ctx, w)
	if err != nil || !found {
		t.Fatalf("Find: %v, %v, %v", rec, found, err)
	}
	var made []map[string]any
	for _, s := range srv.Sales() {
		if s["customer_id"] == "cust-0001" && s["invoice_id"] == "INV-7" && s["amount"] == json.Number("49.99") {
			made = append(made, s)
		}
	}
	if len(made) != 1 {
		t.Fatalf("%d sales made, want 1", len(made))
	}
	want := erp.Record{"approved": true, "transaction_id": "392483068", "response_code": int64(101), "status_message": "GB571",
		"approval_code": "TAS610", "approval_message": "NO  MATCH - Approved and completed", "avs_response": "No Match", "csc_response": "",
		"masked_card_number": "************5439", "amount": dollars("49.99"), "invoice_id": "INV-7", "customer_id": "cust-0001"}
	if !equalRecords(rec, want) {
		t.Fatalf("found %v\nwant  %v", rec, want)
	}
	ex := srv.Exports()
	if last := ex[len(ex)-1]; last != [2]string{"04/30/2024", "05/02/2024"} {
		t.Fatalf("exported %v, want the three days to today in Chicago", last)
	}
}

// Answers that time out or break off after the sale was sent are in
// doubt.
func TestSaleLostAnswers(t *testing.T) {
	w := saleWrite(erp.Record{"customer_id": "cust-0001", "amount": dollars("10.00"), "invoice_id": "INV-1"})
	for name, answer := range map[string]func(w http.ResponseWriter){
		"timeout": func(w http.ResponseWriter) { time.Sleep(300 * time.Millisecond) },
		"truncated": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "200")
			w.Write([]byte(`{"success":true,"response_code":101,`))
		},
	} {
		srv := newSaleServer(t)
		srv.Override(salePath, answer)
		c := saleClient(t, srv, paytrace.Config{HTTP: &http.Client{Timeout: 100 * time.Millisecond}})
		_, err := c.Write(context.Background(), w)
		if kindOf(err) != "in doubt" || !strings.Contains(err.Error(), "may have been made") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A cancelled context after the request left is in doubt too.
	srv := newSaleServer(t)
	srv.Override(salePath, func(w http.ResponseWriter) { time.Sleep(200 * time.Millisecond) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c := saleClient(t, srv, paytrace.Config{})
	if _, err := c.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(ctx, w); kindOf(err) != "in doubt" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
}

// Find with nothing made finds nothing; a lost decline is not exported by
// the double, so it is not found either.
func TestFindNothing(t *testing.T) {
	srv := newSaleServer(t)
	c := saleClient(t, srv, paytrace.Config{})
	w := saleWrite(erp.Record{"customer_id": "cust-0001", "amount": dollars("10.00"), "invoice_id": "INV-1"})
	rec, found, err := c.Find(context.Background(), w)
	if err != nil || found || rec != nil {
		t.Fatalf("Find: %v, %v, %v", rec, found, err)
	}
	noInvoice := saleWrite(erp.Record{"customer_id": "cust-0001", "amount": dollars("10.00")})
	if _, _, err := c.Find(context.Background(), noInvoice); kindOf(err) != "permanent" || !strings.Contains(err.Error(), "invoice_id") {
		t.Fatalf("Find without an invoice: %v", err)
	}
	srv.Override("/v1/transactions/export/by_date_range", func(w http.ResponseWriter) { writeJSONAnswer(w, 503, `{}`) })
	if _, _, err := c.Find(context.Background(), w); kindOf(err) != "transient" {
		t.Fatalf("Find with PayTrace down: %v", err)
	}
}

// Find returns the newest match; approved is whether it has an approval
// code; an unreadable transaction that may be the sale stops it.
func TestFindPicksTheNewest(t *testing.T) {
	srv := newSaleServer(t)
	c := saleClient(t, srv, paytrace.Config{})
	sale := func(id int64, invoice, amount, at string, approved bool) map[string]any {
		m := paytracetest.Sale(id, invoice, json.Number(amount), "", at)
		m["customer_id"] = "cust-0001"
		if !approved {
			m["approval_code"], m["approval_message"] = "", "DECLINE - Do not honor"
		}
		return m
	}
	srv.Add(sale(1, "INV-1", "10", "4/30/2024 9:00:00 AM", true),
		sale(2, "INV-1", "10.00", "5/1/2024 9:00:00 AM", false),
		sale(3, "INV-1", "10.01", "5/1/2024 10:00:00 AM", true),
		sale(4, "INV-2", "10.00", "5/1/2024 10:00:00 AM", true),
		paytracetest.Refund(5, "INV-1", "10.00", "5/1/2024 11:00:00 AM"))
	w := saleWrite(erp.Record{"customer_id": "cust-0001", "amount": dollars("10.00"), "invoice_id": "INV-1"})
	rec, found, err := c.Find(context.Background(), w)
	if err != nil || !found || rec["transaction_id"] != "2" || rec["approved"] != false || rec["response_code"] != int64(102) {
		t.Fatalf("Find: %v, %v, %v", rec, found, err)
	}
	srv.Add(sale(6, "INV-1", "10.00", "5/1/2024 12:00:00 PM", true))
	if rec, _, _ := c.Find(context.Background(), w); rec["transaction_id"] != "6" || rec["approved"] != true {
		t.Fatalf("Find: %v", rec)
	}
	bad := sale(7, "INV-1", "10.00", "5/1/2024 1:00:00 PM", true)
	bad["created"] = map[string]any{"at": "5/1/2024 1:00:00 PM", "by": "x"}
	bad["amount"] = "ten"
	srv.Add(bad)
	if _, _, err := c.Find(context.Background(), w); kindOf(err) != "permanent" || !strings.Contains(err.Error(), "transaction 7") {
		t.Fatalf("an unreadable match: %v", err)
	}
}

// PayTrace's recorded sale answers decode to records; garbage answers to
// clear errors (in doubt when PayTrace said 2xx: it may have charged), and
// none panics.
func TestSaleAnswers(t *testing.T) {
	w := saleWrite(erp.Record{"customer_id": "cust-0001", "amount": dollars("1.00"), "invoice_id": "INV-1"})
	for _, tc := range []struct {
		status      int
		contentType string
		body        string
		kind, want  string
	}{
		{200, "application/json", testdata(t, "successful_purchase_response.json"), "nil", "392483066"},
		{200, "application/json", testdata(t, "keyed_sale_live_sandbox_2021-06-03.json"), "nil", "395970044"},
		{200, "application/json", testdata(t, "failed_purchase_response.json"), "nil", "392501201"},
		{200, "application/json", testdata(t, "failed_refund_response.json"), "permanent", "error 981: Log in failed for insufficient permissions."},
		{400, "application/json", testdata(t, "failed_void_response.json"), "permanent", "error 58: Please provide a valid Transaction ID."},
		{200, "text/html", "<html><body>Service Unavailable</body></html>", "in doubt", `not PayTrace's JSON (HTTP 200): "<html>`},
		{200, "application/json", `{"success":true,"response_code":101,"transaction_id":3924`, "in doubt", "not PayTrace's JSON"},
		{200, "application/json", `{}`, "in doubt", "not PayTrace's JSON"},
		{200, "application/json", `[1, 2]`, "in doubt", "not PayTrace's JSON"},
		{200, "application/json", `{"success":"yes","response_code":"abc"}`, "in doubt", "not PayTrace's JSON"},
		{200, "application/json", "\xff\xfe", "in doubt", "not PayTrace's JSON"},
		{404, "text/html", "<html>Not Found</html>", "permanent", "HTTP 404"},
		{403, "text/html", "<html>Forbidden</html>", "permanent", "not authorized"},
		{408, "text/html", "", "transient", "HTTP 408"},
		{200, "application/json", `{"success":true,"response_code":101,"status_message":"ok"}`, "permanent", "no transaction_id"},
		{200, "application/json", `{"success":true,"response_code":999,"transaction_id":5}`, "permanent", "unexpected answer"},
		{200, "application/json", `{"success":false,"response_code":102}`, "permanent", "unexpected answer"},
	} {
		srv := fixed(t, tc.status, tc.contentType, tc.body)
		rec, err := newClient(t, srv.URL, nil).Write(context.Background(), w)
		if kindOf(err) != tc.kind {
			t.Errorf("%d %.60q: %v, want %s", tc.status, tc.body, err, tc.kind)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), tc.want) || err == nil && rec["transaction_id"] != tc.want {
			t.Errorf("%d %.60q: %v %v, want %q", tc.status, tc.body, rec, err, tc.want)
		}
	}
}

// The double answers a sale with the recorded answers' fields.
func TestDoubleSaleShape(t *testing.T) {
	srv := newSaleServer(t)
	srv.Decline("cust-0001", 1)
	tok := struct {
		AccessToken string `json:"access_token"`
	}{}
	resp, err := http.PostForm(srv.URL+"/oauth/token", map[string][]string{"grant_type": {"password"}, "username": {"demo123"}, "password": {"demo123"}})
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	keys := func(body string) []string {
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	for _, file := range []string{"failed_purchase_response.json", "successful_purchase_response.json"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+salePath, strings.NewReader(`{"customer_id":"cust-0001","amount":"1.00"}`))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		var m json.RawMessage
		json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		b.Write(m)
		if got, want := keys(b.String()), keys(testdata(t, file)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the double answers %v, PayTrace %v", file, got, want)
		}
	}
}
