package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/jsonval"
)

const reconUsage = `Usage: flowc recon [--store PATH] [--payout ID] [--format text|json|csv]

Reconciles the Stripe payouts flowd received: for each payout.paid event,
the payout's amount, the balance transactions flowd read for it (their
count and the sum of their net amounts, the payout's own transaction
aside), the difference between the two with the transactions that make it
up, and what flowd posted (the event's status and its journal). Exits 0
when every payout reconciles, 1 when one does not, 2 on a usage or I/O
error.`

// reconRow is one payout's reconciliation.
type reconRow struct {
	Payout       string        `json:"payout"`
	Event        string        `json:"event"`
	Currency     string        `json:"currency"`
	Amount       string        `json:"amount"`
	Transactions int           `json:"transactions"`
	Sum          string        `json:"sum"`        // net of the transactions, the payout's own aside
	Difference   string        `json:"difference"` // sum - amount
	Posted       string        `json:"posted"`     // the event's status and journal
	Journal      *postedTotals `json:"journal,omitempty"`
	Reconciles   bool          `json:"reconciles"`
	Items        []reconItem   `json:"items,omitempty"` // when it does not reconcile
	Problems     []string      `json:"problems,omitempty"`
	sumByCur     map[string]decimal.Decimal
}

// postedTotals is what the journal posted, from the ledger flowd keeps.
type postedTotals struct {
	Key     string `json:"key"`
	Lines   int    `json:"lines"`
	Debits  string `json:"debits"`
	Credits string `json:"credits"`
}

type reconItem struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Currency string `json:"currency"`
	Net      string `json:"net"`
}

func cmdRecon(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("recon", reconUsage, stderr)
	path := fs.String("store", "./flow.db", "flowd's store")
	payout := fs.String("payout", "", "only this payout (po_...)")
	format := fs.String("format", "text", "text, json or csv")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 || (*format != "text" && *format != "json" && *format != "csv") {
		fmt.Fprintln(stderr, "flowc recon: see flowc recon --help")
		return 2
	}
	st, ok := openStore(*path, stderr, "recon")
	if !ok {
		return 2
	}
	defer st.Close()
	rows, err := reconcile(context.Background(), st, *payout)
	if err != nil {
		fmt.Fprintf(stderr, "flowc recon: %v\n", err)
		return 2
	}
	switch *format {
	case "json":
		if rows == nil {
			rows = []*reconRow{}
		}
		writeJSONOut(stdout, rows)
	case "csv":
		w := csv.NewWriter(stdout)
		w.Write([]string{"payout", "event", "currency", "amount", "transactions", "sum", "difference", "posted", "reconciles"})
		for _, r := range rows {
			w.Write([]string{r.Payout, r.Event, r.Currency, r.Amount, fmt.Sprint(r.Transactions), r.Sum, r.Difference, r.Posted, fmt.Sprint(r.Reconciles)})
		}
		w.Flush()
	default:
		for _, r := range rows {
			mark := "ok"
			if !r.Reconciles {
				mark = "DIFFERS"
			}
			fmt.Fprintf(stdout, "%s %s: payout %s %s, %d transactions sum %s, difference %s; %s\n",
				mark, r.Payout, r.Amount, r.Currency, r.Transactions, r.Sum, r.Difference, r.Posted)
			if j := r.Journal; j != nil {
				fmt.Fprintf(stdout, "    journal %s: %d lines, debits %s, credits %s\n", j.Key, j.Lines, j.Debits, j.Credits)
			}
			for _, p := range r.Problems {
				fmt.Fprintf(stdout, "    %s\n", p)
			}
			for _, it := range r.Items {
				fmt.Fprintf(stdout, "    %s %-12s %s %s\n", it.ID, it.Type, it.Net, it.Currency)
			}
		}
		if len(rows) == 0 {
			fmt.Fprintln(stdout, "no payouts")
		}
	}
	for _, r := range rows {
		if !r.Reconciles {
			return 1
		}
	}
	return 0
}

func reconcile(ctx context.Context, st *store.Store, only string) ([]*reconRow, error) {
	evs, err := st.Events(ctx, store.Filter{Type: "payout.paid", Limit: 1 << 30})
	if err != nil {
		return nil, err
	}
	var rows []*reconRow
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		ev := evs[i]
		payload, err := st.Payload(ctx, ev.Seq)
		if err != nil {
			return nil, err
		}
		r, err := reconcileOne(ctx, st, ev, payload)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.GatewayID(), err)
		}
		if only == "" || r.Payout == only {
			rows = append(rows, r)
		}
	}
	return rows, nil
}

func reconcileOne(ctx context.Context, st *store.Store, ev *store.Event, payload []byte) (*reconRow, error) {
	body, err := jsonval.Parse(payload)
	if err != nil {
		return nil, err
	}
	data, _ := body.Get("data")
	obj, _ := data.(*jsonval.Object).Get("object")
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
	r := &reconRow{Payout: str(po, "id"), Event: ev.GatewayID(), Currency: strings.ToUpper(str(po, "currency")), sumByCur: map[string]decimal.Decimal{}}
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
		item := reconItem{ID: id, Type: typ, Currency: strings.ToUpper(cur), Net: net.StringFixed(int32(exponentOf(cur)))}
		r.Items = append(r.Items, item)
		if typ == "payout" {
			if !net.Neg().Equal(amount) {
				r.Problems = append(r.Problems, fmt.Sprintf("the payout's own transaction %s moves %s, not %s", id, net.Neg(), amount))
			}
			continue
		}
		r.Transactions++
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
func journalTotals(ctx context.Context, st *store.Store, key string) (*postedTotals, error) {
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
	return &postedTotals{Key: key, Lines: len(lines), Debits: debit.String(), Credits: credit.String()}, nil
}

func exponentOf(currency string) int {
	if e, ok := stdlib.Exponent(strings.ToLower(currency)); ok {
		return e
	}
	return 2
}
