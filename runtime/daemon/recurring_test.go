package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/d365fo"
	"github.com/flowhq/flow/runtime/erp/sandbox"
	"github.com/flowhq/flow/runtime/gateway/paytrace/paytracetest"
	"github.com/flowhq/flow/runtime/hook"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib"
)

// hookReceiver is the AR team's endpoint: it keeps the notices whose
// signature verifies.
type hookReceiver struct {
	mu      sync.Mutex
	notices []map[string]any
	forged  int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := hook.Verify("hook-s3cret", r.Header.Get("Flow-Signature"), body, time.Now(), 5*time.Minute); err != nil {
		h.forged++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var n map[string]any
	if err := json.Unmarshal(body, &n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.notices = append(h.notices, n)
}

func (h *hookReceiver) got() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.notices...)
}

// flows/paytrace_recurring_d365 in flowd, against the F&O sandbox (with
// the tenant's extension fields), PayTrace's double and a hook receiver:
// a renewal declined on its first attempt is dunned, recovers on the
// second, and a sale whose answer is lost is settled, never charged twice.
func TestRecurringChargesDunsAndRecovers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := "../../flows/paytrace_recurring_d365"
	tenant, err := stdlib.Connectors()["d365fo"](map[string]string{"metadata": "tenant.edmx.xml"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Config{Path: filepath.Join(t.TempDir(), "erp.db"), Entities: tenant, ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := d365fo.Config{BaseURL: base, TokenURL: base + "/test/oauth2/token", ClientID: "flowd", ClientSecret: "s3cret", Company: "usmf", Timeout: 5 * time.Second}
	// flowd's driver knows the default schema: the import's metadata
	// gives it the tenant's (its extension fields).
	drv, err := d365fo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Entities = tenant
	seeder, err := d365fo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seed := func(entity string, fields erp.Record) {
		t.Helper()
		if _, err := seeder.Write(ctx, erp.Write{Op: erp.Create, Entity: entity, Key: "seed:" + entity + ":" + time.Now().String(), Fields: fields}); err != nil {
			t.Fatalf("seed %s: %v", entity, err)
		}
	}
	due := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	seed("CustomersV3", erp.Record{"CustomerAccount": "US-027", "OrganizationName": "Contoso Retail", "CustomerGroupId": "10", "SalesCurrencyCode": "USD", "ZZPayTraceCustomerId": "cust-027"})
	seed("CustomersV3", erp.Record{"CustomerAccount": "US-028", "OrganizationName": "Fabrikam", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}) // pays by bank transfer
	for i, inv := range []struct {
		account, invoice string
		amount           string
	}{{"US-027", "CIV-000812", "250.00"}, {"US-027", "CIV-000813", "99.90"}, {"US-028", "CIV-000814", "10.00"}} {
		rec := int64(5637144600 + i)
		seed("CustTransactions", erp.Record{"SysRecId": rec, "AccountNum": inv.account, "Invoice": inv.invoice, "CurrencyCode": "USD", "AmountCur": decimal.RequireFromString(inv.amount)})
		seed("CustTransOpens", erp.Record{"SysRecId": rec + 1000, "RefRecId": rec, "AccountNum": inv.account, "AmountCur": decimal.RequireFromString(inv.amount), "DueDate": due})
	}

	pt := paytracetest.New("demo123", "demo123")
	defer pt.Close()
	pt.AddProfile("cust-027")
	pt.Decline("cust-027", 1) // the first charge of the first invoice
	recv := &hookReceiver{}
	hooks := httptest.NewServer(recv)
	defer hooks.Close()

	st, err := store.Open(filepath.Join(t.TempDir(), "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secrets := map[string]string{"paytrace_username": "demo123", "paytrace_password": "demo123", "paytrace_integrator_id": "9999", "dunning_hook_secret": "hook-s3cret"}
	d, err := New(Config{Flows: dir, Store: st, ERP: drv, Company: "usmf",
		Compiler: compiler.Config{Params: map[string]string{"paytrace_api": pt.URL, "dunning_hook_url": hooks.URL + "/dunning"}},
		Secret:   func(name string) (string, error) { return secrets[name], nil },
		Retry:    Retry{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond, MaxAttempts: 8, WaitPoll: 20 * time.Millisecond},
		Logger:   slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve(ctx, ln)

	done := 0
	tick := func(day int) {
		t.Helper()
		at := time.Date(2024, 7, day, 12, 0, 0, 0, time.UTC)
		id, body := engine.TickBody("charge_due_invoices", at, at.AddDate(0, 0, -1))
		if _, err := st.Accept(ctx, engine.ScheduleSource, id, "charge_due_invoices", body, time.Now()); err != nil {
			t.Fatal(err)
		}
		d.sched.notify()
		done++
		deadline := time.Now().Add(15 * time.Second)
		for {
			c, err := st.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c[store.Done] == done {
				return
			}
			if c[store.Dead] > 0 || time.Now().After(deadline) {
				evs, _ := st.Events(ctx, store.Filter{Limit: 10})
				t.Fatalf("tick of day %d did not run: %v %+v", day, c, evs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	records := func(entity string) []erp.Record {
		t.Helper()
		recs, err := sb.Records(entity)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	customer := func(account string) erp.Record {
		t.Helper()
		for _, c := range records("CustomersV3") {
			if c["CustomerAccount"] == account {
				return c
			}
		}
		t.Fatalf("no customer %s", account)
		return nil
	}

	// Day 1: CIV-000812 is declined, CIV-000813 paid; US-028 has no profile.
	tick(1)
	sales := pt.Sales()
	if len(sales) != 2 {
		t.Fatalf("day 1: %d sales, want 2 (both invoices of US-027): %v", len(sales), sales)
	}
	if n := recv.got(); len(n) != 1 || n[0]["topic"] != "dunning.declined" || n[0]["fields"].(map[string]any)["invoice"] != "CIV-000812" {
		t.Fatalf("day 1: notices %v (forged %d), want one dunning.declined for CIV-000812", n, recv.forged)
	}
	if s := customer("US-027")["ZZDunningStatus"]; s != "retrying" {
		t.Errorf("day 1: US-027's dunning status %q, want retrying", s)
	}
	if lines := records("CustomerPaymentJournalLines"); len(lines) != 1 || lines[0]["MarkedInvoice"] != "CIV-000813" {
		t.Fatalf("day 1: payment lines %v, want one marked against CIV-000813", lines)
	}

	// Day 2: too soon to try again; day 4: the second attempt is approved,
	// and its answer is lost: flowd finds the sale in PayTrace's export.
	tick(2)
	if n := len(pt.Sales()); n != 2 {
		t.Fatalf("day 2: %d sales, want still 2", n)
	}
	pt.LoseAnswers(1)
	tick(4)
	sales = pt.Sales()
	if len(sales) != 3 {
		t.Fatalf("day 4: %d sales, want 3 (the lost answer's sale once): %v", len(sales), sales)
	}
	lines := records("CustomerPaymentJournalLines")
	if len(lines) != 2 || lines[1]["MarkedInvoice"] != "CIV-000812" || fmt.Sprint(lines[1]["PaymentReference"]) != fmt.Sprint(sales[2]["transaction_id"]) {
		t.Fatalf("day 4: payment lines %v, want the second marked against CIV-000812 with PayTrace's transaction", lines)
	}
	if s := customer("US-027")["ZZDunningStatus"]; s != "" {
		t.Errorf("day 4: US-027's dunning status %q, want it cleared", s)
	}

	// Day 5: everything is paid, nothing is charged.
	tick(5)
	if n := len(pt.Sales()); n != 3 {
		t.Fatalf("day 5: %d sales, want still 3", n)
	}
	if n := len(recv.got()); n != 1 || recv.forged != 0 {
		t.Fatalf("%d notices (%d forged), want the one", n, recv.forged)
	}
}
