package daemon

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012"
	axsandbox "github.com/flowhq/flow/runtime/erp/ax2012/sandbox"
	"github.com/flowhq/flow/runtime/erp/bc"
	"github.com/flowhq/flow/runtime/erp/d365fo"
	"github.com/flowhq/flow/runtime/erp/dataverse"
	"github.com/flowhq/flow/runtime/erp/dynsl"
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
	sandbox func(path string) (erpSandbox, error)
	// driver connects to the sandbox sb, started at base. sb is nil when
	// the sandbox runs in another process (the replicas' test, F&O's).
	driver func(sb erpSandbox, base string, timeout time.Duration, company string) (erp.Driver, error)
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
	// isRefund tells a refund's record from the others of refunds (a
	// charge's, where both land in one table); nil: every record is one.
	isRefund func(r erp.Record) bool
	// refund is the event of refund i of charge i (charge(t, i)) that the
	// ERP's refund flow takes; nil: charge.refunded.
	refund func(t testing.TB, i int) []byte
	// journal checks, after one payout, that one journal was posted and
	// balances.
	journal func(t testing.TB, sb erpSandbox)
	// skip names the tests (by top-level test name) this ERP sits out,
	// and why.
	skip map[string]string
}

// erpSandbox is an ERP's stand-in as the end-to-end tests use it.
type erpSandbox interface {
	// Start serves the sandbox on addr and returns the base URL its driver
	// connects to; "" for an ERP whose driver opens the sandbox's database
	// itself (SL).
	Start(addr string) (base string, err error)
	Close() error
	// Count and Records read an entity set (SL, AX: a table) as the ERP
	// holds it, from outside the driver.
	Count(entity string) (int, error)
	Records(entity string) ([]erp.Record, error)
	// Fail makes that fraction of the driver's calls fail, spread evenly
	// over every kind of failure the sandbox injects in its transport (SL:
	// in its database's transactions); Fail(0) stops.
	Fail(fraction float64)
	// Requests counts the requests the sandbox received, by kind; nil
	// where there are none (SL's driver runs SQL in the process).
	Requests() map[string]int
}

var erps = []erpCase{
	{
		name: "d365fo", flows: "../../flows/stripe_d365", company: "usmf",
		sandbox: func(path string) (erpSandbox, error) {
			return openOData(sandbox.Config{Path: path, ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test"})
		},
		driver: func(_ erpSandbox, base string, timeout time.Duration, company string) (erp.Driver, error) {
			return d365fo.New(d365fo.Config{BaseURL: base, TokenURL: base + "/test/oauth2/token", ClientID: "flowd", ClientSecret: "s3cret",
				Timeout: timeout, Company: company})
		},
		flowdArgs: func(db string) []string { return []string{"--sandbox-db", db} },
		perCharge: map[string]int{"SalesOrderHeadersV2": 1, "CustomerPaymentJournalHeaders": 1, "CustomerPaymentJournalLines": 1},
		unique:    [2]string{"CustomerPaymentJournalHeaders", "Description"},
		customers: "CustomersV3", customerNo: "CustomerAccount",
		payment: "CustomerPaymentJournalLines", paymentField: "CreditAmount", paymentWant: "20",
		chargeWrites: 3, refunds: "ReturnOrderHeaders",
		journal: func(t testing.TB, sb erpSandbox) {
			balancedRecords(t, sb, "LedgerJournalHeaders", "LedgerJournalLines", "DebitAmount", "CreditAmount")
		},
	},
	{
		name: "bc", flows: "../../flows/stripe_bc", company: sandbox.DefaultBCCompany,
		sandbox: func(path string) (erpSandbox, error) {
			return openOData(sandbox.Config{Dialect: "bc", Path: path, ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test"})
		},
		driver: func(_ erpSandbox, base string, timeout time.Duration, company string) (erp.Driver, error) {
			return bc.New(bc.Config{BaseURL: base + "/api/v2.0", TokenURL: base + "/test/oauth2/v2.0/token", ClientID: "flowd", ClientSecret: "s3cret",
				Timeout: timeout, Company: company})
		},
		flowdArgs: func(db string) []string { return []string{"--erp", "sandbox:bc", "--sandbox-db", db} },
		perCharge: map[string]int{"salesOrders": 1, "customerPayments": 1},
		unique:    [2]string{"customerPayments", "externalDocumentNumber"},
		customers: "customers", customerNo: "number",
		payment: "customerPayments", paymentField: "amount", paymentWant: "20",
		chargeWrites: 2, refunds: "salesCreditMemos",
		journal: func(t testing.TB, sb erpSandbox) {
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
		sandbox: func(path string) (erpSandbox, error) {
			return openOData(sandbox.Config{Dialect: "dataverse", Path: path, ClientID: "flowd", ClientSecret: "s3cret", Tenant: "test"})
		},
		driver: func(_ erpSandbox, base string, timeout time.Duration, _ string) (erp.Driver, error) {
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
	{
		// SL is its SQL database: the sandbox is SQLite with SL's schema,
		// and its faults are the database's (see slSandbox).
		name: "dynsl", flows: "../../flows/stripe_sl", company: "0060",
		sandbox: func(path string) (erpSandbox, error) { return openSL(path, "0060") },
		driver: func(sb erpSandbox, _ string, _ time.Duration, company string) (erp.Driver, error) {
			return sb.(*slSandbox).driver(company)
		},
		flowdArgs: func(db string) []string { return []string{"--erp", "sandbox:dynsl", "--sandbox-db", db} },
		perCharge: map[string]int{"SOHeader": 1, "SOLine": 1, "ARDoc": 1},
		unique:    [2]string{"ARDoc", "User1"},
		customers: "Customer", customerNo: "CustId",
		payment: "ARDoc", paymentField: "OrigDocAmt", paymentWant: "20",
		chargeWrites: 3, refunds: "ARDoc", // a credit memo, beside the charges' payments
		isRefund: func(r erp.Record) bool { return r["DocType"] == "CM" },
		journal: func(t testing.TB, sb erpSandbox) {
			balancedRecords(t, sb, "Batch", "GLTran", "DrAmt", "CrAmt")
		},
	},
	{
		name: "ax2012", flows: "../../flows/stripe_ax", company: "dat",
		sandbox: func(path string) (erpSandbox, error) { return openAX(path, "dat") },
		driver: func(_ erpSandbox, base string, timeout time.Duration, company string) (erp.Driver, error) {
			return ax2012.New(ax2012.Config{BaseURL: base, Port: "FlowServices", Company: company, Timeout: timeout})
		},
		flowdArgs: func(db string) []string { return []string{"--erp", "sandbox:ax2012", "--sandbox-db", db} },
		perCharge: map[string]int{"SalesTable": 1, "SalesLine": 1},
		unique:    [2]string{"SalesTable", "CustomerRef"},
		customers: "CustTable", customerNo: "AccountNum",
		payment: "SalesLine", paymentField: "SalesPrice", paymentWant: "20",
		chargeWrites: 2, refunds: "SalesTable", // a credit note is a sales order too
		isRefund: func(r erp.Record) bool { return strings.HasPrefix(fmt.Sprint(r["CustomerRef"]), "stripe-refund:") },
		refund:   refundCreated, // the AX flows credit refunds on refund.created
		journal: func(t testing.TB, sb erpSandbox) {
			balancedRecords(t, sb, "LedgerJournalTable", "LedgerJournalTrans", "AmountCurDebit", "AmountCurCredit")
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
func balancedRecords(t testing.TB, sb erpSandbox, header, lines, debitField, creditField string) {
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
	drv, err := c.driver(sb, base, 10*time.Second, c.company)
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

// odataSandbox is the OData sandbox (F&O, Business Central, Dataverse).
type odataSandbox struct{ *sandbox.Server }

func openOData(cfg sandbox.Config) (erpSandbox, error) {
	sb, err := sandbox.New(cfg)
	if err != nil {
		return nil, err
	}
	return odataSandbox{sb}, nil
}

// Fail spreads fraction over slow answers, 429s, 500s, timeouts and
// replies lost after the write.
func (s odataSandbox) Fail(fraction float64) {
	p := fraction / 5
	s.SetFaults(sandbox.Faults{Latency: p, Delay: 20 * time.Millisecond, RateLimit: p, RetryAfter: time.Millisecond,
		ServerError: p, Timeout: p, LostReply: p})
}

// axSandbox is AX 2012's AIF sandbox, kept in a database file.
type axSandbox struct {
	*axsandbox.Server
	company string
}

func openAX(path, company string) (erpSandbox, error) {
	sb, err := axsandbox.Open(path, axsandbox.Config{Company: company})
	if err != nil {
		return nil, err
	}
	return axSandbox{sb, company}, nil
}

func (s axSandbox) Records(table string) ([]erp.Record, error) {
	recs, err := s.Server.Records(s.company, table)
	out := make([]erp.Record, len(recs))
	for i, r := range recs {
		out[i] = erp.Record{}
		for k, v := range r {
			out[i][k] = v
		}
	}
	return out, err
}

func (s axSandbox) Count(table string) (int, error) {
	recs, err := s.Server.Records(s.company, table)
	return len(recs), err
}

// Fail spreads fraction over AIF validation faults (permanent), deadlocks,
// 503s, and connections dropped before and after the write is applied.
func (s axSandbox) Fail(fraction float64) {
	if fraction == 0 {
		s.SetFaultRates(nil)
		return
	}
	p := fraction / 5
	s.SetFaultRates(map[axsandbox.FaultKind]float64{axsandbox.Validation: p, axsandbox.Deadlock: p,
		axsandbox.Unavailable: p, axsandbox.DropBefore: p, axsandbox.DropAfter: p})
}

// slSandbox is Dynamics SL's database: SQLite with the SL schema and
// setup rows. SL has no transport to fault; its faults are the database
// connection's, in the drivers it opens (driver): a fraction of
// transactions fail at their first statement (nothing applied: transient),
// lose their commit (rolled back, but the driver cannot know: in doubt), or
// lose the commit's answer (applied: in doubt).
type slSandbox struct {
	path    string
	inspect *dynsl.Driver // the test's reads, never faulted
	faults  *dbFaults

	mu      sync.Mutex
	drivers []*dynsl.Driver
}

func openSL(path, company string) (erpSandbox, error) {
	d, err := dynsl.OpenSandbox(path, dynsl.Config{Company: company})
	if err != nil {
		return nil, err
	}
	return &slSandbox{path: path, inspect: d, faults: &dbFaults{rng: rand.New(rand.NewPCG(5, 6))}}, nil
}

// Start serves nothing: the driver opens the database.
func (s *slSandbox) Start(string) (string, error) { return "", nil }

// driver is the flows' SL driver on the sandbox's database, through a
// connection that fails as Fail says.
func (s *slSandbox) driver(company string) (erp.Driver, error) {
	dsn := dynsl.SandboxDSN(s.path)
	probe, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	d, err := dynsl.NewSandbox(sql.OpenDB(faultyConnector{drv: drv, dsn: dsn, f: s.faults}), s.path, dynsl.Config{Company: company})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.drivers = append(s.drivers, d)
	s.mu.Unlock()
	return d, nil
}

func (s *slSandbox) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.inspect.Close()
	for _, d := range s.drivers {
		err = errors.Join(err, d.Close())
	}
	return err
}

func (s *slSandbox) Count(table string) (int, error) {
	return s.inspect.Count(context.Background(), table)
}
func (s *slSandbox) Records(table string) ([]erp.Record, error) {
	return s.inspect.Records(context.Background(), table)
}
func (s *slSandbox) Fail(fraction float64)    { s.faults.set(fraction) }
func (s *slSandbox) Requests() map[string]int { return nil }

// dbFaults decides, as each transaction begins, whether and how it fails.
type dbFaults struct {
	mu       sync.Mutex
	fraction float64
	rng      *rand.Rand
}

type dbFault int

const (
	noFault       dbFault = iota
	failStatement         // the transaction's first statement fails
	loseCommit            // the commit never reaches the database
	loseCommitted         // the commit lands, its answer is lost
)

const errInjectedMsg = "injected database fault: "

func (f *dbFaults) set(fraction float64) {
	f.mu.Lock()
	f.fraction = fraction
	f.mu.Unlock()
}

func (f *dbFaults) roll() dbFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fraction == 0 {
		return noFault
	}
	x := f.rng.Float64()
	if x >= f.fraction {
		return noFault
	}
	return failStatement + dbFault(x/f.fraction*float64(loseCommitted-noFault))
}

// faultyConnector opens connections of drv (modernc.org/sqlite's) that
// fail transactions as f decides.
type faultyConnector struct {
	drv driver.Driver
	dsn string
	f   *dbFaults
}

func (c faultyConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &faultyConn{Conn: conn, f: c.f}, nil
}

func (c faultyConnector) Driver() driver.Driver { return c.drv }

// faultyConn passes everything to the connection it wraps (database/sql
// uses it from one goroutine at a time), failing as its transaction's
// fault says.
type faultyConn struct {
	driver.Conn
	f     *dbFaults
	fault dbFault // of the open transaction
}

func (c *faultyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.fault = c.f.roll()
	return &faultyTx{Tx: tx, c: c}, nil
}

func (c *faultyConn) failing() error {
	if c.fault != failStatement {
		return nil
	}
	c.fault = noFault
	return errors.New(errInjectedMsg + "the statement failed")
}

func (c *faultyConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.failing(); err != nil {
		return nil, err
	}
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *faultyConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.failing(); err != nil {
		return nil, err
	}
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *faultyConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *faultyConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *faultyConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

type faultyTx struct {
	driver.Tx
	c *faultyConn
}

func (t *faultyTx) Commit() error {
	fault := t.c.fault
	t.c.fault = noFault
	switch fault {
	case loseCommit:
		_ = t.Tx.Rollback()
		return errors.New(errInjectedMsg + "the connection broke before the commit")
	case loseCommitted:
		if err := t.Tx.Commit(); err != nil {
			return err
		}
		return errors.New(errInjectedMsg + "the connection broke after the commit")
	}
	return t.Tx.Commit()
}

func (t *faultyTx) Rollback() error {
	t.c.fault = noFault
	return t.Tx.Rollback()
}
