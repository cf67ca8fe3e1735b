package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/bc"
	"github.com/flowhq/flow/runtime/erp/d365fo"
	"github.com/flowhq/flow/runtime/erp/dataverse"
	"github.com/flowhq/flow/runtime/erp/sandbox"
	"github.com/flowhq/flow/runtime/store"
)

// erpCase is one ERP the end-to-end tests run against: its example flows,
// its sandbox, its driver, and where a charge's records land. To add an
// ERP, add a row to erps; the tests that range over it (charges, faults,
// waiting refunds, payout journals, crashes) then cover it.
type erpCase struct {
	name    string
	flows   string // the example flow package, relative to this directory
	company string // what the flows' ERP import names

	// sandbox opens the ERP's stand-in on a database file (which a
	// restarted process opens again); the daemon test harness starts it.
	sandbox func(path string) (*sandbox.Server, error)
	// driver connects to the sandbox started at base.
	driver func(base string, timeout time.Duration, company string) (erp.Driver, error)
	// flowdArgs are the flowd flags that run this ERP's sandbox on a
	// database file; nil runs the daemon in a test helper process instead
	// (TestFlowdHelperProcess), until flowd can start this ERP itself.
	flowdArgs func(sandboxDB string) []string

	perCharge    map[string]int // records each charge writes, by entity set
	unique       [2]string      // entity set and field no two records may share (the payment's anchor)
	customers    string         // entity set of customers, and its number field
	customerNo   string
	payment      string // entity set of the payment line, its amount field, and that amount for a 20 USD charge
	paymentField string
	paymentWant  string
	chargeWrites int    // write steps of one charge (for flow_step_seconds_count)
	refunds      string // entity set a refund creates
	// journal checks, after one payout, that one journal was posted and
	// balances.
	journal func(t testing.TB, sb *sandbox.Server)
	// skip names the tests (by top-level test name) this ERP sits out,
	// and why.
	skip map[string]string
}

var erps = []erpCase{
	{
		name: "d365fo", flows: "../../flows/stripe_d365", company: "usmf",
		sandbox: func(path string) (*sandbox.Server, error) {
			return sandbox.New(sandbox.Config{Path: path, ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test"})
		},
		driver: func(base string, timeout time.Duration, company string) (erp.Driver, error) {
			return d365fo.New(d365fo.Config{BaseURL: base, TokenURL: base + "/test/oauth2/token", ClientID: "flowd", ClientSecret: "s3cret",
				Timeout: timeout, Company: company})
		},
		flowdArgs: func(db string) []string { return []string{"--sandbox-db", db} },
		perCharge: map[string]int{"SalesOrderHeadersV2": 1, "CustomerPaymentJournalHeaders": 1, "CustomerPaymentJournalLines": 1},
		unique:    [2]string{"CustomerPaymentJournalHeaders", "Description"},
		customers: "CustomersV3", customerNo: "CustomerAccount",
		payment: "CustomerPaymentJournalLines", paymentField: "CreditAmount", paymentWant: "20",
		chargeWrites: 3, refunds: "ReturnOrderHeaders",
		journal: func(t testing.TB, sb *sandbox.Server) {
			balancedRecords(t, sb, "LedgerJournalHeaders", "LedgerJournalLines", "DebitAmount", "CreditAmount")
		},
	},
	{
		name: "bc", flows: "../../flows/stripe_bc", company: sandbox.DefaultBCCompany,
		sandbox: func(path string) (*sandbox.Server, error) {
			return sandbox.New(sandbox.Config{Dialect: "bc", Path: path, ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test"})
		},
		driver: func(base string, timeout time.Duration, company string) (erp.Driver, error) {
			return bc.New(bc.Config{BaseURL: base + "/api/v2.0", TokenURL: base + "/test/oauth2/v2.0/token", ClientID: "flowd", ClientSecret: "s3cret",
				Timeout: timeout, Company: company})
		},
		flowdArgs: func(db string) []string { return []string{"--erp", "sandbox:bc", "--sandbox-db", db} },
		perCharge: map[string]int{"salesOrders": 1, "customerPayments": 1},
		unique:    [2]string{"customerPayments", "externalDocumentNumber"},
		customers: "customers", customerNo: "number",
		payment: "customerPayments", paymentField: "amount", paymentWant: "20",
		chargeWrites: 2, refunds: "salesCreditMemos",
		journal: func(t testing.TB, sb *sandbox.Server) {
			// Posting deletes the lines: what was posted is the G/L entries.
			balancedRecords(t, sb, "journals", "generalLedgerEntries", "debitAmount", "creditAmount")
			if n, _ := sb.Count("journalLines"); n != 0 {
				t.Errorf("%d journal lines left unposted", n)
			}
		},
	},
	{
		// Dataverse has no company: the flows' import names none.
		name: "dataverse", flows: "../../flows/stripe_dataverse", company: "",
		sandbox: func(path string) (*sandbox.Server, error) {
			return sandbox.New(sandbox.Config{Dialect: "dataverse", Path: path, ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test"})
		},
		driver: func(base string, timeout time.Duration, _ string) (erp.Driver, error) {
			return dataverse.New(dataverse.Config{BaseURL: base, TokenURL: base + "/test/oauth2/v2.0/token", ClientID: "flowd", ClientSecret: "s3cret",
				Timeout: timeout})
		},
		flowdArgs: func(db string) []string { return []string{"--erp", "sandbox:dataverse", "--sandbox-db", db} },
		perCharge: map[string]int{"salesorders": 1, "invoices": 1, "new_stripepayments": 1},
		unique:    [2]string{"invoices", "new_stripechargeid"},
		customers: "accounts", customerNo: "new_stripecustomerid",
		payment: "invoices", paymentField: "totalamount", paymentWant: "20",
		chargeWrites: 3, refunds: "new_stripepayments", // a refund updates the charge's payment row
		skip: map[string]string{
			"TestPayoutJournalFromTheStripeAPI": "Dataverse has no general ledger: payouts are journals in F&O or Business Central",
		},
	},
}

// forEachERP runs test once per ERP, as a subtest named after it.
func forEachERP(t *testing.T, test func(t *testing.T, c erpCase)) {
	for _, c := range erps {
		t.Run(c.name, func(t *testing.T) {
			if why, ok := c.skip[strings.SplitN(t.Name(), "/", 2)[0]]; ok {
				t.Skip(why)
			}
			test(t, c)
		})
	}
}

// balancedRecords checks that one header was written and that its lines
// debit what they credit.
func balancedRecords(t testing.TB, sb *sandbox.Server, header, lines, debitField, creditField string) {
	t.Helper()
	if n, _ := sb.Count(header); n != 1 {
		t.Fatalf("%d %s, want 1", n, header)
	}
	recs, err := sb.Records(lines)
	if err != nil || len(recs) < 2 {
		t.Fatalf("lines %v, %v", recs, err)
	}
	debit, credit := decimal.Zero, decimal.Zero
	for _, l := range recs {
		if d, err := decimal.NewFromString(fmt.Sprint(l[debitField])); err == nil {
			debit = debit.Add(d)
		}
		if c, err := decimal.NewFromString(fmt.Sprint(l[creditField])); err == nil {
			credit = credit.Add(c)
		}
	}
	if !debit.Equal(credit) || debit.IsZero() {
		t.Fatalf("journal lines %v: debits %s, credits %s", recs, debit, credit)
	}
}

// TestFlowdHelperProcess is flowd for an ERP that flowd cannot start yet:
// the crash test runs it as a process (this test binary) and kills it.
// It does nothing in a normal test run.
func TestFlowdHelperProcess(t *testing.T) {
	name := os.Getenv("FLOW_HELPER_ERP")
	if name == "" {
		t.Skip("run by TestCrashLosesNothingAndWritesOnce")
	}
	var c erpCase
	for _, e := range erps {
		if e.name == name {
			c = e
		}
	}
	if c.name == "" {
		t.Fatalf("no ERP %q", name)
	}
	sb, err := c.sandbox(os.Getenv("FLOW_HELPER_SANDBOX"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(os.Getenv("FLOW_HELPER_STORE"))
	if err != nil {
		t.Fatal(err)
	}
	drv, err := c.driver(base, 10*time.Second, c.company)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Flows: c.flows, Company: c.company, Store: st, ERP: drv, StripeSecrets: []string{secret},
		Lookups: engine.NewLookupCache(time.Minute, 1000), Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", os.Getenv("FLOW_HELPER_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := d.Serve(ctx, ln); err != nil {
		t.Fatal(err)
	}
}
