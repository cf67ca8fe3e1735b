package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/bc"
	bcschema "github.com/flowhq/flow/stdlib/bc"
)

// BCSubscriptionOptions configure RunBCSubscriptions.
type BCSubscriptionOptions struct {
	// NotificationURL is where Business Central reaches flowd's
	// POST /webhooks/bc from the internet,
	// "https://flowd.example.com/webhooks/bc"; required.
	NotificationURL string
	// Every is how often the subscriptions are checked against BC (default
	// one hour); a reload that changes which sets flows are triggered by
	// is acted on within a minute.
	Every time.Duration
	// RenewBefore renews a subscription that expires within it (default
	// 48 hours: a three-day subscription is renewed about once a day).
	RenewBefore time.Duration
	Now         func() time.Time // default time.Now
}

func (o *BCSubscriptionOptions) defaults() error {
	if u, err := url.Parse(o.NotificationURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bc subscriptions: the notification URL %q is not an http(s) URL", o.NotificationURL)
	}
	if o.Every <= 0 {
		o.Every = time.Hour
	}
	if o.RenewBefore <= 0 {
		o.RenewBefore = 48 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// BCSync is what one pass of SyncBCSubscriptions did.
type BCSync struct {
	Created, Renewed, Deleted, Kept int
}

// BCSubscribedSets returns the entity sets the running plan's flows are
// triggered by (on bc.<set>.<change>), sorted.
func (d *Daemon) BCSubscribedSets() []string {
	p := d.program()
	if p == nil {
		return nil
	}
	names := map[string]string{}
	for _, c := range p.Plan.Connectors {
		names[c.Alias] = c.Name
	}
	var sets []string
	for _, f := range p.Plan.Flows {
		if names[f.Trigger.Connector] != bcschema.Name {
			continue
		}
		if set, _, ok := bcschema.EventSet(f.Trigger.Event); ok && !slices.Contains(sets, set) {
			sets = append(sets, set)
		}
	}
	sort.Strings(sets)
	return sets
}

// SyncBCSubscriptions makes Business Central's subscriptions for
// opts.NotificationURL match the running plan, once: a set a flow is
// triggered by gets a subscription if it has none, one that expires
// within opts.RenewBefore (or carries another clientState) is renewed,
// and one for a set no flow wants any more is deleted. Subscriptions to
// other URLs are left alone. It goes on past a failure and returns them
// all, joined.
func (d *Daemon) SyncBCSubscriptions(ctx context.Context, opts BCSubscriptionOptions) (BCSync, error) {
	client, ok := d.bcClient()
	if !ok {
		return BCSync{}, errors.New("bc subscriptions: Business Central webhooks are not configured (Config.BC with a ClientState and a Business Central client)")
	}
	if err := opts.defaults(); err != nil {
		return BCSync{}, err
	}
	secret := d.cfg.BC.ClientState
	all, err := client.Subscriptions(ctx)
	if err != nil {
		return BCSync{}, fmt.Errorf("bc subscriptions: listing: %w", err)
	}
	var ours []bc.Subscription
	for _, s := range all {
		if s.NotificationURL == opts.NotificationURL {
			ours = append(ours, s)
		}
	}
	var res BCSync
	var errs []error
	used := make([]bool, len(ours))
	for _, set := range d.BCSubscribedSets() {
		resource, err := client.Resource(ctx, set)
		if err != nil {
			errs = append(errs, fmt.Errorf("bc subscriptions: %s: %w", set, err))
			continue
		}
		i := slices.IndexFunc(ours, func(s bc.Subscription) bool {
			return strings.EqualFold("/"+strings.TrimPrefix(s.Resource, "/"), resource)
		})
		if i < 0 {
			s, err := client.Subscribe(ctx, opts.NotificationURL, resource, secret)
			if err != nil {
				errs = append(errs, fmt.Errorf("bc subscriptions: subscribing to %s: %w", resource, err))
				continue
			}
			d.log.Info("bc subscription created", "set", set, "subscription", s.ID, "expires", s.Expiration)
			res.Created++
			continue
		}
		used[i] = true
		s := ours[i]
		if opts.Now().Add(opts.RenewBefore).Before(s.Expiration) && (s.ClientState == "" || s.ClientState == secret) {
			res.Kept++
			continue
		}
		s.NotificationURL, s.Resource, s.ClientState = opts.NotificationURL, resource, secret
		renewed, err := client.Renew(ctx, s)
		if err != nil && erp.KindOf(err) == erp.Permanent { // gone, or expired: start again
			d.log.Warn("bc subscription cannot be renewed; subscribing again", "set", set, "subscription", s.ID, "err", err)
			_ = client.Unsubscribe(ctx, s)
			renewed, err = client.Subscribe(ctx, opts.NotificationURL, resource, secret)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("bc subscriptions: renewing %s: %w", s.ID, err))
			continue
		}
		d.log.Info("bc subscription renewed", "set", set, "subscription", renewed.ID, "expires", renewed.Expiration)
		res.Renewed++
	}
	for i, s := range ours {
		if used[i] {
			continue
		}
		if err := client.Unsubscribe(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("bc subscriptions: deleting %s: %w", s.ID, err))
			continue
		}
		d.log.Info("bc subscription deleted: no flow is triggered by its resource", "subscription", s.ID, "resource", s.Resource)
		res.Deleted++
	}
	return res, errors.Join(errs...)
}

// RunBCSubscriptions keeps Business Central's subscriptions in step with
// the running plan until ctx ends (see SyncBCSubscriptions): at once,
// every opts.Every, within a minute of a reload that changes the sets
// flows are triggered by, and a minute after a pass that failed. flowd
// runs it beside Serve, which must be answering at opts.NotificationURL
// (BC calls it to validate each subscription). It returns only when ctx
// ends, or at once when webhooks are not configured.
func (d *Daemon) RunBCSubscriptions(ctx context.Context, opts BCSubscriptionOptions) error {
	if _, ok := d.bcClient(); !ok {
		return errors.New("bc subscriptions: Business Central webhooks are not configured (Config.BC with a ClientState and a Business Central client)")
	}
	if err := opts.defaults(); err != nil {
		return err
	}
	check := min(opts.Every, time.Minute)
	t := time.NewTicker(check)
	defer t.Stop()
	var last time.Time
	var synced []string
	failed := false
	for {
		sets := d.BCSubscribedSets()
		due := last.IsZero() || time.Since(last) >= opts.Every || !slices.Equal(sets, synced) || failed
		if due {
			res, err := d.SyncBCSubscriptions(ctx, opts)
			last, synced, failed = time.Now(), sets, err != nil
			if err != nil {
				d.log.Error("bc subscriptions: pass failed; trying again within a minute", "err", err)
			} else {
				d.log.Debug("bc subscriptions checked", "sets", sets, "created", res.Created, "renewed", res.Renewed, "deleted", res.Deleted, "kept", res.Kept)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
