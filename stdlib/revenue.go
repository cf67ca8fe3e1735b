package stdlib

import (
	"fmt"
	"math/big"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/schema"
)

// RevenuePeriodType is the type of the items recognize() returns.
const RevenuePeriodType = "flow.RevenuePeriod"

// RevenuePeriodObject describes one item of a recognition schedule; the
// compiler declares it with its built-in objects.
var RevenuePeriodObject = func() *schema.Object {
	o, err := schema.NewObject(RevenuePeriodType, "one period of a revenue recognition schedule (recognize())", []*schema.Field{
		{Name: "n", Type: schema.IntType, Doc: "the period's place in the schedule, from 1"},
		{Name: "period", Type: schema.StringType, Doc: `the period's name: "2024-03" (month), "2024-Q1" (quarter) or "2024" (year)`},
		{Name: "start", Type: schema.TimestampType, Doc: "the first service day in the period, as midnight UTC of that date (how date-only ERP fields are sent)"},
		{Name: "end", Type: schema.TimestampType, Doc: "the day after the last service day in the period, as midnight UTC"},
		{Name: "days", Type: schema.IntType, Doc: "the service days in the period: the weight of its share"},
		{Name: "amount", Type: schema.DecimalType, Doc: "the period's share of the amount, in the currency's minor unit; the shares sum exactly to the amount"},
	}, nil)
	if err != nil {
		panic(err) // a static declaration: a bug, caught by every test
	}
	return o
}()

// maxPeriods bounds a schedule: a century of months.
const maxPeriods = 1200

// RevenueShare is one period of a schedule (see Recognize).
type RevenueShare struct {
	N          int
	Period     string
	Start, End time.Time // midnight UTC of the dates; End exclusive
	Days       int
	Amount     decimal.Decimal
}

// Recognize splits amount over the service period from start to end (end
// exclusive, as Stripe's periods are) into calendar periods ("month",
// "quarter" or "year") of the dates in loc, in proportion to the service
// days each holds. The shares are in the currency's minor unit (ISO 4217:
// JPY 0 decimals, KWD 3) and sum exactly to amount: each period gets the
// floor of its exact share, and the minor units left over go one each to
// the periods with the largest remainders (the earlier period on a tie).
// A negative amount (a credit) is split as its absolute value, negated.
// Periods whose share is zero are left out, so every share posts. A
// service period within one day (start and end on the same date) gives
// one share of the whole amount. It is an error when end is before start,
// the amount has more decimals than the currency, the currency or period
// is unknown, or the schedule would exceed 1200 periods.
func Recognize(amount decimal.Decimal, start, end time.Time, period, currency string, loc *time.Location) ([]RevenueShare, error) {
	_, exp, err := exponents(currency)
	if err != nil {
		return nil, err
	}
	units := amount.Shift(int32(exp))
	if !units.Equal(units.Truncate(0)) {
		return nil, fmt.Errorf("%s has more decimals than %s allows (%d)", amount, currency, exp)
	}
	if end.Before(start) {
		return nil, fmt.Errorf("the service period ends (%s) before it starts (%s)", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	first, last := CalendarDate(start, loc), CalendarDate(end, loc)
	if last.Equal(first) {
		last = first.AddDate(0, 0, 1) // within one day: all of it on that day
	}
	buckets, err := periods(first, last, period)
	if err != nil {
		return nil, err
	}
	total := units.BigInt()
	neg := total.Sign() < 0
	total.Abs(total)
	shares := allocate(total, buckets)
	var out []RevenueShare
	for i, b := range buckets {
		if shares[i].Sign() == 0 {
			continue
		}
		amt := decimal.NewFromBigInt(shares[i], -int32(exp))
		if neg {
			amt = amt.Neg()
		}
		b.Amount = amt
		b.N = len(out) + 1
		out = append(out, b)
	}
	return out, nil
}

// periods cuts [first, last) into calendar periods.
func periods(first, last time.Time, period string) ([]RevenueShare, error) {
	var next func(time.Time) (time.Time, string)
	switch period {
	case "month":
		next = func(t time.Time) (time.Time, string) {
			return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC), fmt.Sprintf("%04d-%02d", t.Year(), int(t.Month()))
		}
	case "quarter":
		next = func(t time.Time) (time.Time, string) {
			q := (int(t.Month()) - 1) / 3
			return time.Date(t.Year(), time.Month(q*3+4), 1, 0, 0, 0, 0, time.UTC), fmt.Sprintf("%04d-Q%d", t.Year(), q+1)
		}
	case "year":
		next = func(t time.Time) (time.Time, string) {
			return time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC), fmt.Sprintf("%04d", t.Year())
		}
	default:
		return nil, fmt.Errorf("unknown period %q: want \"month\", \"quarter\" or \"year\"", period)
	}
	var out []RevenueShare
	for at := first; at.Before(last); {
		if len(out) == maxPeriods {
			return nil, fmt.Errorf("the service period %s to %s spans more than %d periods", first.Format(time.DateOnly), last.Format(time.DateOnly), maxPeriods)
		}
		stop, name := next(at)
		if stop.After(last) {
			stop = last
		}
		days := int(stop.Sub(at).Hours()+0.5) / 24 // UTC dates: whole days
		out = append(out, RevenueShare{Period: name, Start: at, End: stop, Days: days})
		at = stop
	}
	return out, nil
}

// allocate splits total (>= 0) over the periods by their days: largest
// remainder, earlier period first on a tie.
func allocate(total *big.Int, ps []RevenueShare) []*big.Int {
	weight := new(big.Int)
	for _, p := range ps {
		weight.Add(weight, big.NewInt(int64(p.Days)))
	}
	shares := make([]*big.Int, len(ps))
	rems := make([]*big.Int, len(ps))
	given := new(big.Int)
	for i, p := range ps {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(total, big.NewInt(int64(p.Days))), weight, new(big.Int))
		shares[i], rems[i] = q, r
		given.Add(given, q)
	}
	left := new(big.Int).Sub(total, given).Int64() // < len(ps)
	for ; left > 0; left-- {
		best := -1
		for i := range ps {
			if rems[i].Sign() > 0 && (best < 0 || rems[i].Cmp(rems[best]) > 0) {
				best = i
			}
		}
		shares[best].Add(shares[best], big.NewInt(1))
		rems[best].SetInt64(0)
	}
	return shares
}

// revenueFunctions declares recognize().
func revenueFunctions(cfg *config) []function {
	d, ts, s := DecimalType, cel.TimestampType, cel.StringType
	result := cel.ListType(cel.ObjectType(RevenuePeriodType))
	return []function{{
		name: "recognize",
		doc: "Splits an amount over a service period (start, end exclusive) into calendar periods (\"month\", \"quarter\", \"year\") of the currency's minor unit, " +
			"by service days, summing exactly to the amount: recognize(amount, start, end, \"month\", currency[, time zone]).",
		overloads: []overload{
			{id: "recognize_decimal_timestamp_timestamp_string_string", args: []*cel.Type{d, ts, ts, s, s}, result: result, impl: cel.FunctionBinding(cfg.recognize)},
			{id: "recognize_decimal_timestamp_timestamp_string_string_string", args: []*cel.Type{d, ts, ts, s, s, s}, result: result, impl: cel.FunctionBinding(cfg.recognize)},
		},
	}}
}

func (c *config) recognize(args ...ref.Val) ref.Val {
	if len(args) != 5 && len(args) != 6 {
		return types.NewErr("recognize: want 5 or 6 arguments, got %d", len(args))
	}
	amount, ok := args[0].(Decimal)
	start, ok1 := args[1].(types.Timestamp)
	end, ok2 := args[2].(types.Timestamp)
	period, ok3 := args[3].(types.String)
	currency, ok4 := args[4].(types.String)
	if !ok || !ok1 || !ok2 || !ok3 || !ok4 {
		return types.NewErr("recognize: no such overload")
	}
	loc := time.UTC
	if len(args) == 6 {
		zone, ok := args[5].(types.String)
		if !ok {
			return types.MaybeNoSuchOverloadErr(args[5])
		}
		var err error
		if loc, err = c.zones.load(string(zone)); err != nil {
			return fail("recognize", err)
		}
	}
	shares, err := Recognize(amount.Decimal, start.Time, end.Time, string(period), string(currency), loc)
	if err != nil {
		return fail("recognize", err)
	}
	out := make([]any, len(shares))
	for i, sh := range shares {
		out[i] = map[string]any{
			"n": int64(sh.N), "period": sh.Period, "start": sh.Start, "end": sh.End,
			"days": int64(sh.Days), "amount": sh.Amount,
		}
	}
	return types.DefaultTypeAdapter.NativeToValue(out)
}
