// Package store is flowd's durable state: the inbox of acknowledged events,
// their attempts and step trail (with the plan version each attempt ran
// on), the idempotency ledger (key -> ERP record), the dead letters, the
// gateway lists runs read, the events held for review and the charges
// flows saw.
//
// Two databases can hold it, behind one interface (Backend):
//
//   - SQLite, a file path: one flowd owns it (pure Go, WAL,
//     synchronous=FULL, group commit through one writer goroutine).
//   - PostgreSQL, a postgres:// URL: several flowd replicas share it. They
//     divide the events with row leases (Leases): a replica claims the
//     events it runs, the oldest open event of an ordering key only, so
//     one key runs on one replica at a time, oldest first; a replica that
//     dies leaves leases that run out, and the others take its events
//     over. Uniqueness (an event id, an idempotency key) is the database's
//     unique keys.
//
// Every call that writes returns only once its transaction is committed.
// Migrations are versioned and applied when a store is opened.
package store

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
)

// Backend is what a database holding the store does. Both
// implementations pass the same test suite.
type Backend interface {
	// Accept stores an acknowledged event once: it returns true when the
	// event was already stored (a redelivery), and only once the row is
	// durable.
	Accept(ctx context.Context, source, gatewayID, typ string, payload []byte, received time.Time) (dup bool, err error)
	// OpenEvents returns up to limit events with work left and seq >
	// after, oldest first, without their payloads.
	OpenEvents(ctx context.Context, after int64, limit int) ([]*Event, error)
	// EachPayload calls fn with the payload of each event received since
	// from (all when from is zero), in the order they arrived.
	EachPayload(ctx context.Context, from time.Time, fn func(seq int64, payload []byte) error) error
	// PutList records the items a run of event seq read from a gateway
	// list (the latest read wins); List and Lists read them back.
	PutList(ctx context.Context, seq int64, name, args string, items []byte) error
	List(ctx context.Context, seq int64, name, args string) ([]byte, bool, error)
	Lists(ctx context.Context, seq int64) (map[string][]byte, error)
	// Payload returns an event's raw payload.
	Payload(ctx context.Context, seq int64) ([]byte, error)
	// Event returns the event with the given seq, or id ("evt_..." or
	// "<source>:evt_...").
	Event(ctx context.Context, ref string) (*Event, error)
	// Events lists events, newest first.
	Events(ctx context.Context, f Filter) ([]*Event, error)
	// Counts returns how many events are in each status.
	Counts(ctx context.Context) (map[Status]int, error)
	// Start records that an attempt of the event begins on the plan
	// version and returns the attempt's number; durable before any ERP
	// request of the attempt is sent.
	Start(ctx context.Context, seq int64, planVersion string, now time.Time) (attempt int, err error)
	// Finish records the end of an attempt and its trail, in one
	// transaction.
	Finish(ctx context.Context, seq int64, attempt int, planVersion string, o Outcome, now time.Time) error
	// Trail returns what happened to an event, attempt by attempt.
	Trail(ctx context.Context, seq int64) ([]Step, error)
	// Requeue makes dead letters run again: one by seq, or all when seq
	// is 0. It returns the seqs requeued.
	Requeue(ctx context.Context, seq int64, now time.Time) ([]int64, error)
	// Decide ends an event's review (ErrNotFound when it is not in
	// review).
	Decide(ctx context.Context, seq int64, approve bool, note string, now time.Time) error
	// Get and Put are the idempotency ledger: Put records that key
	// produced rec, durably; a second Put of the key keeps the first.
	Get(ctx context.Context, key string) (erp.Record, bool, error)
	Put(ctx context.Context, key, entity string, rec erp.Record) error
	// Effects counts the ledger's keys.
	Effects(ctx context.Context) (int, error)
	// Activity counts events in intervals of step from since to now.
	Activity(ctx context.Context, since, now time.Time, step time.Duration) ([]Bucket, error)
	// ChargeHistory records c (once per event) and returns its
	// customer's charges before it and within window after it.
	ChargeHistory(ctx context.Context, c Charge, limit int, window time.Duration) (before, near []Charge, err error)
	// Close waits for queued writes and closes the database; later calls
	// fail with ErrClosed.
	Close() error
}

// Leases is how flowd replicas sharing a store divide its events. A
// replica claims due events with a lease, extends the leases of the events
// it is running, and releases them when their attempt ends (Finish
// releases too). An expired lease is free: another replica's claim takes
// the event over, and its next attempt settles the writes the dead one
// may have made. Start and Finish refuse (ErrLeaseLost) an event another
// replica holds.
type Leases interface {
	// Owner names this replica in the leases it takes.
	Owner() string
	// Claim leases up to limit due open events, with their payloads,
	// oldest first: of each ordering key only the oldest open event, and
	// only when no other replica holds it. orderKey gives the ordering
	// key of an event the store has not keyed yet (it sees the event's
	// seq, id, source, type, received time and payload); it never returns
	// "" (an event of its own says "event:SEQ").
	Claim(ctx context.Context, limit int, lease time.Duration, orderKey func(*Event) string) ([]*Event, error)
	// Extend renews the leases this replica holds on seqs and returns
	// those of seqs another replica holds now: their runs here must stop.
	Extend(ctx context.Context, seqs []int64, lease time.Duration) (lost []int64, err error)
	// Release gives up this replica's lease on seq (a no-op when it holds
	// none); an event still open runs no sooner than notBefore.
	Release(ctx context.Context, seq int64, notBefore time.Time) error
}

// Store is an open store. It is safe for concurrent use.
type Store struct {
	Backend
}

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("store: closed")

// ErrLeaseLost is returned by Start and Finish for an event another
// replica holds the lease of.
var ErrLeaseLost = errors.New("store: another replica holds the event's lease")

// Open opens the store at dsn, creating it if needed, and brings its
// schema up to date: a postgres:// (or postgresql://) URL is a PostgreSQL
// database that replicas may share; anything else is a SQLite file path.
func Open(dsn string) (*Store, error) {
	if IsURL(dsn) {
		b, err := openPostgres(context.Background(), dsn)
		if err != nil {
			return nil, err
		}
		return &Store{Backend: b}, nil
	}
	b, err := openSQLite(dsn)
	if err != nil {
		return nil, err
	}
	return &Store{Backend: b}, nil
}

// IsURL reports whether dsn names a PostgreSQL database rather than a
// SQLite file.
func IsURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Redact returns dsn fit for logs: a URL's password is masked.
func Redact(dsn string) string {
	if !IsURL(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// Leases returns the store's leases when replicas may share it
// (PostgreSQL), or nil when one process owns it (SQLite).
func (s *Store) Leases() Leases {
	l, _ := s.Backend.(Leases)
	return l
}

// Migrate brings the schema of the store at dsn up to date and reports
// its version before and after.
func Migrate(ctx context.Context, dsn string) (from, to int, err error) {
	if IsURL(dsn) {
		return migratePostgres(ctx, dsn)
	}
	return migrateSQLiteFile(dsn)
}

// SchemaVersion is the number of migrations this build knows, for dsn's
// kind of database.
func SchemaVersion(dsn string) int {
	if IsURL(dsn) {
		return len(pgMigrations)
	}
	return len(migrations)
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
