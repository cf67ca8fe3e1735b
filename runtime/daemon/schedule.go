package daemon

import (
	"context"
	"time"

	"github.com/flowhq/flow/runtime/engine"
)

// Schedules: a flow that starts `on schedule "cron" as tick` runs once per
// due time of its cron spec. The schedule runner does not run flows
// itself: it puts one tick event per due time into the same durable inbox
// webhooks go to (source "schedule", type the flow's name, id
// "<flow>@<due time, RFC 3339 UTC>"), and the executor runs it like any
// event, with the same retries, dead letters and audit trail.
//
// Each schedule keeps a cursor in the store ("schedule:<flow>"): the due
// time of the last tick it put in the inbox. A tick is accepted first and
// the cursor moved after, so a crash between the two accepts the same tick
// again on restart, and the inbox's unique id drops it: a restart neither
// misses nor repeats a tick.
//
// After downtime, a schedule catches up with its latest missed tick only
// (a nightly export that missed three nights runs once, not three times);
// the log says how many were skipped. A schedule seen for the first time
// starts from now: it fires at its next due time, not for the past. Cron
// specs are read in flowd's local time zone (TZ); across a daylight-saving
// change a due time that falls in the skipped hour does not happen, and
// one in the repeated hour may happen twice (with distinct ids).

// scheduleLookback bounds how far back a catch-up looks.
const scheduleLookback = 366 * 24 * time.Hour

// scheduleIdle is how long the runner sleeps at most, so that it sees a
// new plan's schedules soon after a reload.
const scheduleIdle = 15 * time.Second

// scheduleRunner fires the schedule flows of the daemon's running plan.
type scheduleRunner struct {
	d   *Daemon
	now func() time.Time
	loc *time.Location
}

// RunSchedules fires the schedule flows of the running plan (and of every
// plan a reload swaps in) until ctx ends. Run it next to Serve; it returns
// ctx's error.
func (d *Daemon) RunSchedules(ctx context.Context) error {
	r := &scheduleRunner{d: d, now: d.cfg.Now, loc: time.Local}
	for {
		next := r.fire(ctx)
		wait := scheduleIdle
		if !next.IsZero() {
			wait = min(max(next.Sub(r.now()), 0), scheduleIdle)
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

// fire puts the ticks due now in the inbox and returns when the soonest
// next one is due (zero when no schedule has one).
func (r *scheduleRunner) fire(ctx context.Context) time.Time {
	prog := r.d.program()
	if prog == nil {
		return time.Time{}
	}
	now := r.now()
	var soonest time.Time
	for _, pf := range prog.Plan.Flows {
		if pf.Trigger.Connector != engine.ScheduleSource || pf.Trigger.Schedule == "" {
			continue
		}
		log := r.d.log.With("flow", pf.Name, "schedule", pf.Trigger.Schedule)
		spec, err := parseCron(pf.Trigger.Schedule, r.loc)
		if err != nil { // flowc check refuses these; a plan from elsewhere may not
			log.Error("schedule: the flow never runs", "err", err)
			continue
		}
		last, err := r.last(ctx, pf.Name, now)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("schedule: reading its cursor", "err", err)
			}
			continue
		}
		if due, n := spec.latest(later(last, now.Add(-scheduleLookback)), now); n > 0 {
			if n > 1 {
				log.Warn("schedule: ticks were missed while flowd was down; running the latest only", "missed", n-1, "due", due.UTC().Format(time.RFC3339))
			}
			if err := r.tick(ctx, pf.Name, due, last, now); err != nil {
				if ctx.Err() == nil {
					log.Error("schedule: putting a tick in the inbox", "due", due.UTC().Format(time.RFC3339), "err", err)
				}
				soonest = now.Add(time.Second) // try again soon
				continue
			}
			last = due
		}
		if n := spec.next(later(last, now)); !n.IsZero() && (soonest.IsZero() || n.Before(soonest)) {
			soonest = n
		}
	}
	return soonest
}

// last returns the due time of the flow's last tick; a schedule without a
// cursor starts now, and records that it did.
func (r *scheduleRunner) last(ctx context.Context, flow string, now time.Time) (time.Time, error) {
	name := engine.ScheduleSource + ":" + flow
	v, ok, err := r.d.store.Cursor(ctx, name)
	if err != nil {
		return time.Time{}, err
	}
	if ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err == nil {
			return t, nil
		}
		r.d.log.Warn("schedule: an unreadable cursor; starting from now", "flow", flow, "cursor", v)
	}
	return now, r.d.store.PutCursor(ctx, name, now.UTC().Format(time.RFC3339Nano))
}

// tick puts the flow's tick for due in the inbox, then moves its cursor.
// previous is the due time of the tick before (the cursor).
func (r *scheduleRunner) tick(ctx context.Context, flow string, due, previous, now time.Time) error {
	id, body := engine.TickBody(flow, due, previous)
	at := due.UTC().Format(time.RFC3339)
	dup, err := r.d.store.Accept(ctx, engine.ScheduleSource, id, flow, body, now)
	if err != nil {
		return err
	}
	if !dup {
		r.d.metrics.accepted.WithLabelValues(engine.ScheduleSource).Inc()
		r.d.log.Info("schedule: tick", "flow", flow, "due", at)
		if r.d.sched != nil {
			r.d.sched.notify()
		}
	}
	return r.d.store.PutCursor(ctx, engine.ScheduleSource+":"+flow, due.UTC().Format(time.RFC3339Nano))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
