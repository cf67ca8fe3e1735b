package daemon

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/flowhq/flow/runtime/store"
)

const (
	// defaultLease is how long a replica's claim on an event lasts without
	// renewal: how long the events of a replica that died wait before
	// another takes them over. A running event's lease is renewed every
	// third of it.
	defaultLease = 30 * time.Second
	// sharedPoll is how often a replica with free workers looks for events
	// other replicas acknowledged and retries that came due.
	sharedPoll = 100 * time.Millisecond
)

// runShared dispatches the events of a store several replicas share until
// ctx ends, then waits for the running ones. Instead of holding lanes in
// memory, the replica claims due events from the store with a lease, as
// many as it has free workers: the store gives out only the oldest open
// event of each ordering key, so a key runs on one replica at a time,
// oldest first. While an event runs its lease is renewed; when a renewal
// finds the lease lost (this replica stalled past it and another took the
// event over) or cannot reach the store before the lease runs out, the
// run is cancelled, so two replicas never run an event together for long;
// the next attempt settles writes that may have landed.
func (s *scheduler) runShared(ctx, work context.Context, leases store.Leases) {
	lease := cmp.Or(s.lease, defaultLease)
	var mu sync.Mutex
	running := map[int64]context.CancelFunc{}
	// Renewals go on while the running events finish after ctx ended.
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(ctx))
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.renew(renewCtx, leases, lease, &mu, running)
	}()
	keyOf := func(ev *store.Event) string { return orderKey(s.d.program(), ev) }
	var wg sync.WaitGroup
	for ctx.Err() == nil {
		mu.Lock()
		free := s.workers - len(running)
		mu.Unlock()
		if free > 0 {
			evs, err := leases.Claim(ctx, free, lease, keyOf)
			if err != nil && ctx.Err() == nil {
				s.d.log.Error("claiming events", "err", err)
			}
			for _, ev := range evs {
				run, cancel := context.WithCancel(work)
				mu.Lock()
				running[ev.Seq] = cancel
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer cancel()
					next, open := s.d.safeProcess(run, ev)
					// Finish released the lease; this releases it when the
					// attempt could not be recorded (a no-op once another
					// replica holds it).
					notBefore := time.Time{}
					if open {
						notBefore = next
					}
					if err := leases.Release(context.WithoutCancel(run), ev.Seq, notBefore); err != nil {
						s.d.log.Warn("releasing an event's lease; it runs again once the lease ends", "seq", ev.Seq, "err", err)
					}
					mu.Lock()
					delete(running, ev.Seq)
					mu.Unlock()
					s.notify()
				}()
			}
			if len(evs) == free {
				continue // more may be due
			}
		}
		timer := time.NewTimer(sharedPoll)
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
	wg.Wait()
	stopRenew()
	<-renewed
}

// renew extends the leases of the running events every third of a lease
// until ctx ends, and cancels the runs whose lease is lost or about to
// run out.
func (s *scheduler) renew(ctx context.Context, leases store.Leases, lease time.Duration, mu *sync.Mutex, running map[int64]context.CancelFunc) {
	tick := time.NewTicker(lease / 3)
	defer tick.Stop()
	ok := time.Now() // the last renewal that reached the store
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		mu.Lock()
		seqs := make([]int64, 0, len(running))
		for seq := range running {
			seqs = append(seqs, seq)
		}
		mu.Unlock()
		if len(seqs) == 0 {
			ok = time.Now()
			continue
		}
		lost, err := leases.Extend(ctx, seqs, lease)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if time.Since(ok) < lease*2/3 {
				s.d.log.Warn("renewing leases", "err", err)
				continue
			}
			// The leases may run out before the next try: stop the runs
			// before another replica could start them again.
			s.d.log.Error("cannot renew leases; stopping the running events (they run again)", "events", len(seqs), "err", err)
			lost = seqs
		} else {
			ok = time.Now()
			for _, seq := range lost {
				s.d.log.Warn("another replica took over an event this one runs; stopping the run", "seq", seq)
			}
		}
		mu.Lock()
		for _, seq := range lost {
			if cancel, still := running[seq]; still {
				cancel()
			}
		}
		mu.Unlock()
	}
}
