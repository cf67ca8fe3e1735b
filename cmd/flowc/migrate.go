package main

import (
	"context"
	"fmt"
	"io"

	"github.com/flowhq/flow/runtime/store"
)

func cmdMigrate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("migrate", `Usage: flowc migrate [--store PATH|URL]

Brings the schema of flowd's store up to date: it applies, in order, the
migrations this build knows that the database lacks, each once (replicas
migrating together wait for one another). flowd does the same when it
starts; run this before a rollout so that the replicas start on a migrated
schema. The store is a SQLite file or a PostgreSQL URL
(postgres://user@host:5432/db); the password may come from $PGPASSWORD or
~/.pgpass rather than the command line.`, stderr)
	dsn := fs.String("store", "./flow.db", "the store: a SQLite file or a postgres:// URL")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	from, to, err := store.Migrate(context.Background(), *dsn)
	if err != nil {
		fmt.Fprintf(stderr, "flowc migrate: %v\n", err)
		return 1
	}
	where := store.Redact(*dsn)
	switch known := store.SchemaVersion(*dsn); {
	case to > known:
		fmt.Fprintf(stdout, "%s: schema version %d, newer than this flowc's %d (a newer flowd migrated it)\n", where, to, known)
	case from == to:
		fmt.Fprintf(stdout, "%s: schema version %d, up to date\n", where, to)
	default:
		fmt.Fprintf(stdout, "%s: schema migrated from version %d to %d\n", where, from, to)
	}
	return 0
}
