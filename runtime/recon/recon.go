// Package recon reconciles Stripe payouts against what flowd recorded and
// posted: the payout's amount, the balance transactions read for it, the
// difference and the transactions behind it, and the journal's totals. flowc
// recon prints it; flowd's console and admin API serve it.
package recon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/jsonval"
)

// Row is one payout's reconciliation.
type Row struct {
	Payout       string   `json:"payout"`
	Event        string   `json:"event"`
	Currency     string   `json:"currency"`
	Amount       string   `json:"amount"`
	Transactions int      `json:"transactions"`
	Sum          string   `json:"sum"`        // net of the transactions, the payout's own aside
	Difference   string   `json:"difference"` // sum - amount
	Posted       string   `json:"posted"`     // the event's status and journal
	Journal      *Journal `json:"journal,omitempty"`
	Reconciles   bool     `json:"reconciles"`
	Items        []Item   `json:"items,omitempty"` // when it does not reconcile
	Problems     []string `json:"problems,omitempty"`
	// FeeRatio is the payout's Stripe fees over its charges' gross, in
	// percent; Flags are the anomalies found, each with its numbers.
	FeeRatio string   `json:"fee_ratio,omitempty"`
	Flags    []string `json:"flags,omitempty"`
	sumByCur map[string]decimal.Decimal
	fees     int64 // of the charges, minor units
	gross    int64
}

// Journal is what a payout's journal posted, from the ledger flowd keeps.
type Journal struct {
	Key     string `json:"key"`
	Lines   int    `json:"lines"`
	Debits  string `json:"debits"`
	Credits string `json:"credits"`
}

// Item is one balance transaction of a payout that does not reconcile.
type Item struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Currency string `json:"currency"`
	Net      string `json:"net"`
}

// Payouts reconciles the Stripe payouts in the store, oldest first: each
// payout.paid event's amount against the balance transactions flowd
// recorded for it and the journal it posted. only, when set, keeps one
// payout (po_...).
func Payouts(ctx context.Context, st *store.Store, only string) ([]*Row, error) {
	evs, err := st.Events(ctx, store.Filter{Type: "payout.paid", Limit: 1 << 30})
	if err != nil {
		return nil, err
	}
	var rows []*Row
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		ev := evs[i]
		if ev.Source != "stripe" { // payout.paid is Stripe's name; another source's is not a payout
			continue
		}
		payload, err := st.Payload(ctx, ev.Seq)
		if err != nil {
			return nil, err
		}
		r, err := reconcileOne(ctx, st, ev, payload)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.GatewayID(), err)
		}
		rows = append(rows, r)
	}
	flag(rows)
	if only != "" {
		rows = slices.DeleteFunc(rows, func(r *Row) bool { return r.Payout != only })
	}
	return rows, nil
}

// Fee ratios further than this many robust deviations from the other
// payouts' median are flagged, once there are minPayouts others.
const (
	feeThreshold = 3.5
	minPayouts   = 5
)

// flag marks the payouts that do not reconcile, and those whose fee ratio
// departs from the account's norm: the robust z-score of the ratio against
// the other payouts' ratios, 0.6745 x (ratio - median) / MAD.
func flag(rows []*Row) {
	ratio := func(r *Row) float64 { return float64(r.fees) / float64(r.gross) }
	for _, r := range rows {
		if r.gross > 0 {
			r.FeeRatio = fmt.Sprintf("%.2f%%", 100*ratio(r))
		}
		if !r.Reconciles {
			r.Flags = append(r.Flags, fmt.Sprintf("does not reconcile: its transactions differ from its amount by %s %s", r.Difference, r.Currency))
		}
	}
	for _, r := range rows {
		if r.gross <= 0 {
			continue
		}
		var others []float64
		for _, o := range rows {
			if o != r && o.gross > 0 {
				others = append(others, ratio(o))
			}
		}
		if len(others) < minPayouts {
			continue
		}
		med := median(others)
		dev := make([]float64, len(others))
		for i, x := range others {
			dev[i] = math.Abs(x - med)
		}
		mad := median(dev)
		x := ratio(r)
		if mad == 0 {
			if x != med {
				r.Flags = append(r.Flags, fmt.Sprintf("fees were %.2f%% of its charges, where the other %d payouts' were all %.2f%%", 100*x, len(others), 100*med))
			}
			continue
		}
		if z := 0.6745 * (x - med) / mad; math.Abs(z) > feeThreshold {
			r.Flags = append(r.Flags, fmt.Sprintf("fees were %.2f%% of its charges, against a median of %.2f%% over %d other payouts (robust z %.1f)", 100*x, 100*med, len(others), z))
		}
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func reconcileOne(ctx context.Context, st *store.Store, ev *store.Event, payload []byte) (*Row, error) {
	body, err := jsonval.Parse(payload)
	if err != nil {
		return nil, err
	}
	data, _ := body.Get("data")
	d, ok := data.(*jsonval.Object)
	if !ok {
		return nil, fmt.Errorf("no data.object")
	}
	obj, _ := d.Get("object")
	po, ok := obj.(*jsonval.Object)
	if !ok {
		return nil, fmt.Errorf("no data.object")
	}
	str := func(o *jsonval.Object, k string) string { v, _ := o.Get(k); s, _ := v.(string); return s }
	minor := func(o *jsonval.Object, k, cur string) (decimal.Decimal, error) {
		v, _ := o.Get(k)
		n, ok := v.(json.Number)
		if !ok {
			return decimal.Zero, fmt.Errorf("%s is not a number", k)
		}
		units, err := n.Int64()
		if err != nil {
			return decimal.Zero, err
		}
		return stdlib.FromMinor(units, cur)
	}
	r := &Row{Payout: str(po, "id"), Event: ev.GatewayID(), Currency: strings.ToUpper(str(po, "currency")), sumByCur: map[string]decimal.Decimal{}}
	amount, err := minor(po, "amount", str(po, "currency"))
	if err != nil {
		return nil, err
	}
	r.Amount = amount.StringFixed(int32(exponentOf(r.Currency)))
	r.Posted = string(ev.Status)
	if ev.Error != "" {
		r.Posted += ": " + ev.Error
	}
	trail, err := st.Trail(ctx, ev.Seq)
	if err != nil {
		return nil, err
	}
	for _, s := range trail {
		if s.Kind != "journal" {
			continue
		}
		r.Posted = string(ev.Status) + ", " + s.Detail
		if key, err := strconv.QuotedPrefix(strings.TrimPrefix(s.Detail, "journal key ")); err == nil {
			if r.Journal, err = journalTotals(ctx, st, key[1:len(key)-1]); err != nil {
				return nil, err
			}
		}
	}
	lists, err := st.Lists(ctx, ev.Seq)
	if err != nil {
		return nil, err
	}
	var items []map[string]any
	for k, raw := range lists {
		if !strings.HasPrefix(k, "balance_transactions ") {
			continue
		}
		var its []map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&its); err != nil {
			return nil, fmt.Errorf("recorded balance transactions: %w", err)
		}
		items = append(items, its...)
	}
	if len(items) == 0 {
		r.Problems = append(r.Problems, "flowd recorded no balance transactions for this payout (not run yet, or it failed before reading them)")
	}
	sum := decimal.Zero
	for _, it := range items {
		typ, _ := it["type"].(string)
		cur, _ := it["currency"].(string)
		n, _ := it["net"].(json.Number)
		units, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("balance transaction %v: net %q", it["id"], n)
		}
		net, err := stdlib.FromMinor(units, cur)
		if err != nil {
			return nil, err
		}
		id, _ := it["id"].(string)
		item := Item{ID: id, Type: typ, Currency: strings.ToUpper(cur), Net: net.StringFixed(int32(exponentOf(cur)))}
		r.Items = append(r.Items, item)
		if typ == "payout" {
			if !net.Neg().Equal(amount) {
				r.Problems = append(r.Problems, fmt.Sprintf("the payout's own transaction %s moves %s, not %s", id, net.Neg(), amount))
			}
			continue
		}
		r.Transactions++
		if cat, _ := it["reporting_category"].(string); cat == "charge" {
			a, _ := it["amount"].(json.Number)
			f, _ := it["fee"].(json.Number)
			if ai, err := a.Int64(); err == nil {
				r.gross += ai
			}
			if fi, err := f.Int64(); err == nil {
				r.fees += fi
			}
		}
		if !strings.EqualFold(cur, r.Currency) {
			r.Problems = append(r.Problems, fmt.Sprintf("transaction %s is in %s, the payout in %s", id, strings.ToUpper(cur), r.Currency))
		}
		sum = sum.Add(net)
	}
	diff := sum.Sub(amount)
	exp := int32(exponentOf(r.Currency))
	r.Sum, r.Difference = sum.StringFixed(exp), diff.StringFixed(exp)
	if j := r.Journal; j != nil && j.Debits != j.Credits {
		r.Problems = append(r.Problems, fmt.Sprintf("the journal posted debits %s and credits %s", j.Debits, j.Credits))
	}
	r.Reconciles = diff.IsZero() && len(r.Problems) == 0 && ev.Status == store.Done
	if ev.Status != store.Done {
		r.Problems = append(r.Problems, "not posted: the event is "+string(ev.Status))
	}
	if r.Reconciles {
		r.Items = nil
	} else {
		sort.Slice(r.Items, func(i, j int) bool { return r.Items[i].ID < r.Items[j].ID })
	}
	return r, nil
}

// journalTotals sums what the journal with this key posted, from the
// lines the ledger keeps with its header.
func journalTotals(ctx context.Context, st *store.Store, key string) (*Journal, error) {
	rec, ok, err := st.Get(ctx, key)
	if err != nil || !ok {
		return nil, err
	}
	lines, _ := rec[engine.JournalLines].([]any)
	debit, credit := decimal.Zero, decimal.Zero
	for _, l := range lines {
		m, _ := l.(map[string]any)
		for field, sum := range map[string]*decimal.Decimal{"DebitAmount": &debit, "CreditAmount": &credit} {
			if v, ok := m[field]; ok && v != nil {
				d, err := decimal.NewFromString(fmt.Sprint(v))
				if err != nil {
					return nil, fmt.Errorf("journal %s: %s %v", key, field, v)
				}
				*sum = sum.Add(d)
			}
		}
	}
	return &Journal{Key: key, Lines: len(lines), Debits: debit.String(), Credits: credit.String()}, nil
}

func exponentOf(currency string) int {
	if e, ok := stdlib.Exponent(strings.ToLower(currency)); ok {
		return e
	}
	return 2
}
