package recon

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/store"
)

// payout stores a paid payout as flowd leaves it: the event done, and the
// balance transactions it read (one charge with this fee, and the payout).
func payout(t *testing.T, st *store.Store, n int, amount, fee int64) {
	t.Helper()
	ctx, now := context.Background(), time.Unix(1_700_000_000+int64(n)*86400, 0)
	id := fmt.Sprintf("po_%d", n)
	body := fmt.Sprintf(`{"id":"evt_%d","type":"payout.paid","data":{"object":{"id":%q,"amount":%d,"currency":"usd"}}}`, n, id, amount-fee)
	if _, err := st.Accept(ctx, "stripe", fmt.Sprintf("evt_%d", n), "payout.paid", []byte(body), now); err != nil {
		t.Fatal(err)
	}
	seq := int64(n)
	items := fmt.Sprintf(`[{"id":"txn_c%d","type":"charge","reporting_category":"charge","currency":"usd","amount":%d,"fee":%d,"net":%d},
		{"id":"txn_p%d","type":"payout","reporting_category":"payout","currency":"usd","amount":%d,"fee":0,"net":%d}]`,
		n, amount, fee, amount-fee, n, fee-amount, fee-amount)
	if err := st.PutList(ctx, seq, "balance_transactions", fmt.Sprintf(`{"payout":%q}`, id), []byte(items)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Start(ctx, seq, "v1", now); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, seq, 1, "v1", store.Outcome{Status: store.Done}, now); err != nil {
		t.Fatal(err)
	}
}

// A payout whose fees are far from the account's usual ratio is flagged
// with the numbers behind it; the usual ones are not.
func TestFeeRatioOffTheNormIsFlagged(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for n, fee := range []int64{290, 300, 310, 295, 305, 600} { // basis points x 10 of 10,000.00 of charges
		payout(t, st, n+1, 1_000_000, fee*100)
	}
	rows, err := Payouts(context.Background(), st, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows[:5] {
		if len(r.Flags) != 0 || !r.Reconciles {
			t.Errorf("%s: flags %v, reconciles %v", r.Payout, r.Flags, r.Reconciles)
		}
	}
	last := rows[5]
	if last.FeeRatio != "6.00%" || len(last.Flags) != 1 ||
		!strings.Contains(last.Flags[0], "fees were 6.00% of its charges, against a median of 3.00% over 5 other payouts (robust z 40.5)") {
		t.Fatalf("the expensive payout: %s %v", last.FeeRatio, last.Flags)
	}
	// One payout asked for is judged against all the others.
	one, err := Payouts(context.Background(), st, "po_6")
	if err != nil || len(one) != 1 || len(one[0].Flags) != 1 {
		t.Fatalf("po_6 alone: %v %v", one, err)
	}
}
