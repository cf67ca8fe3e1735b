// Command flowc checks, formats and explains .flow integration flows.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `flowc checks, formats, explains and runs .flow integration flows.

Usage:
  flowc <command> [flags] [PATH...]

Commands:
  check   type-check flows and report problems (exit 0 clean, 1 findings, 2 usage or I/O error)
  fmt     format flows in the canonical layout
  plan    print the execution plan the runtime would run
  test    run the tests written next to the flows (*.flowtest)
  run     run flows over recorded events with no daemon, writing the ERP operations they would send
  replay  run two versions of the flows over the same events and diff their ERP writes
  suggest propose field mappings from a gateway object to an ERP entity, or a .flow skeleton
  events  list events in flowd's store, or show one with its step trail
  dlq     list, show and replay dead letters
  review  list the events flows held for a person, approve or reject them
  aggregates  list or show the entries of a flow aggregate
  recon   reconcile Stripe payouts: amount, balance transactions, difference, what was posted
  migrate bring the schema of flowd's store (SQLite or PostgreSQL) up to date
  lsp     run the language server for editors (LSP over standard input and output)

Run 'flowc <command> --help' for a command's flags.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is flowc with its arguments and output streams; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "fmt":
		return cmdFmt(args[1:], stdout, stderr)
	case "plan":
		return cmdPlan(args[1:], stdout, stderr)
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "replay":
		return cmdReplay(args[1:], stdout, stderr)
	case "test":
		return cmdTest(args[1:], stdout, stderr)
	case "suggest":
		return cmdSuggest(args[1:], stdout, stderr)
	case "events":
		return cmdEvents(args[1:], stdout, stderr)
	case "recon":
		return cmdRecon(args[1:], stdout, stderr)
	case "dlq":
		return cmdDLQ(args[1:], stdout, stderr)
	case "review":
		return cmdReview(args[1:], stdout, stderr)
	case "aggregates":
		return cmdAggregates(args[1:], stdout, stderr)
	case "lsp":
		return cmdLSP(args[1:], stdout, stderr)
	case "migrate":
		return cmdMigrate(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "flowc: unknown command %q\n\n%s", args[0], usage)
	return 2
}
