// Command flowd runs flows: it acknowledges signed gateway webhooks into a
// durable inbox and turns them into ERP records, once.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/runtime/daemon"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/d365fo"
	"github.com/flowhq/flow/runtime/gateway/paypal"
	"github.com/flowhq/flow/runtime/gateway/stripe"
	"github.com/flowhq/flow/runtime/store"
)

const usage = `flowd runs .flow integration flows: signed gateway webhooks in, ERP records out, once.

Usage:
  flowd [flags]
  flowd --demo [--erp NAME]   run the whole loop on sample events, with no credentials

Flags:
  --flows DIR           the flow package to run (default "flows"; with --demo, flows/stripe_d365)
  --store PATH|URL      the store: inbox, ledger, dead letters; a SQLite file (default "./flow.db"),
                        or a postgres:// URL that several flowd replicas share (schema migrated at start)
  --listen ADDR         HTTP address for webhooks, health, metrics and admin (default "127.0.0.1:8787")
  --erp NAME            the ERP: d365fo, bc (Business Central), dynsl (Dynamics SL), ax2012 (AIF),
                        dataverse (Dynamics 365 Sales);
                        sandbox[:NAME] for an embedded stand-in speaking NAME's protocol on loopback
                        (default "sandbox", F&O's); with --demo, NAME picks the sandbox and the flows
  --erp-url URL         d365fo: the environment URL, https://contoso.operations.dynamics.com;
                        bc: the API root, https://api.businesscentral.dynamics.com/v2.0/TENANT/ENV/api/v2.0;
                        ax2012: the AIF inbound port, http://aos/MicrosoftDynamicsAXAif60/FlowServices;
                        dataverse: the environment, https://contoso.crm.dynamics.com
  --sandbox-db PATH     the sandbox ERP's database (default: beside the store)
  --public-url URL      where the ERP reaches flowd from outside, https://flowd.example.com; Business
                        Central's webhook subscriptions point at URL/webhooks/bc (with sandbox:bc,
                        the listen address)
  --env NAME            the env block whose param values to use
  --param NAME=VALUE    override a param (repeatable)
  --workers N           parallel runs (default 4 per CPU)
  --lookup-ttl D        how long a record a lookup found is reused before the ERP is asked again;
                        0 asks every time (default 5m)
  --no-watch            do not reload the plan when a .flow file changes
  --log-format FORMAT   text or json (default: text on a terminal, json otherwise)
  --log-level LEVEL     debug, info, warn or error (default "info")
  --demo                start with the sandbox ERP and a fresh store in a temporary directory,
                        send the signed sample events of testdata/demo, print what happened,
                        and keep running until interrupted

Secrets (never taken from the command line, never logged):
  A secret the flows declare (secret NAME) is read from the environment variable NAME in
  upper case, e.g. STRIPE_WEBHOOK_SECRET for stripe_webhook_secret; the one the stripe import
  names as webhook_secret verifies webhooks (several whsec_... comma-separated while rolling).
  STRIPE_WEBHOOK_SECRET    the webhook endpoint secret when the flows name none
  STRIPE_API_KEY           the Stripe API key (for API reads such as a payout's balance transactions)
  STRIPE_API_BASE          the Stripe API's base URL when it is not Stripe's own (a stripe-mock, a proxy)
  PAYPAL_WEBHOOK_ID        turns on POST /webhooks/paypal: the webhook's id in PayPal's developer
                           dashboard; deliveries are verified offline against PayPal's certificate
  PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET   the REST app, for API reads (Transaction Search for
                           ledgers over paypal.transactions); with PAYPAL_VERIFY=online, webhooks are
                           verified by PayPal's verify-webhook-signature API instead
  PAYPAL_API_BASE          PayPal's API (default https://api-m.paypal.com; the sandbox is
                           https://api-m.sandbox.paypal.com)
  D365_TENANT, D365_CLIENT_ID, D365_CLIENT_SECRET   the Entra ID app for --erp d365fo, bc and dataverse
  D365_WEBHOOK_SECRET      turns on POST /webhooks/d365fo for F&O business events: the bearer token
                           (or ?code=) the business event endpoint is configured with
  BC_WEBHOOK_CLIENT_STATE  with --erp bc: flowd subscribes to the changes its flows are triggered by
                           (on erp.customers.created, ...), renews the subscriptions, and takes the
                           notifications on POST /webhooks/bc; every notification must echo it
  DATAVERSE_WEBHOOK_KEY    turns on POST /webhooks/dataverse: the key of the Dataverse webhook's
                           service endpoint (WebhookKey auth sends it as ?code=; x-api-key or bearer too)
  PAYTRACE_USERNAME, PAYTRACE_PASSWORD, PAYTRACE_INTEGRATOR_ID   the PayTrace API user, when the
                           flows' paytrace import polls (poll: "*/5 * * * *") or flows charge
                           customer profiles (create paytrace.Sale)
  A hook import's secret (import "hook" { secret: NAME }) signs its deliveries (Flow-Signature).
  A plan that creates PayTrace sales or hook notices and names a secret that is not set is
  refused at start (and at reload).
  SL_DSN                   --erp dynsl: the SL application database, sqlserver://USER:PW@HOST:1433?database=SLAPP
  AX_USERNAME, AX_PASSWORD --erp ax2012: HTTP Basic credentials for the AIF port (over TLS)
  FLOWD_ADMIN_TOKEN        the token the admin API and the console require (a bearer token, or signing
                           in to the console); when unset, flowd makes one and writes it to
                           STORE.admin-token (mode 0600), and says where in its log
  FLOWD_ALERT_WEBHOOK      an incoming-webhook URL (Slack, Mattermost, Teams workflow, ...) told about
                           dead letters, unreconciled payouts, failed reloads and ERP throttling
                           (at most 5 alerts of a kind per 10 minutes)
  Each can instead name a file in NAME_FILE (e.g. STRIPE_WEBHOOK_SECRET_FILE=/run/secrets/whsec).

Routes: POST /webhooks/stripe, /webhooks/paypal, /webhooks/d365fo, /webhooks/dataverse, /webhooks/bc, GET /healthz, /readyz, /metrics; the console at /console/;
the admin API: GET /admin/events[/ID], /admin/dlq, /admin/payouts, /admin/plan, /admin/stats,
POST /admin/dlq/ID/replay, /admin/dlq/replay.
`

type params map[string]string

func (p params) String() string { return "" }
func (p params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	p[k] = v
	return nil
}

type options struct {
	flows, store, listen, erp, erpURL, sandboxDB, env, logFormat, logLevel string
	publicURL                                                              string
	params                                                                 params
	workers                                                                int
	lookupTTL                                                              time.Duration
	noWatch, demo                                                          bool
	set                                                                    []string // flags given on the command line
}

func (o options) given(name string) bool { return slices.Contains(o.set, name) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "flowd:", err)
			os.Exit(1)
		}
	}
}

// run is flowd with its arguments; it returns when ctx ends (SIGINT or
// SIGTERM in main) after a graceful shutdown.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := options{params: params{}}
	fs := flag.NewFlagSet("flowd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	fs.StringVar(&o.flows, "flows", "flows", "")
	fs.StringVar(&o.store, "store", "./flow.db", "")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8787", "")
	fs.StringVar(&o.erp, "erp", "sandbox", "")
	fs.StringVar(&o.erpURL, "erp-url", "", "")
	fs.StringVar(&o.sandboxDB, "sandbox-db", "", "")
	fs.StringVar(&o.publicURL, "public-url", "", "")
	fs.StringVar(&o.env, "env", "", "")
	fs.Var(o.params, "param", "")
	fs.IntVar(&o.workers, "workers", 0, "")
	fs.DurationVar(&o.lookupTTL, "lookup-ttl", 5*time.Minute, "")
	fs.BoolVar(&o.noWatch, "no-watch", false, "")
	fs.StringVar(&o.logFormat, "log-format", "", "")
	fs.StringVar(&o.logLevel, "log-level", "info", "")
	fs.BoolVar(&o.demo, "demo", false, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see flowd --help)", fs.Arg(0))
	}
	if _, _, err := erpKindOf(o.erp); err != nil && !(o.demo && o.erp == "") {
		return err
	}
	fs.Visit(func(f *flag.Flag) { o.set = append(o.set, f.Name) })
	log, err := newLogger(o.logFormat, o.logLevel, stderr)
	if err != nil {
		return err
	}
	return start(ctx, o, log, stdout)
}

func start(ctx context.Context, o options, log *slog.Logger, stdout io.Writer) error {
	if o.demo {
		// --demo --erp NAME runs NAME's sandbox with its example flows.
		name := o.erp
		if name != "sandbox" && !strings.HasPrefix(name, "sandbox:") {
			name = "sandbox:" + name
		}
		kind, _, err := erpKindOf(name)
		if err != nil {
			return err
		}
		o.erp = name
		if !o.given("flows") {
			o.flows = filepath.Join("flows", kind.flows) // the package the sample events are for
		}
		dir, err := os.MkdirTemp("", "flowd-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if !o.given("store") {
			o.store = filepath.Join(dir, "flow.db")
		}
		if o.sandboxDB == "" {
			o.sandboxDB = filepath.Join(dir, "sandbox.db")
		}
	}
	secrets, err := readSecrets(o.demo)
	if err != nil {
		return err
	}
	// The ERP driver writes to the company the flows' ERP import names.
	// Flows that do not compile stop flowd here, before it opens anything.
	company, err := erpCompany(o.flows, compiler.Config{Env: o.env, Params: o.params})
	if err != nil {
		return err
	}
	st, err := store.Open(o.store)
	if err != nil {
		return err
	}
	defer st.Close()
	tokenFile := ""
	if secrets.adminToken == "" && store.IsURL(o.store) {
		return errors.New("a shared store (--store postgres://...) needs FLOWD_ADMIN_TOKEN, the same on every replica")
	}
	if secrets.adminToken == "" {
		if secrets.adminToken, tokenFile, err = makeAdminToken(o.store); err != nil {
			return err
		}
		log.Info("FLOWD_ADMIN_TOKEN is not set: made an admin token for the admin API and the console", "file", tokenFile)
	}
	cfg := daemon.Config{
		Flows:         o.flows,
		Company:       company,
		Compiler:      compiler.Config{Env: o.env, Params: o.params},
		Store:         st,
		StripeSecrets: secrets.stripeWebhook,
		Secret:        secrets.resolve,
		AdminToken:    secrets.adminToken,
		// F&O business events (POST /webhooks/d365fo) need it; unset, the route answers 404.
		D365WebhookSecret: secrets.d365Webhook,
		// Dataverse webhooks (POST /webhooks/dataverse) need it; unset, the route answers 404.
		DataverseWebhookKey: secrets.dataverseWebhook,
		Workers:             o.workers,
		Watch:               !o.noWatch,
		Logger:              log,
		Lists:               map[string]engine.Lister{},
	}
	if secrets.alertWebhook != "" {
		cfg.Notifier = &daemon.WebhookNotifier{URL: secrets.alertWebhook}
	}
	if err := configurePayPal(&cfg, secrets); err != nil {
		return err
	}
	if o.lookupTTL > 0 {
		cfg.Lookups = engine.NewLookupCache(o.lookupTTL, 100_000)
	}
	// The daemon instruments the ERP client, so build the driver with a
	// transport that forwards to it once it exists.
	var d *daemon.Daemon
	transport := roundTripper(func(r *http.Request) (*http.Response, error) { return d.Transport(nil).RoundTrip(r) })
	erpClient := &http.Client{Transport: transport}

	kind, isSandbox, err := erpKindOf(o.erp)
	if err != nil {
		return err
	}
	setup := erpSetup{o: o, company: company, secrets: secrets, client: erpClient, log: log}
	var sb *erpHandle
	if isSandbox {
		if sb, err = kind.sandbox(ctx, setup); err != nil {
			return err
		}
		defer sb.close()
		cfg.ERP = sb.driver
	} else if cfg.ERP, err = kind.connect(ctx, setup); err != nil {
		return err
	}
	if secrets.bcClientState != "" && kind.name == "bc" {
		cfg.BC = &daemon.BCWebhooks{ClientState: secrets.bcClientState}
	}

	var stripeAPI *httptestServer
	switch {
	case secrets.stripeAPIKey != "":
		cfg.Lists["stripe"] = stripe.NewClient(secrets.stripeAPIKey, os.Getenv("STRIPE_API_BASE"), nil)
	case o.demo:
		stripeAPI, err = startStripeDouble("testdata/demo")
		if err != nil {
			return err
		}
		defer stripeAPI.Close()
		cfg.Lists["stripe"] = stripe.NewClient("sk_test_demo", stripeAPI.URL, nil)
	}

	d, err = daemon.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	log.Info("flowd listening", "addr", ln.Addr().String(), "plan", d.Version(), "store", store.Redact(o.store), "erp", o.erp)
	errc := make(chan error, 1)
	go func() { errc <- d.Serve(ctx, ln) }()
	go func() { _ = d.RunSchedules(ctx) }()                          // `on schedule` flows
	go func() { _ = d.RunPayTrace(ctx, daemon.PayTraceOptions{}) }() // when the flows' paytrace import has a poll
	if cfg.BC != nil {
		public := strings.TrimRight(o.publicURL, "/")
		if public == "" && isSandbox {
			public = "http://" + ln.Addr().String() // the sandbox is on this machine
		}
		if public == "" {
			log.Warn("BC_WEBHOOK_CLIENT_STATE is set but --public-url is not: Business Central cannot reach flowd, so no subscriptions")
		} else {
			go func() {
				if err := d.RunBCSubscriptions(ctx, daemon.BCSubscriptionOptions{NotificationURL: public + "/webhooks/bc"}); err != nil {
					log.Error("bc subscriptions", "err", err)
				}
			}()
		}
	}
	if o.demo {
		if err := runDemo(ctx, stdout, "http://"+ln.Addr().String(), secrets.stripeWebhook[0], o.store, st, kind, sb); err != nil {
			log.Error("demo", "err", err)
		}
		fmt.Fprintf(stdout, "\nflowd keeps running on http://%s (try /readyz, /metrics);\n"+
			"the console is http://%s/console/ (sign in with the admin token in %s);\n"+
			"its store is %s (flowc events list --store %s); Ctrl-C stops it and removes the demo's files.\n",
			ln.Addr(), ln.Addr(), cmp.Or(tokenFile, "FLOWD_ADMIN_TOKEN"), o.store, o.store)
	}
	return <-errc
}

// configurePayPal turns on PayPal webhooks and API reads from the secrets.
func configurePayPal(cfg *daemon.Config, s secretValues) error {
	if s.paypalClientID != "" && s.paypalSecret != "" {
		client, err := paypal.NewClient(paypal.ClientConfig{BaseURL: s.paypalAPI, ClientID: s.paypalClientID, Secret: s.paypalSecret})
		if err != nil {
			return fmt.Errorf("PayPal client: %w", err)
		}
		cfg.Lists["paypal"] = client
	}
	if s.paypalWebhookID == "" {
		return nil
	}
	switch s.paypalVerify {
	case "", "offline":
		v, err := paypal.NewOffline(paypal.OfflineConfig{WebhookID: s.paypalWebhookID})
		if err != nil {
			return fmt.Errorf("PayPal webhooks: %w", err)
		}
		cfg.PayPal = v
	case "online":
		v, err := paypal.NewOnline(paypal.OnlineConfig{BaseURL: s.paypalAPI, ClientID: s.paypalClientID, Secret: s.paypalSecret, WebhookID: s.paypalWebhookID})
		if err != nil {
			return fmt.Errorf("PayPal webhooks (online): %w", err)
		}
		cfg.PayPal = v
	default:
		return fmt.Errorf("PAYPAL_VERIFY=%q: want offline or online", s.paypalVerify)
	}
	return nil
}

// makeAdminToken makes a random admin token and writes it, readable by the
// owner only, beside the store.
func makeAdminToken(storePath string) (token, file string, err error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = hex.EncodeToString(b)
	file = storePath + ".admin-token"
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("writing the admin token: %w", err)
	}
	if err := os.Chmod(file, 0o600); err != nil { // WriteFile keeps an existing file's mode
		return "", "", err
	}
	return token, file, nil
}

// erpCompany compiles the flows and returns the company their ERP import
// names. Flows that do not compile are reported here, with positions.
func erpCompany(dir string, cfg compiler.Config) (string, error) {
	prog, diags, err := engine.Load(dir, cfg)
	if err != nil {
		return "", err
	}
	if prog == nil {
		var b strings.Builder
		for _, d := range diags {
			if d.Severity == diag.Error {
				fmt.Fprintf(&b, "\n%s:%d:%d: error[%s]: %s", d.Pos.File, d.Pos.Line, d.Pos.Col, d.Code, d.Message)
			}
		}
		return "", fmt.Errorf("the flows in %s do not compile (flowc check %s):%s", dir, dir, b.String())
	}
	for _, c := range prog.Plan.Connectors {
		if c.Kind == "erp" {
			return c.Settings["company"], nil
		}
	}
	return "", nil
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// resolve reads a secret the flows declare from NAME (upper case) or the
// file NAME_FILE names. The demo makes up the webhook secret it signs with.
func (s secretValues) resolve(name string) (string, error) {
	v, err := envOrFile(strings.ToUpper(name))
	if v == "" && err == nil && s.demo {
		v = s.stripeWebhook[0]
	}
	return v, err
}

// envOrFile reads name from the environment, or the file name_FILE names.
func envOrFile(name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	f := os.Getenv(name + "_FILE")
	if f == "" {
		return "", nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

type secretValues struct {
	demo                                  bool
	stripeWebhook                         []string
	stripeAPIKey                          string
	d365Tenant, d365ClientID, d365Secret  string
	adminToken                            string
	alertWebhook                          string
	slDSN, axUser, axPassword             string
	d365Webhook, dataverseWebhook         string
	bcClientState                         string
	paypalWebhookID, paypalClientID       string
	paypalSecret, paypalVerify, paypalAPI string
}

// readSecrets reads secrets from the environment, or from the files their
// NAME_FILE variables name.
func readSecrets(demo bool) (secretValues, error) {
	s := secretValues{demo: demo}
	var errs []error
	get := func(name string) string {
		v, err := envOrFile(name)
		errs = append(errs, err)
		return v
	}
	for _, v := range strings.Split(get("STRIPE_WEBHOOK_SECRET"), ",") {
		if v = strings.TrimSpace(v); v != "" {
			s.stripeWebhook = append(s.stripeWebhook, v)
		}
	}
	s.stripeAPIKey = get("STRIPE_API_KEY")
	s.d365Tenant, s.d365ClientID, s.d365Secret = get("D365_TENANT"), get("D365_CLIENT_ID"), get("D365_CLIENT_SECRET")
	s.adminToken = get("FLOWD_ADMIN_TOKEN")
	s.alertWebhook = get("FLOWD_ALERT_WEBHOOK")
	s.slDSN, s.axUser, s.axPassword = get("SL_DSN"), get("AX_USERNAME"), get("AX_PASSWORD")
	s.d365Webhook, s.dataverseWebhook = get("D365_WEBHOOK_SECRET"), get("DATAVERSE_WEBHOOK_KEY")
	s.bcClientState = get("BC_WEBHOOK_CLIENT_STATE")
	s.paypalWebhookID, s.paypalClientID, s.paypalSecret = get("PAYPAL_WEBHOOK_ID"), get("PAYPAL_CLIENT_ID"), get("PAYPAL_CLIENT_SECRET")
	s.paypalVerify, s.paypalAPI = os.Getenv("PAYPAL_VERIFY"), cmp.Or(os.Getenv("PAYPAL_API_BASE"), paypal.LiveBaseURL)
	if demo && len(s.stripeWebhook) == 0 {
		s.stripeWebhook = []string{"whsec_demo_" + fmt.Sprint(time.Now().UnixNano())}
	}
	return s, errors.Join(errs...)
}

var _ erp.Driver = (*d365fo.Driver)(nil)
