// Package signals computes what flowd's history says about an event, for
// flows that hold unusual ones for review (`review when signals.flagged
// because signals.reason`). Every flag is a plain statistic with its
// numbers in words, never a black box:
//
//   - amount_z: the robust z-score of a charge's amount against the same
//     customer's earlier charges in its currency, 0.6745 x (amount -
//     median) / MAD (Iglewicz and Hoaglin's modified z-score), flagged
//     beyond 3.5 once there are 5 earlier charges to compare with;
//   - duplicate: another charge of the same customer, amount and currency
//     within a minute.
//
// Payout-level flags (a fee ratio off the account's norm, a payout that
// does not reconcile) are computed over the reconciliation in package recon.
package signals

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/jsonval"
)

// Defaults of Source.
const (
	DefaultThreshold  = 3.5
	DefaultMinHistory = 5
	DefaultWindow     = time.Minute
	historyLimit      = 200
)

// Source computes signals from the charges flows have seen, kept in the
// store. It implements engine.SignalSource.
type Source struct {
	Store      *store.Store
	Threshold  float64       // |amount_z| above it flags; default 3.5
	MinHistory int           // earlier charges needed for a score; default 5
	Window     time.Duration // how close a duplicate is; default a minute
}

// Signals implements engine.SignalSource. Events other than Stripe charges
// have no flags.
func (s *Source) Signals(ctx context.Context, ev *engine.Event) (map[string]any, error) {
	out := engine.NoSignals()
	c, ok := charge(ev)
	if !ok {
		return out, nil
	}
	window := s.Window
	if window <= 0 {
		window = DefaultWindow
	}
	before, near, err := s.Store.ChargeHistory(ctx, c, historyLimit, window)
	if err != nil {
		return nil, err
	}
	threshold, minHistory := s.Threshold, s.MinHistory
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if minHistory <= 0 {
		minHistory = DefaultMinHistory
	}
	f := Assess(c, before, near, window, threshold, minHistory)
	out["amount_z"], out["history"], out["duplicate"] = f.AmountZ, int64(f.History), f.Duplicate
	reasons := make([]any, len(f.Reasons))
	for i, r := range f.Reasons {
		reasons[i] = r
	}
	out["reasons"], out["flagged"], out["reason"] = reasons, len(f.Reasons) > 0, strings.Join(f.Reasons, "; ")
	return out, nil
}

// Flags is what Assess found.
type Flags struct {
	AmountZ   float64
	History   int
	Duplicate bool
	Reasons   []string // one sentence per raised flag
}

// Assess compares charge c with the customer's earlier charges (before,
// newest first) and those just after it (near).
func Assess(c store.Charge, before, near []store.Charge, window time.Duration, threshold float64, minHistory int) Flags {
	var f Flags
	money := func(units int64) string {
		d, err := stdlib.FromMinor(units, c.Currency)
		if err != nil {
			return fmt.Sprintf("%d (minor units)", units)
		}
		exp, _ := stdlib.Exponent(c.Currency)
		return d.StringFixed(int32(exp)) + " " + strings.ToUpper(c.Currency)
	}
	for _, list := range [][]store.Charge{before, near} {
		for _, o := range list {
			gap := c.Created.Sub(o.Created)
			if o.Amount == c.Amount && gap < window && gap > -window && !f.Duplicate {
				f.Duplicate = true
				_, id, _ := strings.Cut(o.Event, ":")
				f.Reasons = append(f.Reasons, fmt.Sprintf("the same %s charge of this customer %s (%s)", money(c.Amount), describeGap(gap), id))
			}
		}
	}
	f.History = len(before)
	if len(before) < minHistory {
		return f
	}
	amounts := make([]float64, len(before))
	for i, o := range before {
		amounts[i] = float64(o.Amount)
	}
	med := median(amounts)
	dev := make([]float64, len(amounts))
	for i, a := range amounts {
		dev[i] = math.Abs(a - med)
	}
	mad := median(dev)
	x := float64(c.Amount)
	switch {
	case x == med:
		f.AmountZ = 0
	case mad == 0: // every earlier charge was the same amount: any other is far
		f.AmountZ = math.Copysign(99, x-med)
	default:
		f.AmountZ = math.Round(0.6745*(x-med)/mad*100) / 100
	}
	if math.Abs(f.AmountZ) > threshold {
		way := "above"
		if f.AmountZ < 0 {
			way = "below"
		}
		if mad == 0 {
			f.Reasons = append(f.Reasons, fmt.Sprintf("%s, where all %d earlier charges of this customer were %s",
				money(c.Amount), len(before), money(int64(med))))
		} else {
			f.Reasons = append(f.Reasons, fmt.Sprintf("%s is %.1f robust deviations %s this customer's median of %s over %d earlier charges",
				money(c.Amount), math.Abs(f.AmountZ), way, money(int64(math.Round(med))), len(before)))
		}
	}
	return f
}

func describeGap(gap time.Duration) string {
	switch {
	case gap > 0:
		return fmt.Sprintf("%s earlier", gap.Round(time.Second))
	case gap < 0:
		return fmt.Sprintf("%s later", (-gap).Round(time.Second))
	}
	return "at the same second"
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

// charge reads the charge a Stripe charge event carries; ok is false for
// other events and for charges without a customer.
func charge(ev *engine.Event) (store.Charge, bool) {
	if ev.Source != "stripe" || ev.Type != "charge.succeeded" {
		return store.Charge{}, false
	}
	obj := field(field(ev.Body, "data"), "object")
	customer, _ := field(obj, "customer").(string)
	currency, _ := field(obj, "currency").(string)
	amount, okA := integer(field(obj, "amount"))
	created, okC := integer(field(obj, "created"))
	if customer == "" || currency == "" || !okA || !okC {
		return store.Charge{}, false
	}
	return store.Charge{Event: ev.Source + ":" + ev.ID, Customer: customer, Currency: strings.ToLower(currency),
		Amount: amount, Created: time.Unix(created, 0)}, true
}

func field(v any, name string) any {
	switch o := v.(type) {
	case *jsonval.Object:
		x, _ := o.Get(name)
		return x
	case map[string]any:
		return o[name]
	}
	return nil
}

func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	}
	return 0, false
}
