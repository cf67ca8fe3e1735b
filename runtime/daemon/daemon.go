// Package daemon is flowd: it acknowledges signed webhooks into the durable
// inbox, runs them through the current plan on a bounded worker pool (one
// at a time per ordering key), retries what is transient, dead-letters what
// is not, reloads the plan when a .flow file is saved, and serves health,
// metrics and admin endpoints.
package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/gateway/paypal"
	"github.com/flowhq/flow/runtime/hook"
	"github.com/flowhq/flow/runtime/signals"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib/schema"
)

// Config configures a Daemon.
type Config struct {
	Flows    string          // the flow package directory
	Compiler compiler.Config // env and param overrides
	Store    *store.Store
	ERP      erp.Driver // serves every ERP connector of the plan
	// Company is the legal entity (dataAreaId) the ERP driver writes to;
	// it must be the company the flows' ERP import names ("" for none).
	Company string
	Lists   map[string]engine.Lister // gateway clients by connector name ("stripe")
	// Secret resolves a secret the flows declare (`secret NAME`) to its
	// value, "" when it is not set. The stripe import's webhook_secret
	// names the webhook endpoint secret; its value may list several,
	// comma-separated, while the secret is being rolled.
	Secret func(name string) (string, error)
	// StripeSecrets are used when the flows name no webhook secret.
	StripeSecrets []string
	// PayPal verifies PayPal webhook deliveries; nil refuses them.
	PayPal paypal.Verifier
	// D365WebhookSecret authenticates Dynamics 365 F&O business events
	// posted to /webhooks/d365fo (F&O does not sign them): the sender
	// gives it as a bearer token or as the URL's code parameter; "" refuses
	// them.
	D365WebhookSecret string
	// BC, when set, takes Business Central change notifications at
	// /webhooks/bc and lets RunBCSubscriptions keep their subscriptions.
	BC *BCWebhooks
	// DataverseWebhookKey authenticates Dataverse webhook events posted to
	// /webhooks/dataverse: the key as the code query parameter (WebhookKey
	// auth), an x-api-key header or a bearer token (HttpHeader auth); ""
	// refuses them.
	DataverseWebhookKey string
	// Tolerance is how old a webhook signature may be (default 300 s).
	Tolerance time.Duration
	// Lookups caches the records lookups find, across reloads; nil
	// caches nothing.
	Lookups *engine.LookupCache
	// AdminToken, when set, is required on the admin API and the console:
	// as a bearer token, or as the console's session cookie (which signing
	// in with the token sets). flowd always sets one.
	AdminToken string
	// Notifier, when set, is told about dead letters, payouts that do not
	// reconcile, failed reloads and ERP throttling; at most AlertBurst
	// alerts of one kind per AlertWindow (default 5 per 10 minutes).
	Notifier    Notifier
	AlertBurst  int
	AlertWindow time.Duration
	Workers     int           // default 4 x GOMAXPROCS
	Retry       Retry         // default DefaultRetry
	Grace       time.Duration // how long in-flight runs may finish at shutdown (default 10 s)
	Watch       bool          // reload the plan when a .flow file changes
	Logger      *slog.Logger
	Now         func() time.Time // for signature checks; default time.Now
}

// Daemon is a running flowd.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	retry   Retry
	sched   *scheduler
	metrics *metrics

	cur       atomic.Pointer[loaded]
	locks     *engine.KeyLocks // shared by the plans, so a reload cannot split a lock
	reloadMu  sync.Mutex
	reloadErr atomic.Pointer[string] // the last failed reload's diagnostics
	reloaded  atomic.Pointer[reloadInfo]
	alerts    *alerter // nil without a Notifier
}

// reloadInfo is the last reload's outcome, for the console.
type reloadInfo struct {
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Version string    `json:"version"` // the plan running after it
	Error   string    `json:"error,omitempty"`
}

// New compiles the flows and prepares a daemon; Serve runs it.
func New(cfg Config) (*Daemon, error) {
	if cfg.Store == nil || cfg.ERP == nil {
		return nil, errors.New("daemon: a store and an ERP driver are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4 * runtime.GOMAXPROCS(0)
	}
	if cfg.Retry == (Retry{}) {
		cfg.Retry = DefaultRetry
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = 300 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Daemon{cfg: cfg, log: cfg.Logger, store: cfg.Store, retry: cfg.Retry, metrics: newMetrics(), locks: engine.NewKeyLocks()}
	if err := d.Reload(); err != nil {
		return nil, err
	}
	if cfg.Notifier != nil {
		d.alerts = newAlerter(cfg.Notifier, cfg.AlertBurst, cfg.AlertWindow, d.log)
	}
	if len(d.current().stripeSecrets) == 0 && imports(d.program(), "stripe") {
		return nil, errors.New("no Stripe webhook secret: name one in the stripe import (webhook_secret: a secret) or set STRIPE_WEBHOOK_SECRET")
	}
	d.sched = newScheduler(d, cfg.Workers)
	return d, nil
}

// loaded is a plan with the drivers bound to its connector aliases and
// its secrets resolved.
type loaded struct {
	prog          *engine.Program
	env           *engine.Env
	stripeSecrets []string
}

func (d *Daemon) bind(p *engine.Program) (*loaded, error) {
	env := &engine.Env{ERP: map[string]erp.Driver{}, Lists: map[string]engine.Lister{}, Ledger: d.store, Lookups: d.cfg.Lookups, Locks: d.locks,
		Signals: &signals.Source{Store: d.store}}
	l := &loaded{prog: p, env: env, stripeSecrets: d.cfg.StripeSecrets}
	for _, c := range p.Plan.Connectors {
		if c.Kind == "erp" {
			if want := c.Settings["company"]; !strings.EqualFold(want, d.cfg.Company) {
				return nil, fmt.Errorf("import %s writes to company %q, but the ERP driver was started for %q; restart flowd to change companies", c.Alias, want, d.cfg.Company)
			}
			env.ERP[c.Alias] = d.cfg.ERP
			// An import of a tenant's own $metadata (extension fields):
			// the driver reads and writes that schema.
			if r, ok := d.cfg.ERP.(retyper); ok && c.Settings["metadata"] != "" && p.Connector(c.Alias) != nil {
				drv, err := r.WithEntities(p.Connector(c.Alias))
				if err != nil {
					return nil, fmt.Errorf("import %s: %w", c.Alias, err)
				}
				env.ERP[c.Alias] = drv
			}
		} else if lister, ok := d.cfg.Lists[c.Name]; ok {
			env.Lists[c.Alias] = lister
			// A gateway client that can create objects serves the flows
			// that write to the gateway (stripe.Client).
			if w, ok := lister.(erp.Driver); ok && p.Plan.WritesTo(c.Alias) {
				env.ERP[c.Alias] = w
			}
		}
		if c.Name == "paytrace" && p.Plan.WritesTo(c.Alias) {
			// PayTrace's client is built from the import's settings (its
			// poller's too): flows charge customer profiles through it.
			w, err := d.payTraceWriter(p, c.Settings)
			if err != nil {
				return nil, err
			}
			env.ERP[c.Alias] = w
		}
		if c.Name == "hook" && p.Plan.WritesTo(c.Alias) {
			h, err := d.hookClient(p, c.Settings)
			if err != nil {
				return nil, fmt.Errorf("import %s: %w", c.Alias, err)
			}
			env.ERP[c.Alias] = h
		}
		if c.Kind != "erp" && env.ERP[c.Alias] == nil && p.Plan.WritesTo(c.Alias) {
			d.log.Warn("flows write to a gateway flowd has no client for: their runs will be dead letters", "connector", c.Alias)
		}
		name, ok := strings.CutPrefix(c.Settings["webhook_secret"], "secret:")
		if c.Name != "stripe" || !ok || d.cfg.Secret == nil {
			continue
		}
		v, err := d.cfg.Secret(name)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		if v == "" {
			return nil, fmt.Errorf("secret %s (the stripe webhook secret) is not set", name)
		}
		l.stripeSecrets = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				l.stripeSecrets = append(l.stripeSecrets, s)
			}
		}
	}
	return l, nil
}

// hookClient is the client that delivers prog's notices to the hook an
// import names (url, and secret when deliveries are signed).
func (d *Daemon) hookClient(prog *engine.Program, settings map[string]string) (*hook.Client, error) {
	url, err := d.settingOf(prog, settings, "url")
	if err != nil {
		return nil, err
	}
	secret := ""
	if settings["secret"] != "" {
		if secret, err = d.settingOf(prog, settings, "secret"); err != nil {
			return nil, err
		}
	}
	return hook.New(hook.Config{URL: url, Secret: secret, Now: d.cfg.Now})
}

// retyper is an ERP driver that can serve another schema of the same ERP
// (d365fo.Driver).
type retyper interface {
	WithEntities(c *schema.Connector) (erp.Driver, error)
}

func (d *Daemon) current() *loaded { return d.cur.Load() }

// imports reports whether the plan imports the connector.
func imports(p *engine.Program, name string) bool {
	for _, c := range p.Plan.Connectors {
		if c.Name == name {
			return true
		}
	}
	return false
}

func (d *Daemon) program() *engine.Program {
	if l := d.current(); l != nil {
		return l.prog
	}
	return nil
}

// Version is the running plan's version.
func (d *Daemon) Version() string {
	if p := d.program(); p != nil {
		return p.Version()
	}
	return ""
}

// Reload compiles the flows and swaps the plan in if they compile; runs in
// flight finish on the plan they started with. On failure the running plan
// stays and the diagnostics are kept for /readyz.
func (d *Daemon) Reload() error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	prog, diags, err := engine.Load(d.cfg.Flows, d.cfg.Compiler)
	if err == nil && prog == nil {
		err = fmt.Errorf("the flows do not compile:\n%s", diagText(diags))
	}
	var l *loaded
	if err == nil {
		l, err = d.bind(prog)
	}
	if err != nil {
		msg := err.Error()
		d.reloadErr.Store(&msg)
		d.reloaded.Store(&reloadInfo{At: time.Now(), Version: d.Version(), Error: msg})
		d.metrics.reloads.WithLabelValues("failed").Inc()
		if d.program() == nil {
			return err
		}
		d.log.Error("reload failed; the running plan stays", "plan", d.Version(), "err", msg)
		d.alerts.fire(Alert{Kind: AlertReloadFailed, Title: "a flow change does not compile; plan " + d.Version() + " keeps running", Text: msg})
		return err
	}
	d.reloadErr.Store(nil)
	d.reloaded.Store(&reloadInfo{At: time.Now(), OK: true, Version: prog.Version()})
	old := d.program()
	d.cur.Store(l)
	d.metrics.setPlan(prog.Version())
	d.metrics.reloads.WithLabelValues("ok").Inc()
	if old == nil || old.Version() != prog.Version() {
		d.log.Info("plan loaded", "plan", prog.Version(), "package", prog.Plan.Package, "flows", len(prog.Plan.Flows))
	}
	if d.sched != nil {
		d.sched.notify()
	}
	return nil
}

func diagText(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		if d.Severity == diag.Error {
			fmt.Fprintf(&b, "%s:%d:%d: %s[%s]: %s\n", d.Pos.File, d.Pos.Line, d.Pos.Col, d.Severity, d.Code, d.Message)
		}
	}
	return b.String()
}

// Serve accepts webhooks on ln and runs events until ctx ends, then shuts
// down gracefully: it stops accepting, lets in-flight runs finish (up to
// the grace period, after which they are released to run again), and
// returns. The caller closes the store.
func (d *Daemon) Serve(ctx context.Context, ln net.Listener) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	schedDone := make(chan struct{})
	go func() {
		d.sched.run(ctx, work)
		close(schedDone)
	}()
	if d.cfg.Watch {
		go func() {
			if err := d.watch(ctx); err != nil {
				d.log.Error("watching flows; hot reload is off", "err", err)
			}
		}()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		stop()
	}
	d.log.Info("shutting down", "grace", d.cfg.Grace)
	shut, cancel := context.WithTimeout(context.Background(), d.cfg.Grace)
	defer cancel()
	_ = srv.Shutdown(shut) // stop accepting; acknowledged webhooks are stored already
	select {
	case <-schedDone:
	case <-shut.Done():
		cancelWork() // release what is still running; it will run again
		<-schedDone
	}
	d.alerts.close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
