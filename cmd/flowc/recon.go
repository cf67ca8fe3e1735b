package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"

	"github.com/flowhq/flow/runtime/recon"
)

const reconUsage = `Usage: flowc recon [--store PATH | --url URL] [--payout ID] [--format text|json|csv]

Reconciles the Stripe payouts flowd received: for each payout.paid event,
the payout's amount, the balance transactions flowd read for it (their
count and the sum of their net amounts, the payout's own transaction
aside), the difference between the two with the transactions that make it
up, and what flowd posted (the event's status and its journal). Exits 0
when every payout reconciles, 1 when one does not, 2 on a usage or I/O
error. Flags name what looks wrong with the numbers behind it: a payout
that does not reconcile, fees far from the account's usual ratio.` + adminWhere

func cmdRecon(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("recon", reconUsage, stderr)
	where := addAdminFlags(fs)
	payout := fs.String("payout", "", "only this payout (po_...)")
	format := fs.String("format", "text", "text, json or csv")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 || (*format != "text" && *format != "json" && *format != "csv") {
		fmt.Fprintln(stderr, "flowc recon: see flowc recon --help")
		return 2
	}
	src, ok := where.open("recon", stderr)
	if !ok {
		return 2
	}
	defer src.close()
	rows, err := src.payouts(context.Background(), *payout)
	if err != nil {
		fmt.Fprintf(stderr, "flowc recon: %v\n", err)
		return 2
	}
	switch *format {
	case "json":
		if rows == nil {
			rows = []*recon.Row{}
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
			for _, f := range r.Flags {
				fmt.Fprintf(stdout, "    flag: %s\n", f)
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
