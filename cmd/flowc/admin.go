package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowhq/flow/runtime/store"
)

// openStore opens flowd's store for an admin command: a SQLite file, which
// must exist (an admin command never creates an empty store by mistake),
// or a PostgreSQL URL.
func openStore(path string, stderr io.Writer, cmd string) (*store.Store, bool) {
	if _, err := os.Stat(path); err != nil && !store.IsURL(path) {
		fmt.Fprintf(stderr, "flowc %s: no store at %s (flowd --store PATH; default ./flow.db)\n", cmd, path)
		return nil, false
	}
	st, err := store.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "flowc %s: %v\n", cmd, err)
		return nil, false
	}
	return st, true
}

const adminWhere = `

Admin commands read flowd's store directly (--store: a SQLite file, default
./flow.db, or a postgres:// URL), or talk to a running flowd through its
admin API (--url, or $FLOWD_URL) with the admin token ($FLOWD_ADMIN_TOKEN or
--token-file).`

func cmdDLQ(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("dlq", `Usage: flowc dlq list|show ID|replay ID|replay --all [--store PATH | --url URL] [--json]

Dead letters are events that failed permanently: a validation error from the
ERP, a lookup miss with `+"`else fail`"+`, a wait that ran out, retries that ran
out. list prints them with the flow, step and reason; show prints one with
its step trail; replay makes one (or --all) run again on the plan flowd runs
now. Writes that already happened are not repeated.`+adminWhere, stderr)
	where := addAdminFlags(fs)
	all := fs.Bool("all", false, "replay: every dead letter")
	asJSON := fs.Bool("json", false, "print JSON")
	sub, rest, src, code := adminCommand(fs, args, where, "dlq", stderr)
	if src == nil {
		return code
	}
	defer src.close()
	ctx := context.Background()
	switch {
	case sub == "list" && len(rest) == 0:
		return listEvents(ctx, src, store.Dead, *asJSON, stdout, stderr)
	case sub == "show" && len(rest) == 1:
		return showEvent(ctx, src, rest[0], *asJSON, stdout, stderr)
	case sub == "replay" && (len(rest) == 1) != *all:
		id := ""
		if !*all {
			id = rest[0]
		}
		n, err := src.replay(ctx, id)
		if err != nil {
			fmt.Fprintf(stderr, "flowc dlq replay: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%d dead letter(s) queued to run again; a running flowd picks them up within a second\n", n)
		return 0
	}
	fmt.Fprintln(stderr, "usage: flowc dlq list|show ID|replay ID|replay --all [--store PATH | --url URL]")
	return 2
}

func cmdReview(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("review", `Usage: flowc review list|show ID|approve ID|reject ID [--note TEXT] [--store PATH | --url URL] [--json]

Events a flow held for a person (review when COND because REASON): list
prints them with the reason; approve makes one run on past its review steps
on the plan flowd runs now; reject ends it, skipped, with the note.`+adminWhere, stderr)
	where := addAdminFlags(fs)
	note := fs.String("note", "", "approve, reject: why (kept with the event)")
	asJSON := fs.Bool("json", false, "print JSON")
	sub, rest, src, code := adminCommand(fs, args, where, "review", stderr)
	if src == nil {
		return code
	}
	defer src.close()
	ctx := context.Background()
	switch {
	case sub == "list" && len(rest) == 0:
		return listEvents(ctx, src, store.Review, *asJSON, stdout, stderr)
	case sub == "show" && len(rest) == 1:
		return showEvent(ctx, src, rest[0], *asJSON, stdout, stderr)
	case (sub == "approve" || sub == "reject") && len(rest) == 1:
		text := strings.TrimSpace(*note)
		if sub == "reject" && text == "" {
			fmt.Fprintln(stderr, "flowc review reject: say why with --note")
			return 2
		}
		if err := src.decide(ctx, rest[0], sub == "approve", text); err != nil {
			fmt.Fprintf(stderr, "flowc review %s: %v\n", sub, err)
			return 1
		}
		if sub == "approve" {
			fmt.Fprintf(stdout, "%s approved; a running flowd runs it within a second\n", rest[0])
		} else {
			fmt.Fprintf(stdout, "%s rejected: %s\n", rest[0], text)
		}
		return 0
	}
	fmt.Fprintln(stderr, "usage: flowc review list|show ID|approve ID|reject ID --note TEXT [--store PATH | --url URL]")
	return 2
}

func cmdAggregates(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("aggregates", `Usage: flowc aggregates list NAME [--limit N] | show NAME KEY [--store PATH | --url URL] [--json]

The entries a flow aggregate keeps (`+"`aggregate NAME by ... { ... }`"+`): list
prints the most recently updated entries with their fields; show prints one.
Decimals print exactly as stored.`+adminWhere, stderr)
	where := addAdminFlags(fs)
	limit := fs.Int("limit", 50, "list: at most this many, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	sub, rest, src, code := adminCommand(fs, args, where, "aggregates", stderr)
	if src == nil {
		return code
	}
	defer src.close()
	ctx := context.Background()
	switch {
	case sub == "list" && len(rest) == 1:
		entries, err := src.aggregateEntries(ctx, rest[0], *limit)
		if err != nil {
			fmt.Fprintf(stderr, "flowc aggregates: %v\n", err)
			return 1
		}
		if *asJSON {
			if entries == nil {
				entries = []store.AggregateEntry{}
			}
			return writeJSONOut(stdout, entries)
		}
		if len(entries) == 0 {
			fmt.Fprintf(stdout, "aggregate %s has no entries\n", rest[0])
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		for _, e := range entries {
			var v bytes.Buffer
			if json.Compact(&v, e.Value) != nil {
				v.Reset()
				v.Write(e.Value)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Key, e.Updated.Format(time.RFC3339), v.String())
		}
		tw.Flush()
		return 0
	case sub == "show" && len(rest) == 2:
		v, ok, err := src.aggregate(ctx, rest[0], rest[1])
		if err != nil {
			fmt.Fprintf(stderr, "flowc aggregates: %v\n", err)
			return 1
		}
		if !ok {
			fmt.Fprintf(stderr, "flowc aggregates: no entry %s of aggregate %s\n", rest[1], rest[0])
			return 1
		}
		return writeJSONOut(stdout, v)
	}
	fmt.Fprintln(stderr, "usage: flowc aggregates list NAME | show NAME KEY [--store PATH | --url URL]")
	return 2
}

func cmdEvents(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("events", `Usage: flowc events list [--status S] [--limit N] | show ID  [--store PATH | --url URL] [--json]

What happened to events: list prints recent events with their status
(received, running, retry, waiting, review, done, skipped, no_flow, dead);
show prints one event with every step of every attempt and the plan version
each ran on. ID is the gateway's event id (evt_...) or the store's sequence
number.`+adminWhere, stderr)
	where := addAdminFlags(fs)
	status := fs.String("status", "", "list: only events in this status")
	limit := fs.Int("limit", 50, "list: at most this many, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	sub, rest, src, code := adminCommand(fs, args, where, "events", stderr)
	if src == nil {
		return code
	}
	defer src.close()
	ctx := context.Background()
	switch {
	case sub == "list" && len(rest) == 0:
		evs, err := src.events(ctx, store.Status(*status), *limit)
		if err != nil {
			fmt.Fprintf(stderr, "flowc events: %v\n", err)
			return 1
		}
		return printEvents(evs, *asJSON, stdout)
	case sub == "show" && len(rest) == 1:
		return showEvent(ctx, src, rest[0], *asJSON, stdout, stderr)
	}
	fmt.Fprintln(stderr, "usage: flowc events list|show ID [--store PATH | --url URL]")
	return 2
}

// adminCommand parses an admin command's flags and subcommand and opens
// its source; on failure it returns a nil source and the exit code.
func adminCommand(fs *flag.FlagSet, args []string, where adminFlags, cmd string, stderr io.Writer) (sub string, rest []string, src adminSource, code int) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", nil, nil, usageExit(err)
	}
	if len(pos) > 0 {
		sub, rest = pos[0], pos[1:]
	}
	src, ok := where.open(cmd, stderr)
	if !ok {
		return "", nil, nil, 2
	}
	return sub, rest, src, 0
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func listEvents(ctx context.Context, src adminSource, status store.Status, asJSON bool, stdout, stderr io.Writer) int {
	evs, err := src.events(ctx, status, 1000)
	if err != nil {
		fmt.Fprintf(stderr, "flowc: %v\n", err)
		return 1
	}
	return printEvents(evs, asJSON, stdout)
}

func printEvents(evs []*store.Event, asJSON bool, stdout io.Writer) int {
	if asJSON {
		if evs == nil {
			evs = []*store.Event{}
		}
		return writeJSONOut(stdout, evs)
	}
	if len(evs) == 0 {
		fmt.Fprintln(stdout, "no events")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tEVENT\tTYPE\tSTATUS\tATTEMPTS\tPLAN\tWHERE\tREASON")
	for _, e := range evs {
		where := ""
		if e.Flow != "" {
			where = fmt.Sprintf("%s step %d", e.Flow, e.Step)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.Seq, e.GatewayID(), e.Type, e.Status, e.Attempts, e.PlanVersion, where, e.Error)
	}
	tw.Flush()
	return 0
}

func showEvent(ctx context.Context, src adminSource, id string, asJSON bool, stdout, stderr io.Writer) int {
	ev, trail, err := src.event(ctx, id)
	if err != nil {
		fmt.Fprintf(stderr, "flowc: %v\n", err)
		return 1
	}
	if asJSON {
		ev.Payload = nil
		return writeJSONOut(stdout, map[string]any{"event": ev, "trail": trail})
	}
	fmt.Fprintf(stdout, "event %s (seq %d)\n  type      %s\n  status    %s\n  received  %s\n  attempts  %d\n  plan      %s\n",
		ev.GatewayID(), ev.Seq, ev.Type, ev.Status, ev.Received.Format(time.RFC3339), ev.Attempts, ev.PlanVersion)
	if ev.Error != "" {
		fmt.Fprintf(stdout, "  failed    %s step %d: %s\n", ev.Flow, ev.Step, ev.Error)
	}
	if !ev.NextAt.IsZero() && ev.Status.Open() {
		fmt.Fprintf(stdout, "  next try  %s\n", ev.NextAt.Format(time.RFC3339))
	}
	if len(trail) > 0 {
		fmt.Fprintln(stdout, "trail:")
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		for _, s := range trail {
			fmt.Fprintf(tw, "  attempt %d\tplan %s\t%s\tstep %d\t%s\t%s\n", s.Attempt, s.PlanVersion, s.Flow, s.Step, s.Kind, s.Detail)
		}
		tw.Flush()
	}
	return 0
}

func writeJSONOut(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}
