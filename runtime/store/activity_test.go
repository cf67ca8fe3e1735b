package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Activity counts arrivals where they arrived and outcomes where the
// latest attempt ended, in intervals, oldest first.
func TestActivityCountsByInterval(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		t0 := time.Unix(1_700_000_000, 0)
		for i := range 5 {
			id := fmt.Sprintf("evt_%d", i)
			if _, err := s.Accept(ctx, "stripe", id, "charge.succeeded", []byte(`{}`), t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		finish := func(seq int64, st Status, at time.Time) {
			if _, err := s.Start(ctx, seq, "v1", at); err != nil {
				t.Fatal(err)
			}
			if err := s.Finish(ctx, seq, 1, "v1", Outcome{Status: st, NextAt: at.Add(time.Hour)}, at); err != nil {
				t.Fatal(err)
			}
		}
		finish(1, Done, t0.Add(30*time.Second))
		finish(2, Dead, t0.Add(90*time.Second))
		finish(3, Retry, t0.Add(150*time.Second))
		finish(4, Done, t0.Add(150*time.Second))

		got, err := s.Activity(ctx, t0, t0.Add(5*time.Minute), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := []Bucket{
			{Received: 1, Done: 1},
			{Received: 1, Dead: 1},
			{Received: 1, Done: 1, Retry: 1},
			{Received: 1},
			{Received: 1},
		}
		if len(got) != len(want) {
			t.Fatalf("%d buckets, want %d", len(got), len(want))
		}
		for i := range want {
			want[i].Start = t0.Add(time.Duration(i) * time.Minute)
			if !got[i].Start.Equal(want[i].Start) || got[i].Received != want[i].Received || got[i].Done != want[i].Done ||
				got[i].Dead != want[i].Dead || got[i].Retry != want[i].Retry {
				t.Errorf("bucket %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		if _, err := s.Activity(ctx, t0, t0, time.Minute); err == nil {
			t.Error("an empty range was accepted")
		}
		if _, err := s.Activity(ctx, t0, t0.Add(1000*time.Hour), time.Second); err == nil {
			t.Error("millions of intervals were accepted")
		}
	})
}
