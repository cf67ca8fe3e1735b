package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/store/pgtest"
)

// keyOf orders the events of these tests by their payload: "k1", "k2"...
func keyOf(e *Event) string { return string(e.Payload) }

func TestSQLiteHasNoLeases(t *testing.T) {
	if s := open(t, t.TempDir()+"/flow.db"); s.Leases() != nil {
		t.Fatal("a SQLite store offers leases")
	}
}

func accept(t *testing.T, s *Store, id, key string) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Accept(ctx, "stripe", id, "charge.succeeded", []byte(key), time.Now()); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Event(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Seq
}

func ids(evs []*Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.GatewayID())
	}
	return strings.Join(out, " ")
}

// Of each ordering key only the oldest open event is claimed; the next
// one once it ends, even while an event of the key waits for a retry.
func TestClaimRunsAKeyOldestFirst(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	s := open(t, dsn)
	l := s.Leases()
	a1 := accept(t, s, "a1", "k1")
	accept(t, s, "b1", "k2")
	accept(t, s, "a2", "k1")
	accept(t, s, "c1", "") // its own key
	evs, err := l.Claim(ctx, 10, time.Minute, keyOf)
	if err != nil || ids(evs) != "a1 b1 c1" || string(evs[0].Payload) != "k1" {
		t.Fatalf("claim = %q, %v", ids(evs), err)
	}
	if evs, _ := l.Claim(ctx, 10, time.Minute, keyOf); len(evs) != 0 {
		t.Fatalf("claimed again: %q", ids(evs))
	}
	// a1 fails for now: a2 still waits behind it, and a1 is not due.
	s.Start(ctx, a1, "v1", time.Now())
	if err := s.Finish(ctx, a1, 1, "v1", Outcome{Status: Retry, NextAt: time.Now().Add(300 * time.Millisecond)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if evs, _ := l.Claim(ctx, 10, time.Minute, keyOf); len(evs) != 0 {
		t.Fatalf("claimed behind a retry: %q", ids(evs))
	}
	time.Sleep(350 * time.Millisecond)
	evs, _ = l.Claim(ctx, 10, time.Minute, keyOf)
	if ids(evs) != "a1" {
		t.Fatalf("claim once due = %q", ids(evs))
	}
	s.Start(ctx, a1, "v1", time.Now())
	s.Finish(ctx, a1, 2, "v1", Outcome{Status: Done}, time.Now())
	if evs, _ = l.Claim(ctx, 10, time.Minute, keyOf); ids(evs) != "a2" {
		t.Fatalf("after a1 = %q", ids(evs))
	}
}

// A replica that stops renewing loses its events to another once the
// lease runs out, and can no longer record their outcome.
func TestExpiredLeaseIsRescued(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	dead, live := open(t, dsn), open(t, dsn)
	seq := accept(t, dead, "e1", "k1")
	evs, err := dead.Leases().Claim(ctx, 10, 300*time.Millisecond, keyOf)
	if err != nil || len(evs) != 1 {
		t.Fatalf("claim = %v, %v", evs, err)
	}
	if a, err := dead.Start(ctx, seq, "v1", time.Now()); err != nil || a != 1 {
		t.Fatalf("start = %d, %v", a, err)
	}
	if _, err := live.Start(ctx, seq, "v1", time.Now()); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("start of another's event: %v", err)
	}
	if lost, err := dead.Leases().Extend(ctx, []int64{seq}, 300*time.Millisecond); err != nil || len(lost) != 0 {
		t.Fatalf("extend = %v, %v", lost, err)
	}
	if evs, _ := live.Leases().Claim(ctx, 10, time.Minute, keyOf); len(evs) != 0 {
		t.Fatal("claimed a held event")
	}
	time.Sleep(400 * time.Millisecond) // the replica died: no renewal
	evs, err = live.Leases().Claim(ctx, 10, time.Minute, keyOf)
	if err != nil || len(evs) != 1 || evs[0].Status != Running {
		t.Fatalf("rescue = %v, %v", evs, err)
	}
	if a, err := live.Start(ctx, seq, "v2", time.Now()); err != nil || a != 2 {
		t.Fatalf("rescuing attempt = %d, %v (want 2: it settles)", a, err)
	}
	if err := dead.Finish(ctx, seq, 1, "v1", Outcome{Status: Done}, time.Now()); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the old owner's finish: %v", err)
	}
	if lost, _ := dead.Leases().Extend(ctx, []int64{seq}, time.Minute); len(lost) != 1 || lost[0] != seq {
		t.Fatalf("the old owner's renewal: lost = %v, want [%d]", lost, seq)
	}
	if evs, _ := dead.Leases().Claim(ctx, 10, time.Minute, keyOf); len(evs) != 0 {
		t.Fatal("the old owner claimed it back")
	}
	if err := live.Finish(ctx, seq, 2, "v2", Outcome{Status: Done}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ev, _ := live.Event(ctx, "e1")
	if ev.Status != Done || ev.PlanVersion != "v2" {
		t.Fatalf("after the rescue: %+v", ev)
	}
}

func TestReleaseDefers(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	s := open(t, dsn)
	seq := accept(t, s, "e1", "k1")
	s.Leases().Claim(ctx, 1, time.Minute, keyOf)
	if err := s.Leases().Release(ctx, seq, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Leases().Claim(ctx, 1, time.Minute, keyOf); len(evs) != 0 {
		t.Fatal("claimed before notBefore")
	}
	ev, _ := s.Event(ctx, "e1")
	if ev.Status != Received || ev.NextAt.Before(time.Now().Add(59*time.Minute)) {
		t.Fatalf("released: %+v", ev)
	}
}

// Replicas claiming together take each event once, and never two events
// of one key at a time.
func TestConcurrentClaimsTakeEachEventOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var stores []*Store
	for range 3 {
		stores = append(stores, open(t, dsn))
	}
	const n, keys = 300, 20
	for i := range n {
		accept(t, stores[0], fmt.Sprintf("e%03d", i), fmt.Sprintf("k%d", i%keys))
	}
	var mu sync.Mutex
	ran := map[string]int{}
	running := map[string]bool{} // keys from claim until the run ends (just before Finish hands the key on)
	last := map[string]int64{}   // the last seq of each key claimed
	var wg sync.WaitGroup
	for _, s := range stores {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for idle := 0; idle < 20; {
					evs, err := s.Leases().Claim(ctx, 2, time.Minute, keyOf)
					if err != nil {
						t.Error(err)
						return
					}
					if len(evs) == 0 {
						idle++
						time.Sleep(5 * time.Millisecond)
						continue
					}
					idle = 0
					for _, e := range evs {
						k := string(e.Payload)
						mu.Lock()
						if running[k] {
							t.Errorf("key %s runs twice at once", k)
						}
						if last[k] > e.Seq {
							t.Errorf("key %s: %s claimed after a newer event", k, e.ID)
						}
						running[k], last[k] = true, e.Seq
						ran[e.ID]++
						mu.Unlock()
						a, err := s.Start(ctx, e.Seq, "v1", time.Now())
						mu.Lock()
						running[k] = false
						mu.Unlock()
						if err == nil {
							err = s.Finish(ctx, e.Seq, a, "v1", Outcome{Status: Done}, time.Now())
						}
						if err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	if len(ran) != n {
		t.Fatalf("%d events ran, want %d", len(ran), n)
	}
	for id, c := range ran {
		if c != 1 {
			t.Errorf("%s ran %d times", id, c)
		}
	}
}

func TestMigrateTwiceAndTogether(t *testing.T) {
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(dsn)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	from, to, err := Migrate(context.Background(), dsn)
	if err != nil || from != len(pgMigrations) || to != from {
		t.Fatalf("Migrate = %d, %d, %v", from, to, err)
	}
	path := t.TempDir() + "/flow.db"
	if from, to, err := Migrate(context.Background(), path); err != nil || from != 0 || to != len(migrations) {
		t.Fatalf("Migrate(sqlite) = %d, %d, %v", from, to, err)
	}
}
