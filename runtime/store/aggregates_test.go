package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// count is an update that adds one to the entry's "n" and keeps it as a
// decimal string under "total" too.
func count(cur []byte) ([]byte, error) {
	n := 0
	if len(cur) > 0 {
		var err error
		if _, err = fmt.Sscanf(string(cur), `{"n":%d`, &n); err != nil {
			return nil, err
		}
	}
	n++
	return []byte(`{"n":` + strconv.Itoa(n) + `,"total":"` + strconv.Itoa(n) + `.10"}`), nil
}

// An update happens once per effect key: the same key twice, a failed
// update then a retry, concurrent updates of one entry, and a reopen.
func TestAggregatesUpdateOncePerKey(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		if v, ok, err := s.Aggregate(ctx, "stats", "cus_1"); err != nil || ok || v != nil {
			t.Fatalf("a missing entry: %s, %v, %v", v, ok, err)
		}
		v, applied, err := s.UpdateAggregate(ctx, "stats", "cus_1", "agg:evt_1", count)
		if err != nil || !applied || string(v) != `{"n":1,"total":"1.10"}` {
			t.Fatalf("first update: %s, %v, %v", v, applied, err)
		}
		calls := 0
		v, applied, err = s.UpdateAggregate(ctx, "stats", "cus_1", "agg:evt_1", func(cur []byte) ([]byte, error) { calls++; return count(cur) })
		if err != nil || applied || calls != 0 || string(v) != `{"n":1,"total":"1.10"}` {
			t.Fatalf("the same key again: %s, applied %v, %d calls, %v", v, applied, calls, err)
		}
		// A crash between computing and committing: nothing is stored,
		// not even the key, so the retry counts the event once.
		boom := errors.New("crash")
		if _, _, err := s.UpdateAggregate(ctx, "stats", "cus_1", "agg:evt_2", func([]byte) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
			t.Fatalf("a failing update: %v", err)
		}
		if v, _, _ := s.Aggregate(ctx, "stats", "cus_1"); string(v) != `{"n":1,"total":"1.10"}` {
			t.Fatalf("after a failed update: %s", v)
		}
		if _, ok, _ := s.Get(ctx, "agg:evt_2"); ok {
			t.Fatal("a failed update recorded its key")
		}
		if _, applied, err := s.UpdateAggregate(ctx, "stats", "cus_1", "agg:evt_2", count); err != nil || !applied {
			t.Fatalf("the retry: %v, %v", applied, err)
		}
		if _, ok, _ := s.Get(ctx, "agg:evt_2"); !ok {
			t.Fatal("the update's key is not in the ledger")
		}
		// Concurrent events on one entry, each delivered twice.
		var wg sync.WaitGroup
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := s.UpdateAggregate(ctx, "stats", "cus_2", fmt.Sprintf("agg:c%d", i%20), count); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		s.Close()
		s = open(t, dsn)
		defer s.Close()
		if v, ok, err := s.Aggregate(ctx, "stats", "cus_2"); err != nil || !ok || string(v) != `{"n":20,"total":"20.10"}` {
			t.Fatalf("20 events, each twice: %s, %v, %v", v, ok, err)
		}
		if v, _, _ := s.Aggregate(ctx, "stats", "cus_1"); string(v) != `{"n":2,"total":"2.10"}` {
			t.Fatalf("cus_1 after a reopen: %s", v)
		}
		if v, ok, _ := s.Aggregate(ctx, "other", "cus_1"); ok || v != nil {
			t.Fatalf("another aggregate's entry of the same key: %s", v)
		}
		// The entries list newest first, with their values as stored.
		entries, err := s.AggregateEntries(ctx, "stats", 10)
		if err != nil || len(entries) != 2 || entries[0].Key != "cus_2" || string(entries[0].Value) != `{"n":20,"total":"20.10"}` ||
			entries[1].Key != "cus_1" || entries[0].Updated.Before(entries[1].Updated) {
			t.Fatalf("entries %+v, %v", entries, err)
		}
		if entries, err := s.AggregateEntries(ctx, "other", 10); err != nil || len(entries) != 0 {
			t.Fatalf("an aggregate with no entries: %+v, %v", entries, err)
		}
	})
}

// The changes since a time list the entries updated at or after it, oldest
// change first, each once at its last change.
func TestAggregateChangesSince(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		defer s.Close()
		update := func(key, effect string) time.Time {
			t.Helper()
			if _, _, err := s.UpdateAggregate(ctx, "stats", key, effect, count); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond) // distinct update times
			return time.Now()
		}
		update("cus_1", "e1")
		mark := update("cus_2", "e2")
		update("cus_3", "e3")
		update("cus_1", "e4") // changed again after the mark
		list := func(since time.Time) (keys []string) {
			t.Helper()
			err := s.AggregateChanges(ctx, "stats", since, func(key string, value []byte, updated time.Time) error {
				if updated.Before(since) || len(value) == 0 {
					t.Errorf("%s: updated %v before %v, or no value %q", key, updated, since, value)
				}
				keys = append(keys, key)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return keys
		}
		if got := fmt.Sprint(list(mark)); got != "[cus_3 cus_1]" {
			t.Errorf("changed since the mark: %s, want [cus_3 cus_1] (oldest change first)", got)
		}
		if got := fmt.Sprint(list(time.Unix(0, 0))); got != "[cus_2 cus_3 cus_1]" {
			t.Errorf("changed since ever: %s", got)
		}
		if got := list(time.Now().Add(time.Hour)); len(got) != 0 {
			t.Errorf("changed in the future: %v", got)
		}
		stop := errors.New("stop")
		if err := s.AggregateChanges(ctx, "stats", mark, func(string, []byte, time.Time) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("each's error: %v", err)
		}
	})
}
