package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The rest of the store's contract, on both databases: lookups, listings,
// plan versions, waiting, gateway lists, review, charge history, payloads.
func TestEventsListsAndLookups(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		t0 := time.Unix(1_700_000_000, 0)
		for i, typ := range []string{"charge.succeeded", "charge.refunded", "charge.succeeded"} {
			if _, err := s.Accept(ctx, "stripe", fmt.Sprintf("evt_%d", i), typ, []byte(fmt.Sprintf(`{"n":%d}`, i)), t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := s.Event(ctx, "evt_1")
		if err != nil || ev.ID != "stripe:evt_1" || ev.GatewayID() != "evt_1" || ev.Type != "charge.refunded" || !ev.Received.Equal(t0.Add(time.Second)) {
			t.Fatalf("Event(evt_1) = %+v, %v", ev, err)
		}
		if byID, err := s.Event(ctx, "stripe:evt_1"); err != nil || byID.Seq != ev.Seq {
			t.Fatalf("by id: %+v, %v", byID, err)
		}
		if bySeq, err := s.Event(ctx, fmt.Sprint(ev.Seq)); err != nil || bySeq.ID != ev.ID {
			t.Fatalf("by seq: %+v, %v", bySeq, err)
		}
		for _, ref := range []string{"evt_9", "stripe:evt_9", "999999", "evt_%", "evt\x00\xff"} {
			if _, err := s.Event(ctx, ref); !errors.Is(err, ErrNotFound) {
				t.Errorf("Event(%q): %v, want ErrNotFound", ref, err)
			}
		}
		if p, err := s.Payload(ctx, ev.Seq); err != nil || string(p) != `{"n":1}` {
			t.Fatalf("Payload = %s, %v", p, err)
		}
		if _, err := s.Payload(ctx, 999999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Payload of nothing: %v", err)
		}
		var seen []string
		if err := s.EachPayload(ctx, t0.Add(time.Second), func(seq int64, p []byte) error { seen = append(seen, string(p)); return nil }); err != nil {
			t.Fatal(err)
		}
		if strings.Join(seen, " ") != `{"n":1} {"n":2}` {
			t.Fatalf("EachPayload since the second: %v", seen)
		}
		evs, err := s.Events(ctx, Filter{Type: "charge.succeeded"})
		if err != nil || len(evs) != 2 || evs[0].ID != "stripe:evt_2" || evs[0].Payload != nil {
			t.Fatalf("Events(type) = %v, %v", evs, err)
		}
		if evs, _ := s.Events(ctx, Filter{Limit: 1}); len(evs) != 1 {
			t.Fatalf("Events(limit 1) = %d events", len(evs))
		}
		open, err := s.OpenEvents(ctx, ev.Seq-1, 10)
		if err != nil || len(open) != 2 || open[0].Seq != ev.Seq {
			t.Fatalf("OpenEvents = %v, %v", open, err)
		}

		// Each attempt records its plan version: a rollout shows.
		if _, err := s.Start(ctx, ev.Seq, "v1", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, ev.Seq, 1, "v1", Outcome{Status: Retry, NextAt: t0.Add(time.Minute), Error: "503"}, t0); err != nil {
			t.Fatal(err)
		}
		if a, err := s.Start(ctx, ev.Seq, "v2", t0); err != nil || a != 2 {
			t.Fatalf("second attempt %d, %v", a, err)
		}
		// Waiting does not use up the retry budget.
		if err := s.Finish(ctx, ev.Seq, 2, "v2", Outcome{Status: Waiting, NextAt: t0.Add(time.Hour), Flow: "refund", Step: 2,
			Trail: []Step{{At: t0, Flow: "refund", Step: 1, Kind: "lookup", Detail: "found"}, {At: t0, Flow: "refund", Step: 2, Kind: "wait", Detail: "no order\x00 yet \xff"}}}, t0); err != nil {
			t.Fatal(err)
		}
		ev, _ = s.Event(ctx, "evt_1")
		if ev.Status != Waiting || ev.Attempts != 1 || ev.PlanVersion != "v2" || !ev.NextAt.Equal(t0.Add(time.Hour)) || ev.Flow != "refund" || ev.Step != 2 {
			t.Fatalf("waiting: %+v", ev)
		}
		trail, err := s.Trail(ctx, ev.Seq)
		if err != nil || len(trail) != 2 || trail[0].Kind != "lookup" || trail[1].Kind != "wait" || trail[1].PlanVersion != "v2" || trail[1].Attempt != 2 {
			t.Fatalf("trail = %+v, %v", trail, err)
		}
		counts, err := s.Counts(ctx)
		if err != nil || counts[Waiting] != 1 || counts[Received] != 2 {
			t.Fatalf("counts = %v, %v", counts, err)
		}
		if _, err := s.Start(ctx, 999999, "v1", t0); err == nil {
			t.Fatal("started an unknown event")
		}
	})
}

func TestGatewayListsForReplays(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		if _, err := s.Accept(ctx, "stripe", "evt_po", "payout.paid", []byte(`{}`), time.Now()); err != nil {
			t.Fatal(err)
		}
		ev, _ := s.Event(ctx, "evt_po")
		if _, ok, err := s.List(ctx, ev.Seq, "balance_transactions", `{"payout":"po_1"}`); ok || err != nil {
			t.Fatalf("a list never read: %v, %v", ok, err)
		}
		for _, items := range []string{`[1]`, `[1,2]`} { // the latest read wins
			if err := s.PutList(ctx, ev.Seq, "balance_transactions", `{"payout":"po_1"}`, []byte(items)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutList(ctx, ev.Seq, "balance_transactions", `{"payout":"po_2"}`, []byte(`[]`)); err != nil {
			t.Fatal(err)
		}
		items, ok, err := s.List(ctx, ev.Seq, "balance_transactions", `{"payout":"po_1"}`)
		if err != nil || !ok || string(items) != `[1,2]` {
			t.Fatalf("List = %s, %v, %v", items, ok, err)
		}
		all, err := s.Lists(ctx, ev.Seq)
		if err != nil || len(all) != 2 || string(all[`balance_transactions {"payout":"po_2"}`]) != `[]` {
			t.Fatalf("Lists = %v, %v", all, err)
		}
	})
}

func TestReviewDecides(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Unix(1_700_000_000, 0)
		var seqs []int64
		for i := range 3 {
			if _, err := s.Accept(ctx, "stripe", fmt.Sprintf("evt_%d", i), "charge.succeeded", []byte(`{}`), now); err != nil {
				t.Fatal(err)
			}
			ev, _ := s.Event(ctx, fmt.Sprintf("evt_%d", i))
			seqs = append(seqs, ev.Seq)
			if i < 2 {
				s.Start(ctx, ev.Seq, "v1", now)
				if err := s.Finish(ctx, ev.Seq, 1, "v1", Outcome{Status: Review, Flow: "order_to_cash", Error: "amount far from usual"}, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.Decide(ctx, seqs[0], true, "", now); err != nil {
			t.Fatal(err)
		}
		if err := s.Decide(ctx, seqs[1], false, "fraud", now); err != nil {
			t.Fatal(err)
		}
		if err := s.Decide(ctx, seqs[2], true, "", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deciding an event not in review: %v", err)
		}
		if err := s.Decide(ctx, seqs[0], false, "twice", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deciding twice: %v", err)
		}
		a, _ := s.Event(ctx, fmt.Sprint(seqs[0]))
		r, _ := s.Event(ctx, fmt.Sprint(seqs[1]))
		if a.Status != Received || !a.Approved || a.Error != "" {
			t.Fatalf("approved: %+v", a)
		}
		if r.Status != Skipped || r.Approved || !strings.Contains(r.Error, "fraud") {
			t.Fatalf("rejected: %+v", r)
		}
	})
}

func TestChargeHistory(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		t0 := time.Unix(1_700_000_000, 0)
		c := func(n int, cust string, at time.Duration) Charge {
			return Charge{Event: fmt.Sprintf("stripe:evt_%d", n), Customer: cust, Currency: "usd", Amount: int64(1000 * n), Created: t0.Add(at)}
		}
		for i := 1; i <= 4; i++ {
			if _, _, err := s.ChargeHistory(ctx, c(i, "cus_a", time.Duration(i)*time.Hour), 10, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		s.ChargeHistory(ctx, c(9, "cus_b", 0), 10, time.Minute)
		// A duplicate 30 s after the third ran first.
		s.ChargeHistory(ctx, c(5, "cus_a", 3*time.Hour+30*time.Second), 10, time.Minute)
		before, near, err := s.ChargeHistory(ctx, c(3, "cus_a", 3*time.Hour), 2, time.Minute) // recorded once
		if err != nil {
			t.Fatal(err)
		}
		if len(before) != 2 || before[0].Event != "stripe:evt_2" || before[1].Event != "stripe:evt_1" || before[0].Amount != 2000 || !before[0].Created.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("before = %+v", before)
		}
		if len(near) != 1 || near[0].Event != "stripe:evt_5" {
			t.Fatalf("near = %+v", near)
		}
	})
}
