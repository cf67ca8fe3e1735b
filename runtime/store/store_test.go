package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/store/pgtest"
)

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachStore runs test against each database a store can be in: a SQLite
// file, and a PostgreSQL schema (skipped when there is no PostgreSQL; see
// pgtest).
func eachStore(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "flow.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.DSN(t)) })
}

func TestAcceptStoresOnceAndSurvivesReopen(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Unix(1700000000, 0)
		var wg sync.WaitGroup
		dups := make([]bool, 200)
		for i := range dups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("evt_%d", i%100) // every event delivered twice
				dup, err := s.Accept(ctx, "stripe", id, "charge.succeeded", []byte(`{"id":"`+id+`"}`), now)
				if err != nil {
					t.Error(err)
				}
				dups[i] = dup
			}()
		}
		wg.Wait()
		n := 0
		for _, d := range dups {
			if d {
				n++
			}
		}
		if n != 100 {
			t.Fatalf("%d redeliveries reported, want 100", n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, dsn)
		open, err := s.OpenEvents(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 100 {
			t.Fatalf("%d events after reopen, want 100", len(open))
		}
		if _, err := s.Accept(ctx, "stripe", "evt_x", "t", nil, now); err != nil {
			t.Fatalf("accept with an empty body: %v", err)
		}
	})
}

func TestAttemptsTrailAndRequeue(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Unix(1700000000, 0)
		if _, err := s.Accept(ctx, "stripe", "evt_1", "charge.succeeded", []byte(`{}`), now); err != nil {
			t.Fatal(err)
		}
		ev, err := s.Event(ctx, "evt_1")
		if err != nil {
			t.Fatal(err)
		}
		for want := 1; want <= 2; want++ {
			a, err := s.Start(ctx, ev.Seq, "v1", now)
			if err != nil || a != want {
				t.Fatalf("attempt = %d, %v; want %d", a, err, want)
			}
		}
		err = s.Finish(ctx, ev.Seq, 2, "v1", Outcome{Status: Dead, Flow: "f", Step: 3, Error: "no customer",
			Trail: []Step{{At: now, Flow: "f", Step: 3, Kind: "lookup", Detail: "no CustomersV3"}}}, now)
		if err != nil {
			t.Fatal(err)
		}
		dead, err := s.Events(ctx, Filter{Status: Dead})
		if err != nil || len(dead) != 1 || dead[0].Error != "no customer" || dead[0].Step != 3 {
			t.Fatalf("dead letters = %+v, %v", dead, err)
		}
		trail, err := s.Trail(ctx, ev.Seq)
		if err != nil || len(trail) != 1 || trail[0].Attempt != 2 || trail[0].PlanVersion != "v1" {
			t.Fatalf("trail = %+v, %v", trail, err)
		}
		seqs, err := s.Requeue(ctx, 0, now)
		if err != nil || len(seqs) != 1 {
			t.Fatalf("requeue = %v, %v", seqs, err)
		}
		ev, _ = s.Event(ctx, fmt.Sprint(ev.Seq))
		if ev.Status != Received || ev.Error != "" || ev.Attempts != 1 {
			t.Fatalf("after requeue: %+v", ev)
		}
	})
}

func TestLedgerKeepsTheFirstRecord(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		rec := erp.Record{"SalesOrderNumber": "SO-1", "Amount": decimal.RequireFromString("12.30")}
		if err := s.Put(ctx, "stripe:ch_1", "SalesOrderHeadersV2", rec); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "stripe:ch_1", "SalesOrderHeadersV2", erp.Record{"SalesOrderNumber": "SO-2"}); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Get(ctx, "stripe:ch_1")
		if err != nil || !ok || got["SalesOrderNumber"] != "SO-1" || fmt.Sprint(got["Amount"]) != "12.3" {
			t.Fatalf("Get = %v, %v, %v", got, ok, err)
		}
		if _, ok, _ := s.Get(ctx, "missing"); ok {
			t.Fatal("found a key never put")
		}
	})
}

func TestClosedStoreRefusesWrites(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		s, err := Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := s.Accept(context.Background(), "stripe", "evt_1", "t", nil, time.Now()); err != ErrClosed {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	})
}
