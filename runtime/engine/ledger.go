package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/jsonval"
	"github.com/flowhq/flow/stdlib/schema"
)

// ledger is an executable ledger: a gateway list, grouped, aggregated, and
// posted as one balanced journal.
type ledger struct {
	plan     *plan.Ledger
	args     []field
	groups   []field
	aggs     []aggregate
	key      cel.Program
	header   []field
	lines    []field
	postings []posting
	journal  *schema.Journal
	total    *schema.ListTotal // what the source list must add up to, if known
}

type aggregate struct {
	name string
	fn   string
	prog cel.Program // nil for count
}

type posting struct {
	debit   bool
	account cel.Program
	amount  cel.Program // nil: takes the balance
	at      string
}

func (p *Program) buildLedger(pl *plan.Ledger, compile func(*plan.Expr) cel.Program, fields func([]plan.Field) []field) (*ledger, error) {
	l := &ledger{plan: pl, args: fields(pl.Source.Args), key: compile(pl.Journal.Key),
		header: fields(pl.Journal.Header), lines: fields(pl.Journal.Lines)}
	for _, g := range pl.GroupBy {
		l.groups = append(l.groups, field{name: g.Name, prog: compile(g.Expr), at: g.Expr.At})
	}
	for _, a := range pl.Aggregates {
		l.aggs = append(l.aggs, aggregate{name: a.Name, fn: a.Func, prog: compile(a.Expr)})
	}
	for _, ps := range pl.Journal.Postings {
		po := posting{debit: ps.Side == "debit", account: compile(ps.Account), amount: compile(ps.Amount), at: ps.Account.At}
		l.postings = append(l.postings, po)
	}
	if c := p.conns[pl.Journal.Connector]; c != nil {
		l.journal = c.Journals[pl.Journal.Entity]
	}
	if c := p.conns[pl.Source.Connector]; c != nil && c.Lists[pl.Source.List] != nil {
		l.total = c.Lists[pl.Source.List].Total
	}
	if l.journal == nil {
		return nil, fmt.Errorf("%s has no journal posting rules for %s", pl.Journal.Connector, pl.Journal.Entity)
	}
	return l, nil
}

// group is the items sharing one value of the grouping keys.
type group struct {
	keys []ref.Val
	aggs []ref.Val

	// What the group's items net to (the list's Total.Field), in their one
	// currency; the balancing posting must carry exactly that. mixed is set
	// when the items are in more than one currency, so there is no one net.
	net      int64
	currency string
	mixed    bool
	ids      []any
}

func (r *run) ledger(ctx context.Context) error {
	l := r.f.ledger
	kv, err := r.eval(l.key, l.plan.Journal.Key.At)
	if err != nil {
		return err
	}
	key, _ := kv.Value().(string)
	if key == "" {
		return &Error{Class: Dead, Err: fmt.Errorf("%s: the journal's idempotency key is empty", l.plan.Journal.Key.At)}
	}
	defer r.env.Locks.lock("key|" + key)()
	entity := l.plan.Journal.HeaderEntity
	if entity == "" {
		entity = l.plan.Journal.Entity
	}
	if _, ok, err := r.env.Ledger.Get(ctx, key); err != nil {
		return Transient(err)
	} else if ok {
		r.res.Reused++
		if r.opts.Trace {
			r.res.Trace = append(r.res.Trace, Trace{Kind: "journal", At: l.plan.Journal.Key.At, Detail: fmt.Sprintf("journal key %q: already posted", key)})
		}
		return nil
	}
	items, err := r.items(ctx)
	if err != nil {
		return err
	}
	groups, err := r.group(items)
	if err != nil {
		return err
	}
	j := erp.Journal{Key: key, HeaderEntity: l.plan.Journal.HeaderEntity, LineEntity: l.plan.Journal.Entity, LinkField: l.journal.Link}
	if j.Header, err = r.evalFields(l.header); err != nil {
		return err
	}
	for _, g := range groups {
		for i, gf := range l.groups {
			r.vars[gf.name] = g.keys[i]
		}
		for i, a := range l.aggs {
			r.vars[a.name] = g.aggs[i]
		}
		lines, err := r.post(g)
		if err != nil {
			return err
		}
		j.Lines = append(j.Lines, lines...)
	}
	if l.journal.LineNumber != "" {
		for i, ln := range j.Lines {
			ln[l.journal.LineNumber] = int64(i + 1)
		}
	}
	if err := balanced(j.Lines, l.journal); err != nil {
		return &Error{Class: Dead, Err: err}
	}
	if len(j.Lines) == 0 { // every amount was zero: an empty journal helps no one
		if r.opts.Trace {
			r.res.Trace = append(r.res.Trace, Trace{Kind: "journal", At: l.plan.Journal.Key.At,
				Detail: fmt.Sprintf("journal key %q: nothing to post, every amount is zero", key)})
		}
		return nil
	}
	d, err := r.driver(l.plan.Journal.Connector)
	if err != nil {
		return err
	}
	// PostJournal is idempotent per key: after a crash or a lost answer,
	// posting again completes or finds what the earlier attempt wrote.
	header, lines, err := d.PostJournal(ctx, j)
	if err != nil {
		return err
	}
	r.res.Writes += 1 + len(lines)
	// The ledger keeps the lines with the header, so that what was posted
	// can be reconciled later (flowc recon).
	rec := make(erp.Record, len(header)+1)
	for k, v := range header {
		rec[k] = v
	}
	posted := make([]any, len(lines))
	for i, l := range lines {
		posted[i] = map[string]any(l)
	}
	rec[JournalLines] = posted
	return r.journaled(ctx, key, entity, rec, len(lines), "posted")
}

func (r *run) journaled(ctx context.Context, key, entity string, rec erp.Record, lines int, how string) error {
	if err := r.env.Ledger.Put(ctx, key, entity, rec); err != nil {
		return Transient(err)
	}
	if r.opts.Trace {
		r.res.Trace = append(r.res.Trace, Trace{Kind: "journal", At: r.f.ledger.plan.Journal.Key.At,
			Detail: fmt.Sprintf("journal key %q: %s, %d lines", key, how, lines), Took: time.Since(r.stepStart)})
	}
	return nil
}

// items reads the ledger's source list.
func (r *run) items(ctx context.Context) ([]map[string]any, error) {
	src := r.f.ledger.plan.Source
	lister, ok := r.env.Lists[src.Connector]
	if !ok {
		return nil, &Error{Class: Dead, Err: fmt.Errorf("no gateway client for %s.%s", src.Connector, src.List)}
	}
	args := map[string]any{}
	for _, a := range r.f.ledger.args {
		v, err := r.eval(a.prog, a.at)
		if err != nil {
			return nil, err
		}
		args[a.name] = goValue(v)
	}
	items, err := lister.List(ctx, src.List, args)
	if err != nil {
		return nil, err
	}
	if err := r.complete(items, args); err != nil {
		return nil, &Error{Class: Dead, Err: err}
	}
	return items, nil
}

// complete checks that a list of the event's object adds up to the
// object's total (a payout's transactions to the payout's amount): a list
// read short, or a payout that does not match its transactions, is caught
// before anything is posted.
func (r *run) complete(items []map[string]any, args map[string]any) error {
	t := r.f.ledger.total
	if t == nil {
		return nil
	}
	obj := eventObject(r.ev.Body)
	id, _ := obj["id"].(string)
	want, ok := asInt(obj[t.Of])
	if !ok || id == "" || args[t.Arg] != id {
		return nil // not the object's own list, or no total to check against
	}
	var sum int64
	counted := 0
	for _, it := range items {
		if s, _ := it[t.SkipField].(string); t.SkipField != "" && s == t.SkipValue {
			continue
		}
		n, ok := asInt(it[t.Field])
		if !ok {
			return fmt.Errorf("item %v of %s has no integer %s", it["id"], r.f.ledger.plan.Source.List, t.Field)
		}
		sum += n
		counted++
	}
	if sum != want {
		return fmt.Errorf("the %d items of %s(%s: %s) have %s summing to %d, but %s's %s is %d (difference %d); nothing was posted",
			counted, r.f.ledger.plan.Source.List, t.Arg, id, t.Field, sum, id, t.Of, want, sum-want)
	}
	return nil
}

// eventObject returns data.object of an event body, decoded one level.
func eventObject(body any) map[string]any {
	get := func(v any, k string) any {
		switch x := v.(type) {
		case *jsonval.Object:
			v, _ := x.Get(k)
			return v
		case map[string]any:
			return x[k]
		}
		return nil
	}
	switch o := get(get(body, "data"), "object").(type) {
	case *jsonval.Object:
		return o.Map()
	case map[string]any:
		return o
	}
	return map[string]any{}
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case int64:
		return x, true
	}
	return 0, false
}

// group evaluates the grouping keys and aggregates of every item; groups
// come out sorted by their keys, so a journal's lines have a stable order.
func (r *run) group(items []map[string]any) ([]*group, error) {
	l := r.f.ledger
	byKey := map[string]*group{}
	var order []string
	for _, it := range items {
		r.vars[l.plan.Source.Var] = it
		keys := make([]ref.Val, len(l.groups))
		var id []any
		for i, g := range l.groups {
			v, err := r.eval(g.prog, g.at)
			if err != nil {
				return nil, err
			}
			keys[i] = v
			id = append(id, v.Value())
		}
		b, _ := json.Marshal(id)
		g := byKey[string(b)]
		if g == nil {
			g = &group{keys: keys, aggs: make([]ref.Val, len(l.aggs))}
			byKey[string(b)] = g
			order = append(order, string(b))
		}
		if t := l.total; t != nil && t.Currency != "" {
			n, _ := asInt(it[t.Field])
			g.net += n
			cur, _ := it[t.Currency].(string)
			if len(g.ids) > 0 && !strings.EqualFold(cur, g.currency) {
				g.mixed = true
			}
			g.currency = cur
			g.ids = append(g.ids, it["id"])
		}
		for i, a := range l.aggs {
			var v ref.Val = types.Int(1)
			if a.prog != nil {
				var err error
				if v, err = r.eval(a.prog, l.plan.Journal.Key.At); err != nil {
					return nil, err
				}
			}
			if g.aggs[i] == nil {
				g.aggs[i] = v
				continue
			}
			sum := g.aggs[i].(traits.Adder).Add(v)
			if types.IsError(sum) {
				return nil, &Error{Class: Dead, Err: fmt.Errorf("%s: %v", a.name, sum)}
			}
			g.aggs[i] = sum
		}
	}
	delete(r.vars, l.plan.Source.Var)
	sort.Strings(order)
	out := make([]*group, len(order))
	for i, k := range order {
		out[i] = byKey[k]
	}
	return out, nil
}

// JournalLines is the field of a journal's ledger record that holds the
// lines it posted.
const JournalLines = "_lines"

// balanced checks, before anything is written, that the journal's debits
// equal its credits in every currency (lines without a CurrencyCode count
// under ""), and names the difference and the lines when they do not. A
// journal with a signed Amount field counts positive amounts as debits and
// negative ones as credits.
func balanced(lines []erp.Record, j *schema.Journal) error {
	type side struct {
		debit, credit decimal.Decimal
		lines         []int
	}
	by := map[string]*side{}
	for i, ln := range lines {
		cur, _ := ln["CurrencyCode"].(string)
		s := by[cur]
		if s == nil {
			s = &side{}
			by[cur] = s
		}
		if d, ok := ln[j.Debit].(decimal.Decimal); ok && j.Debit != "" {
			s.debit = s.debit.Add(d)
		}
		if c, ok := ln[j.Credit].(decimal.Decimal); ok && j.Credit != "" {
			s.credit = s.credit.Add(c)
		}
		if a, ok := ln[j.Amount].(decimal.Decimal); ok && j.Amount != "" {
			if a.IsNegative() {
				s.credit = s.credit.Sub(a)
			} else {
				s.debit = s.debit.Add(a)
			}
		}
		s.lines = append(s.lines, i+1)
	}
	curs := make([]string, 0, len(by))
	for c := range by {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	for _, c := range curs {
		s := by[c]
		if !s.debit.Equal(s.credit) {
			return fmt.Errorf("the journal does not balance in %q: debits %s, credits %s, difference %s (lines %v); nothing was posted",
				c, s.debit, s.credit, s.debit.Sub(s.credit), s.lines)
		}
	}
	return nil
}

// clears checks that a group's balancing posting (the clearing account)
// carries exactly what the group's items net to in the gateway's balance, so
// that over a payout the clearing lines add up to the payout's amount: a fee
// left out, or a gross posted where a net belongs, is caught before anything
// is written. cleared is the balancing posting's amount as a debit (a credit
// is negative) and currency the CurrencyCode of the group's lines. A group
// whose lines are in another currency than its items (converted to the
// accounting currency) is not checked here, since rounding a conversion line
// by line may differ from converting the net.
func (r *run) clears(g *group, cleared decimal.Decimal, currency string) error {
	if t := r.f.ledger.total; t == nil || t.Currency == "" || g.mixed || len(g.ids) == 0 {
		return nil
	}
	if currency != "" && !strings.EqualFold(currency, g.currency) {
		return nil
	}
	want, err := stdlib.FromMinor(g.net, g.currency)
	if err != nil {
		return nil // an unknown currency fails where the flow converts it
	}
	if !cleared.Equal(want) {
		exp, _ := stdlib.Exponent(g.currency)
		places := int32(max(exp, -int(cleared.Exponent())))
		return fmt.Errorf("the balancing line of group %s carries %s, but its %d item(s) net to %s %s (difference %s; items %v); nothing was posted",
			r.groupName(g), cleared.StringFixed(places), len(g.ids), want.StringFixed(places), strings.ToUpper(g.currency), cleared.Sub(want).StringFixed(places), g.ids)
	}
	return nil
}

// groupName is how an error names a group: its keys, as the flow names them.
func (r *run) groupName(g *group) string {
	parts := make([]string, len(g.keys))
	for i, k := range g.keys {
		parts[i] = fmt.Sprintf("%s=%v", r.f.ledger.groups[i].name, k.Value())
	}
	return strings.Join(parts, ", ")
}

// post evaluates the postings of one group into journal lines; the posting
// without an amount takes what balances the group.
func (r *run) post(g *group) ([]erp.Record, error) {
	l := r.f.ledger
	common, err := r.evalFields(l.lines)
	if err != nil {
		return nil, err
	}
	balance := decimal.Zero // debits minus credits
	var out []erp.Record
	var open *posting
	line := func(p *posting, amount decimal.Decimal) error {
		acc, err := r.eval(p.account, p.at)
		if err != nil {
			return err
		}
		debit := p.debit
		if amount.IsNegative() {
			debit, amount = !debit, amount.Neg()
		}
		if amount.IsZero() {
			return nil
		}
		rec := erp.Record{}
		for k, v := range common {
			rec[k] = v
		}
		rec[l.journal.Account] = goValue(acc)
		if l.journal.AccountType != "" {
			if _, set := rec[l.journal.AccountType]; !set {
				rec[l.journal.AccountType] = cmp.Or(l.journal.LedgerType, "Ledger")
			}
		}
		switch {
		case l.journal.Amount != "" && debit: // one signed amount: debits positive
			rec[l.journal.Amount] = amount
		case l.journal.Amount != "":
			rec[l.journal.Amount] = amount.Neg()
		case debit:
			rec[l.journal.Debit] = amount
		default:
			rec[l.journal.Credit] = amount
		}
		out = append(out, rec)
		return nil
	}
	for i := range l.postings {
		p := &l.postings[i]
		if p.amount == nil {
			open = p
			continue
		}
		v, err := r.eval(p.amount, p.at)
		if err != nil {
			return nil, err
		}
		amt, ok := goValue(v).(decimal.Decimal)
		if !ok {
			return nil, &Error{Class: Dead, Err: fmt.Errorf("%s: a posting amount must be a decimal, got %s", p.at, v.Type().TypeName())}
		}
		if p.debit {
			balance = balance.Add(amt)
		} else {
			balance = balance.Sub(amt)
		}
		if err := line(p, amt); err != nil {
			return nil, err
		}
	}
	if open != nil {
		cur, _ := common["CurrencyCode"].(string)
		if err := r.clears(g, balance.Neg(), cur); err != nil {
			return nil, &Error{Class: Dead, Err: err}
		}
		amt := balance.Neg() // a debit of -balance, or a credit of +balance
		if !open.debit {
			amt = balance
		}
		if err := line(open, amt); err != nil {
			return nil, err
		}
	}
	return out, nil
}
