package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/flowhq/flow/runtime/store"
)

// openStore opens flowd's store for an admin command. It must exist: an
// admin command never creates an empty store by mistake.
func openStore(path string, stderr io.Writer, cmd string) (*store.Store, bool) {
	if _, err := os.Stat(path); err != nil {
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

func cmdDLQ(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("dlq", `Usage: flowc dlq list|show ID|replay ID|replay --all [--store PATH] [--json]

Dead letters are events that failed permanently: a validation error from the
ERP, a lookup miss with `+"`else fail`"+`, a wait that ran out, retries that ran
out. list prints them with the flow, step and reason; show prints one with
its step trail; replay makes one (or --all) run again on the plan flowd runs
now. Writes that already happened are not repeated.`, stderr)
	path := fs.String("store", "./flow.db", "flowd's store")
	all := fs.Bool("all", false, "replay: every dead letter")
	asJSON := fs.Bool("json", false, "print JSON")
	sub, rest, st, code := adminCommand(fs, args, path, "dlq", stderr)
	if st == nil {
		return code
	}
	defer st.Close()
	ctx := context.Background()
	switch {
	case sub == "list" && len(rest) == 0:
		return listEvents(ctx, st, store.Dead, *asJSON, stdout, stderr)
	case sub == "show" && len(rest) == 1:
		return showEvent(ctx, st, rest[0], *asJSON, stdout, stderr)
	case sub == "replay" && (len(rest) == 1) != *all:
		var seq int64
		if !*all {
			ev, err := st.Event(ctx, rest[0])
			if err != nil {
				fmt.Fprintf(stderr, "flowc dlq replay: %v\n", err)
				return 1
			}
			if ev.Status != store.Dead {
				fmt.Fprintf(stderr, "flowc dlq replay: event %s is %s, not a dead letter\n", rest[0], ev.Status)
				return 1
			}
			seq = ev.Seq
		}
		seqs, err := st.Requeue(ctx, seq, time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "flowc dlq replay: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%d dead letter(s) queued to run again; a running flowd picks them up within a second\n", len(seqs))
		return 0
	}
	fmt.Fprintln(stderr, "usage: flowc dlq list|show ID|replay ID|replay --all [--store PATH]")
	return 2
}

func cmdEvents(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("events", `Usage: flowc events list [--status S] [--limit N] | show ID  [--store PATH] [--json]

What happened to events: list prints recent events with their status
(received, running, retry, waiting, done, skipped, no_flow, dead); show
prints one event with every step of every attempt and the plan version each
ran on. ID is the gateway's event id (evt_...) or the store's sequence number.`, stderr)
	path := fs.String("store", "./flow.db", "flowd's store")
	status := fs.String("status", "", "list: only events in this status")
	limit := fs.Int("limit", 50, "list: at most this many, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	sub, rest, st, code := adminCommand(fs, args, path, "events", stderr)
	if st == nil {
		return code
	}
	defer st.Close()
	ctx := context.Background()
	switch {
	case sub == "list" && len(rest) == 0:
		evs, err := st.Events(ctx, store.Filter{Status: store.Status(*status), Limit: *limit})
		if err != nil {
			fmt.Fprintf(stderr, "flowc events: %v\n", err)
			return 1
		}
		return printEvents(evs, *asJSON, stdout)
	case sub == "show" && len(rest) == 1:
		return showEvent(ctx, st, rest[0], *asJSON, stdout, stderr)
	}
	fmt.Fprintln(stderr, "usage: flowc events list|show ID [--store PATH]")
	return 2
}

// adminCommand parses an admin command's flags and subcommand and opens
// the store; on failure it returns a nil store and the exit code.
func adminCommand(fs *flag.FlagSet, args []string, path *string, cmd string, stderr io.Writer) (sub string, rest []string, st *store.Store, code int) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", nil, nil, usageExit(err)
	}
	if len(pos) > 0 {
		sub, rest = pos[0], pos[1:]
	}
	st, ok := openStore(*path, stderr, cmd)
	if !ok {
		return "", nil, nil, 2
	}
	return sub, rest, st, 0
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

func listEvents(ctx context.Context, st *store.Store, status store.Status, asJSON bool, stdout, stderr io.Writer) int {
	evs, err := st.Events(ctx, store.Filter{Status: status, Limit: 1000})
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

func showEvent(ctx context.Context, st *store.Store, id string, asJSON bool, stdout, stderr io.Writer) int {
	ev, err := st.Event(ctx, id)
	if err != nil {
		fmt.Fprintf(stderr, "flowc: %v\n", err)
		return 1
	}
	trail, err := st.Trail(ctx, ev.Seq)
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
