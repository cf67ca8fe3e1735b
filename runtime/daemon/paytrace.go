package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/gateway/paytrace"
)

// PayTrace sends no webhooks (JSON API v1), so flowd polls its export on
// the schedule the paytrace import declares (poll: "*/5 * * * *", read in
// the import's timezone) and puts one event per transaction in the inbox,
// where the executor runs it like a webhook. See runtime/gateway/paytrace
// for the durable cursor that makes a restart miss and repeat nothing.

// PayTraceOptions change how RunPayTrace reaches PayTrace.
type PayTraceOptions struct {
	BaseURL string       // overrides the import's api_base (tests)
	HTTP    *http.Client // default: a client with a 30 s timeout
}

// RunPayTrace polls PayTrace for the running plan's paytrace import until
// ctx ends, and returns ctx's error. It polls when it starts (catching up
// what happened while flowd was down), then at each due time of the
// import's poll spec; a plan without a paytrace import with a poll setting
// polls nothing. The import's username and password (and integrator_id)
// name secrets (Config.Secret) or params, or are strings.
func (d *Daemon) RunPayTrace(ctx context.Context, opt PayTraceOptions) error {
	var (
		key    string // the settings the poller was built from
		poller *paytrace.Poller
		spec   *cronSpec
		next   time.Time
	)
	for {
		wait := scheduleIdle
		settings, ok := paytraceSettings(d.program())
		if k := settingsKey(settings); ok && k != key {
			key, poller, next = k, nil, time.Time{}
			p, s, err := d.newPayTracePoller(settings, opt)
			if err != nil {
				// Try again on the next pass: a secret store down at start
				// must not stop polling until a restart.
				key = ""
				d.log.Error("paytrace: not polling yet; trying again", "err", err)
			} else {
				poller, spec = p, s
				d.log.Info("paytrace: polling", "poll", settings["poll"], "timezone", p.Loc.String())
			}
		} else if !ok {
			key, poller = "", nil
		}
		if poller != nil {
			if now := d.cfg.Now(); next.IsZero() || !now.Before(next) {
				d.pollPayTrace(ctx, poller)
				next = spec.next(d.cfg.Now())
			}
			if !next.IsZero() {
				wait = min(max(next.Sub(d.cfg.Now()), 0), scheduleIdle)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// paytraceSettings returns the settings of the plan's paytrace import when
// it polls.
func paytraceSettings(p *engine.Program) (map[string]string, bool) {
	if p == nil {
		return nil, false
	}
	for _, c := range p.Plan.Connectors {
		if c.Name == paytrace.Source && c.Settings["poll"] != "" {
			return c.Settings, true
		}
	}
	return nil, false
}

func settingsKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q;", k, m[k])
	}
	return b.String()
}

// setting resolves an import setting of the running plan: a secret's
// value, a param's value, or the string itself.
func (d *Daemon) setting(settings map[string]string, name string) (string, error) {
	return d.settingOf(d.program(), settings, name)
}

// settingOf resolves an import setting of prog (see setting).
func (d *Daemon) settingOf(prog *engine.Program, settings map[string]string, name string) (string, error) {
	v := settings[name]
	if s, ok := strings.CutPrefix(v, "secret:"); ok {
		if d.cfg.Secret == nil {
			return "", fmt.Errorf("%s names secret %s, but flowd has no secrets", name, s)
		}
		val, err := d.cfg.Secret(s)
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", s, err)
		}
		if val == "" {
			return "", fmt.Errorf("secret %s (the import's %s) is not set", s, name)
		}
		return val, nil
	}
	if s, ok := strings.CutPrefix(v, "param:"); ok {
		for _, p := range prog.Plan.Params {
			if p.Name == s {
				if str, ok := p.Value.(string); ok {
					return str, nil
				}
			}
		}
		return "", fmt.Errorf("%s names param %s, which has no string value", name, s)
	}
	return v, nil
}

func (d *Daemon) newPayTracePoller(settings map[string]string, opt PayTraceOptions) (*paytrace.Poller, *cronSpec, error) {
	var vals [6]string
	for i, name := range []string{"username", "password", "integrator_id", "timezone", "api_base", "since"} {
		v, err := d.setting(settings, name)
		if err != nil {
			return nil, nil, err
		}
		vals[i] = v
	}
	username, password, integrator, tz, base, since := vals[0], vals[1], vals[2], vals[3], vals[4], vals[5]
	if tz == "" {
		return nil, nil, errors.New("the paytrace import polls but names no timezone: PayTrace's dates carry none (timezone: \"America/Chicago\")")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, nil, fmt.Errorf("timezone %q: %w", tz, err)
	}
	spec, err := parseCron(settings["poll"], loc)
	if err != nil {
		return nil, nil, fmt.Errorf("poll: %w", err)
	}
	if opt.BaseURL != "" {
		base = opt.BaseURL
	}
	client, err := paytrace.New(paytrace.Config{BaseURL: base, Username: username, Password: password, IntegratorID: integrator, HTTP: opt.HTTP, Now: d.cfg.Now})
	if err != nil {
		return nil, nil, err
	}
	p := &paytrace.Poller{Client: client, Inbox: d.store, Loc: loc, Now: d.cfg.Now,
		Accepted: func(*paytrace.Event) {
			d.metrics.accepted.WithLabelValues(paytrace.Source).Inc()
			d.sched.notify()
		}}
	if since != "" {
		if p.Since, err = time.ParseInLocation(time.DateOnly, since, loc); err != nil {
			return nil, nil, fmt.Errorf("since %q is not a date (YYYY-MM-DD)", since)
		}
	}
	return p, spec, nil
}

// payTraceWriter is the client that charges customer profiles for prog's
// flows that create paytrace.Sale, built from the import's settings
// (username, password, integrator_id, timezone, api_base).
func (d *Daemon) payTraceWriter(prog *engine.Program, settings map[string]string) (*paytrace.Client, error) {
	var vals [5]string
	for i, name := range []string{"username", "password", "integrator_id", "timezone", "api_base"} {
		v, err := d.settingOf(prog, settings, name)
		if err != nil {
			return nil, fmt.Errorf("the paytrace import: %w", err)
		}
		vals[i] = v
	}
	loc := time.UTC
	if vals[3] != "" {
		var err error
		if loc, err = time.LoadLocation(vals[3]); err != nil {
			return nil, fmt.Errorf("the paytrace import: timezone %q: %w", vals[3], err)
		}
	}
	return paytrace.New(paytrace.Config{BaseURL: vals[4], Username: vals[0], Password: vals[1], IntegratorID: vals[2], Now: d.cfg.Now, Loc: loc})
}

// pollPayTrace runs one poll and says what happened.
func (d *Daemon) pollPayTrace(ctx context.Context, p *paytrace.Poller) {
	res, err := p.Poll(ctx)
	if res.Duplicates > 0 {
		d.metrics.duplicates.WithLabelValues(paytrace.Source).Add(float64(res.Duplicates))
	}
	for _, bad := range res.Bad {
		d.alerts.fire(Alert{Kind: AlertPayTraceUnreadable, Title: "a PayTrace transaction cannot be read", Text: bad.Error() +
			"; the poller keeps reading its day again until it can"})
	}
	switch {
	case err != nil && ctx.Err() != nil:
	case err != nil:
		d.log.Error("paytrace: poll failed; the next poll reads the same days again", "from", res.From.Format(time.DateOnly), "accepted", res.Accepted, "err", err)
	case res.Accepted > 0:
		d.log.Info("paytrace: polled", "from", res.From.Format(time.DateOnly), "to", res.To.Format(time.DateOnly), "accepted", res.Accepted, "duplicates", res.Duplicates)
	default:
		d.log.Debug("paytrace: polled; nothing new", "from", res.From.Format(time.DateOnly), "duplicates", res.Duplicates)
	}
}
