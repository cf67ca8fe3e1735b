package daemon

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib/jsonval"
)

// Retry policy: exponential backoff with full jitter.
type Retry struct {
	Base        time.Duration // first backoff
	Max         time.Duration // cap of one backoff
	MaxAttempts int           // then the event is a dead letter
	WaitPoll    time.Duration // how often a waiting lookup looks again
}

// DefaultRetry is the retry policy of flowd.
var DefaultRetry = Retry{Base: time.Second, Max: 5 * time.Minute, MaxAttempts: 12, WaitPoll: time.Minute}

// waitPoll is how long a run that waits for a record sleeps before it
// looks again: a tenth of how long the event has waited, between a second
// and WaitPoll, so a record that is a moment late is found a moment later
// and one that is days late costs few lookups.
func (r Retry) waitPoll(waited time.Duration) time.Duration {
	return min(max(waited/10, time.Second), r.WaitPoll)
}

func (r Retry) backoff(attempt int) time.Duration {
	d := r.Base << min(attempt-1, 20)
	if d <= 0 || d > r.Max {
		d = r.Max
	}
	return d/2 + rand.N(d/2+1) // jitter within [d/2, d]
}

// job is one event held by the scheduler, with its ordering key.
type job struct {
	ev  *store.Event
	key string
	// parked: the event runs again later (a lookup `else wait`, a retry);
	// its payload is dropped from memory until then (read again when it
	// runs), and it does not count against the window, so waiting events
	// never stop new ones (perhaps the very ones they wait for) from being
	// loaded.
	parked bool
}

// lane is the events of one ordering key, oldest first; only its head runs.
type lane struct {
	key     string
	jobs    []*job
	running bool
	due     time.Time // when the head may run
	index   int       // in the ready heap; -1 when not there
}

// scheduler runs open events from the store: one at a time per ordering
// key, oldest first, different keys in parallel on a bounded pool.
type scheduler struct {
	d       *Daemon
	workers int
	window  int // events held in memory at most

	mu     sync.Mutex
	lanes  map[string]*lane
	held   map[int64]bool
	parked int // held events that are parked
	ready  laneHeap
	wake   chan struct{}
	last   int64 // highest seq loaded
	rescan bool  // requeued events may sit below last
	// finished holds the events finished while a load was reading the
	// store, so that a stale read does not run them again.
	finished map[int64]bool
	// lease is how long a claim on an event of a shared store lasts
	// without renewal (0: defaultLease); see runShared.
	lease time.Duration
}

func newScheduler(d *Daemon, workers int) *scheduler {
	return &scheduler{d: d, workers: workers, window: 4096, lanes: map[string]*lane{}, held: map[int64]bool{},
		wake: make(chan struct{}, 1), rescan: true}
}

// notify says new events may be in the store.
func (s *scheduler) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// requeued says events below the high-water mark became open again.
func (s *scheduler) requeued() {
	s.mu.Lock()
	s.rescan = true
	s.mu.Unlock()
	s.notify()
}

// run dispatches until ctx ends, then waits for running jobs to finish
// (their own context, work, ends grace after ctx).
func (s *scheduler) run(ctx, work context.Context) {
	if leases := s.d.store.Leases(); leases != nil { // replicas share the store
		s.runShared(ctx, work, leases)
		return
	}
	jobs := make(chan *lane)
	var wg sync.WaitGroup
	for range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range jobs {
				s.execute(work, l)
			}
		}()
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	for ctx.Err() == nil {
		s.load(ctx)
		next := s.dispatch(ctx, jobs)
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-poll.C:
			s.mu.Lock()
			s.rescan = true // another process (flowc dlq replay) may have requeued
			s.mu.Unlock()
		case <-timer.C:
		}
		timer.Stop()
	}
	close(jobs)
	wg.Wait()
}

// load reads open events the scheduler does not hold yet.
func (s *scheduler) load(ctx context.Context) {
	s.mu.Lock()
	room := s.window - (len(s.held) - s.parked)
	after := s.last
	if s.rescan {
		after = 0
		s.rescan = false
	}
	s.finished = map[int64]bool{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.finished = nil
		s.mu.Unlock()
	}()
	for room > 0 {
		evs, err := s.d.store.OpenEvents(ctx, after, min(room, 1024))
		if err != nil {
			if ctx.Err() == nil {
				s.d.log.Error("reading the inbox", "err", err)
			}
			return
		}
		if len(evs) == 0 {
			return
		}
		prog := s.d.program()
		for _, ev := range evs {
			after = ev.Seq
			s.mu.Lock()
			known := s.held[ev.Seq] || s.finished[ev.Seq]
			s.mu.Unlock()
			if known {
				continue
			}
			// A new event: its payload gives its ordering key.
			if ev.Payload, err = s.d.store.Payload(ctx, ev.Seq); err != nil {
				if ctx.Err() == nil {
					s.d.log.Error("reading the inbox", "seq", ev.Seq, "err", err)
				}
				return
			}
			key := orderKey(prog, ev)
			s.mu.Lock()
			if !s.held[ev.Seq] && !s.finished[ev.Seq] {
				s.held[ev.Seq] = true
				room--
				s.last = max(s.last, ev.Seq)
				s.add(&job{ev: ev, key: key})
			}
			s.mu.Unlock()
		}
	}
}

// orderKey is the event's ordering key under the current plan: the first
// flow's `order by`, or the event itself when it has none.
func orderKey(prog *engine.Program, ev *store.Event) string {
	own := fmt.Sprintf("event:%d", ev.Seq)
	if prog == nil {
		return own
	}
	flows := prog.Flows(ev.Source, ev.Type)
	if len(flows) == 0 {
		return own
	}
	body, err := decodeBody(ev.Payload)
	if err != nil {
		return own
	}
	key, err := flows[0].OrderKey(&engine.Event{ID: ev.GatewayID(), Source: ev.Source, Type: ev.Type, Received: ev.Received, Body: body})
	if err != nil || key == "" {
		return own
	}
	return key
}

func (s *scheduler) add(j *job) {
	l := s.lanes[j.key]
	if l == nil {
		l = &lane{key: j.key, index: -1}
		s.lanes[j.key] = l
	}
	l.jobs = append(l.jobs, j)
	if len(l.jobs) == 1 && !l.running {
		l.due = j.ev.NextAt
		heap.Push(&s.ready, l)
	}
}

// dispatch hands every due lane to a worker and returns how long until the
// next one is due.
func (s *scheduler) dispatch(ctx context.Context, jobs chan<- *lane) time.Duration {
	for {
		s.mu.Lock()
		if len(s.ready) == 0 {
			s.mu.Unlock()
			return time.Second
		}
		l := s.ready[0]
		if wait := time.Until(l.due); wait > 0 {
			s.mu.Unlock()
			return wait
		}
		heap.Pop(&s.ready)
		l.running = true
		s.mu.Unlock()
		select {
		case jobs <- l:
		case <-ctx.Done():
			s.mu.Lock()
			l.running = false
			heap.Push(&s.ready, l)
			s.mu.Unlock()
			return 0
		}
	}
}

// execute runs the head of a lane and puts the lane back.
func (s *scheduler) execute(ctx context.Context, l *lane) {
	s.mu.Lock()
	j := l.jobs[0]
	s.mu.Unlock()
	next, open := s.d.safeProcess(ctx, j.ev)
	s.mu.Lock()
	defer s.mu.Unlock()
	l.running = false
	if open {
		j.ev.NextAt = next
		l.due = next
		if !j.parked {
			j.ev.Payload, j.parked = nil, true
			s.parked++
		}
		heap.Push(&s.ready, l)
		s.notify() // room for more events, if it parked
		return
	}
	delete(s.held, j.ev.Seq)
	if j.parked {
		s.parked--
	}
	if s.finished != nil {
		s.finished[j.ev.Seq] = true
	}
	l.jobs = l.jobs[1:]
	if len(l.jobs) == 0 {
		delete(s.lanes, l.key)
	} else {
		l.due = l.jobs[0].ev.NextAt
		heap.Push(&s.ready, l)
	}
	s.notify()
}

// safeProcess is process, with a panic (a bug, never input: inputs are
// errors) turned into a dead letter instead of a crash that would recur
// on every restart.
func (d *Daemon) safeProcess(ctx context.Context, ev *store.Event) (next time.Time, open bool) {
	defer func() {
		if p := recover(); p != nil {
			d.log.Error("internal error: a run panicked; the event is a dead letter", "event", ev.ID, "panic", p, "stack", string(debug.Stack()))
			d.finish(ctx, d.log, ev, ev.Attempts, d.Version(), store.Outcome{Status: store.Dead, Error: fmt.Sprintf("internal error: %v", p)})
			next, open = time.Time{}, false
		}
	}()
	return d.process(ctx, ev)
}

// process runs one attempt of an event and records the outcome. It
// returns when the event should run again, and whether it is still open.
func (d *Daemon) process(ctx context.Context, ev *store.Event) (time.Time, bool) {
	log := d.log.With("event", ev.ID, "seq", ev.Seq)
	cur := d.current()
	prog := cur.prog
	version := prog.Version()
	if ev.Payload == nil { // parked while it waited
		p, err := d.store.Payload(ctx, ev.Seq)
		if err != nil {
			log.Error("reading a parked event", "err", err)
			return time.Now().Add(time.Second), true
		}
		ev.Payload = p
	}
	flows := prog.Flows(ev.Source, ev.Type)
	if len(flows) == 0 {
		d.finish(ctx, log, ev, 0, version, store.Outcome{Status: store.NoFlow})
		return time.Time{}, false
	}
	body, err := decodeBody(ev.Payload)
	if err != nil {
		d.finish(ctx, log, ev, 0, version, store.Outcome{Status: store.Dead, Error: "payload is not a JSON object: " + err.Error()})
		return time.Time{}, false
	}
	attempt, err := d.store.Start(ctx, ev.Seq, version, time.Now())
	if err != nil {
		log.Error("recording the attempt", "err", err)
		return time.Now().Add(time.Second), true
	}
	in := &engine.Event{ID: ev.GatewayID(), Source: ev.Source, Type: ev.Type, Received: ev.Received, Body: body}
	out := store.Outcome{Status: store.Skipped}
	for _, f := range flows {
		flog := log.With("flow", f.Plan.Name)
		start := time.Now()
		env := cur.env
		if f.Plan.Ledger != nil { // only ledgers read gateway lists
			env = d.recording(env, ev.Seq)
		}
		res, err := f.Run(ctx, env, in, engine.Options{Settle: attempt > 1, Trace: true, Approved: ev.Approved})
		d.metrics.observeRun(f.Plan.Name, time.Since(start), res, err)
		for _, t := range res.Trace {
			out.Trail = append(out.Trail, store.Step{At: time.Now(), Flow: f.Plan.Name, Step: t.Step, Kind: t.Kind, Detail: t.Detail})
			flog.Debug(t.Detail, "step", t.Step, "kind", t.Kind)
		}
		if err != nil {
			return d.failed(ctx, flog, ev, attempt, version, out, err)
		}
		if res.Status == engine.Held { // a person decides; the flows after it wait too
			out.Status, out.Flow, out.Error = store.Review, f.Plan.Name, res.Reason
			if n := len(res.Trace); n > 0 {
				out.Step = res.Trace[n-1].Step
			}
			flog.Info("held for review", "reason", res.Reason)
			break
		}
		if res.Status == engine.Done {
			out.Status = store.Done
		}
		flog.Info("ran", "status", res.Status, "writes", res.Writes, "reused", res.Reused, "attempt", attempt)
	}
	d.finish(ctx, log, ev, attempt, version, out)
	return time.Time{}, false
}

// recording returns env with its gateway lists recording what they return
// for event seq, so that a replay from the store runs ledgers on the same
// items.
func (d *Daemon) recording(env *engine.Env, seq int64) *engine.Env {
	if len(env.Lists) == 0 {
		return env
	}
	e := *env
	e.Lists = make(map[string]engine.Lister, len(env.Lists))
	for alias, l := range env.Lists {
		e.Lists[alias] = recordingLister{l: l, d: d, seq: seq}
	}
	return &e
}

type recordingLister struct {
	l   engine.Lister
	d   *Daemon
	seq int64
}

func (r recordingLister) List(ctx context.Context, list string, args map[string]any) ([]map[string]any, error) {
	items, err := r.l.List(ctx, list, args)
	if err != nil {
		return nil, err
	}
	a, aerr := json.Marshal(args)
	b, berr := json.Marshal(items)
	if err := errors.Join(aerr, berr); err == nil {
		err = r.d.store.PutList(ctx, r.seq, list, string(a), b)
	}
	if err != nil { // the run goes on: only a later replay misses the items
		r.d.log.Warn("recording a gateway list for replays", "seq", r.seq, "list", list, "err", err)
	}
	return items, nil
}

func (d *Daemon) failed(ctx context.Context, log *slog.Logger, ev *store.Event, attempt int, version string, out store.Outcome, err error) (time.Time, bool) {
	var e *engine.Error
	if !errors.As(err, &e) {
		e = &engine.Error{Class: engine.Retry, Err: err}
	}
	out.Flow, out.Step, out.Error = e.Flow, e.Step, e.Err.Error()
	out.Trail = append(out.Trail, store.Step{At: time.Now(), Flow: e.Flow, Step: e.Step, Kind: "error", Detail: e.Error()})
	now := time.Now()
	switch e.Class {
	case engine.Retry:
		if ctx.Err() != nil { // shutting down: release the event as it is
			out.Status, out.NextAt = store.Retry, now
			break
		}
		if attempt >= d.retry.MaxAttempts {
			out.Status = store.Dead
			out.Error = fmt.Sprintf("gave up after %d attempts: %s", attempt, out.Error)
			break
		}
		wait := max(d.retry.backoff(attempt), e.RetryAfter)
		out.Status, out.NextAt = store.Retry, now.Add(wait)
		d.metrics.retries.WithLabelValues(e.Flow).Inc()
	case engine.Wait:
		out.Status, out.NextAt = store.Waiting, minTime(now.Add(d.retry.waitPoll(now.Sub(ev.Received))), e.Until)
	default:
		out.Status = store.Dead
	}
	if out.Status == store.Dead {
		d.metrics.deadLetters.WithLabelValues(e.Flow).Inc()
		log.Warn("dead letter", "step", e.Step, "reason", out.Error, "attempt", attempt)
	} else {
		log.Info("will run again", "status", out.Status, "step", e.Step, "reason", out.Error, "at", out.NextAt.Format(time.RFC3339Nano))
	}
	d.finish(ctx, log, ev, attempt, version, out)
	return out.NextAt, out.Status != store.Dead
}

func (d *Daemon) finish(ctx context.Context, log *slog.Logger, ev *store.Event, attempt int, version string, out store.Outcome) {
	// The outcome must be recorded even while shutting down.
	if err := d.store.Finish(context.WithoutCancel(ctx), ev.Seq, attempt, version, out, time.Now()); err != nil {
		log.Error("recording the outcome", "err", err)
	}
	d.metrics.processed.WithLabelValues(string(out.Status)).Inc()
	if out.Status == store.Review {
		d.alerts.fire(Alert{Kind: AlertReview, Title: "held for review: " + ev.ID, Event: ev.ID,
			Text: fmt.Sprintf("%s (%s), flow %s: %s", ev.ID, ev.Type, out.Flow, out.Error)})
	}
	if out.Status == store.Dead {
		kind, title := AlertDeadLetter, "dead letter: "+ev.ID
		if f := d.programFlow(out.Flow); f != nil && f.Plan.Kind == "ledger" {
			kind, title = AlertRecon, "a journal was not posted: "+ev.ID
		}
		d.alerts.fire(Alert{Kind: kind, Title: title, Event: ev.ID,
			Text: fmt.Sprintf("%s (%s), flow %s step %d: %s", ev.ID, ev.Type, out.Flow, out.Step, out.Error)})
	}
}

// programFlow is the current plan's flow of that name, or nil.
func (d *Daemon) programFlow(name string) *engine.Flow {
	if p := d.program(); p != nil && name != "" {
		return p.Flow(name)
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func decodeBody(payload []byte) (*jsonval.Object, error) {
	return jsonval.Parse(payload)
}

// laneHeap orders lanes by when their head is due.
type laneHeap []*lane

func (h laneHeap) Len() int           { return len(h) }
func (h laneHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h laneHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *laneHeap) Push(x any) {
	l := x.(*lane)
	l.index = len(*h)
	*h = append(*h, l)
}
func (h *laneHeap) Pop() any {
	old := *h
	l := old[len(old)-1]
	*h = old[:len(old)-1]
	l.index = -1
	return l
}
