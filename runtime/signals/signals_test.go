package signals

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib/jsonval"
)

func chargeEvent(t *testing.T, id, customer string, amount int64, created time.Time) *engine.Event {
	t.Helper()
	body, err := jsonval.Parse([]byte(fmt.Sprintf(`{"id":%q,"type":"charge.succeeded","data":{"object":{"id":"ch_%s","customer":%q,"amount":%d,"currency":"usd","created":%d}}}`,
		id, id, customer, amount, created.Unix())))
	if err != nil {
		t.Fatal(err)
	}
	return &engine.Event{ID: id, Source: "stripe", Type: "charge.succeeded", Body: body}
}

// A customer who pays about 40-60 USD is flagged at 500 USD, with the
// numbers behind it; 55 USD is not; a second identical charge within a
// minute is a duplicate; and a customer with too little history is never
// scored.
func TestChargesFarFromTheirHistoryAndDuplicatesAreFlagged(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := &Source{Store: st}
	t0 := time.Unix(1_700_000_000, 0)
	for i, amount := range []int64{4000, 4500, 5000, 5200, 6000, 4800, 5100} {
		sig, err := src.Signals(ctx, chargeEvent(t, fmt.Sprintf("evt_%d", i), "cus_a", amount, t0.Add(time.Duration(i)*24*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		if sig["flagged"] != false {
			t.Fatalf("charge %d of a steady customer flagged: %v", i, sig)
		}
	}
	day := 24 * time.Hour
	sig, err := src.Signals(ctx, chargeEvent(t, "evt_big", "cus_a", 50000, t0.Add(10*day)))
	if err != nil {
		t.Fatal(err)
	}
	// median 5000, MAD 200: 0.6745 x 45000 / 200 = 151.76.
	if sig["flagged"] != true || sig["amount_z"] != 151.76 || sig["history"] != int64(7) ||
		!strings.Contains(sig["reason"].(string), "500.00 USD is 151.8 robust deviations above this customer's median of 50.00 USD over 7 earlier charges") {
		t.Fatalf("a 500 USD charge: %v", sig)
	}
	sig, _ = src.Signals(ctx, chargeEvent(t, "evt_usual", "cus_a", 5500, t0.Add(11*day)))
	if sig["flagged"] != false || sig["amount_z"].(float64) > 3.5 {
		t.Fatalf("a usual charge: %v", sig)
	}
	sig, _ = src.Signals(ctx, chargeEvent(t, "evt_twice", "cus_a", 5500, t0.Add(11*day+20*time.Second)))
	if sig["duplicate"] != true || !strings.Contains(sig["reason"].(string), "the same 55.00 USD charge of this customer 20s earlier (evt_usual)") {
		t.Fatalf("the same charge 20 s later: %v", sig)
	}
	// The same event again (a retry) is not its own duplicate, nor counted twice.
	sig, _ = src.Signals(ctx, chargeEvent(t, "evt_usual", "cus_a", 5500, t0.Add(11*day)))
	if sig["history"] != int64(8) {
		t.Fatalf("a retried event counted itself: %v", sig)
	}
	sig, _ = src.Signals(ctx, chargeEvent(t, "evt_new", "cus_b", 900000, t0))
	if sig["flagged"] != false || sig["history"] != int64(0) {
		t.Fatalf("a new customer: %v", sig)
	}
	// Other events have no flags.
	other := &engine.Event{ID: "evt_p", Source: "stripe", Type: "payout.paid", Body: map[string]any{}}
	if sig, err := src.Signals(ctx, other); err != nil || sig["flagged"] != false {
		t.Fatalf("a payout: %v %v", sig, err)
	}
}

// When every earlier charge was the same amount, any other amount is far,
// and the reason says so plainly.
func TestASteadyAmountMakesAnyOtherFar(t *testing.T) {
	var before []store.Charge
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 6 {
		before = append(before, store.Charge{Event: fmt.Sprintf("stripe:evt_%d", i), Amount: 1999, Currency: "usd", Created: t0.Add(-time.Duration(i+1) * time.Hour)})
	}
	f := Assess(store.Charge{Event: "stripe:evt_x", Amount: 2999, Currency: "usd", Created: t0}, before, nil, time.Minute, 3.5, 5)
	if f.AmountZ != 99 || len(f.Reasons) != 1 || f.Reasons[0] != "29.99 USD, where all 6 earlier charges of this customer were 19.99 USD" {
		t.Fatalf("%+v", f)
	}
	if f := Assess(store.Charge{Amount: 2999, Currency: "jpy"}, before[:4], nil, time.Minute, 3.5, 5); f.AmountZ != 0 || len(f.Reasons) != 0 {
		t.Fatalf("four earlier charges scored: %+v", f)
	}
}
