// SQLite: one flowd owns the database file. Every write goes through one
// writer goroutine that commits whatever is queued in a single transaction
// (group commit): one fsync covers many webhooks, so durability does not
// cost throughput. A call returns only once its transaction is committed.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// sqliteStore is a store in a SQLite file (pure Go, WAL,
// synchronous=FULL). It is safe for concurrent use.
type sqliteStore struct {
	db  *sql.DB // readers
	wdb *sql.DB // the one writer connection
	// Statements the hot paths run, prepared once on the writer.
	insertEvent, putEffect *sql.Stmt
	ops                    chan *op
	wg                     sync.WaitGroup
	close                  sync.Once
	mu                     sync.RWMutex // held for reading while ops are sent; Close takes it
	done                   bool
}

type op struct {
	fn   func(tx *sql.Tx) error
	done chan error
}

// maxBatch bounds the operations one transaction commits.
const maxBatch = 512

// openSQLite opens (creating if needed) the database at path and brings
// its schema up to date.
func openSQLite(path string) (*sqliteStore, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	dsn := "file:" + path + "?" + q.Encode()
	wdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	if err := migrate(wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		wdb.Close()
		return nil, err
	}
	db.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s := &sqliteStore{db: db, wdb: wdb, ops: make(chan *op, 4*maxBatch)}
	if s.insertEvent, err = wdb.Prepare(insertEventSQL); err == nil {
		s.putEffect, err = wdb.Prepare(putEffectSQL)
	}
	if err != nil {
		db.Close()
		wdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.wg.Add(1)
	go s.writer()
	return s, nil
}

// Close waits for queued writes to commit and closes the database.
func (s *sqliteStore) Close() error {
	var err error
	s.close.Do(func() {
		s.mu.Lock()
		s.done = true
		close(s.ops)
		s.mu.Unlock()
		s.wg.Wait()
		err = errors.Join(s.wdb.Close(), s.db.Close())
	})
	return err
}

// write runs fn in the next group commit and waits for it to be durable.
func (s *sqliteStore) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.done {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	// Once queued, the operation commits or fails whatever the caller's
	// context does; wait for the answer so the caller never guesses.
	return <-o.done
}

func (s *sqliteStore) writer() {
	defer s.wg.Done()
	batch := make([]*op, 0, maxBatch)
	for o := range s.ops {
		batch = append(batch[:0], o)
	fill:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction. Operations do not fail in normal
// running; when one does, the batch is rolled back and each operation runs
// in a transaction of its own, so one failure fails only its caller.
func (s *sqliteStore) commit(batch []*op) {
	if err := s.run(batch); err == nil || len(batch) == 1 {
		for _, o := range batch {
			o.done <- err
		}
		return
	}
	for _, o := range batch {
		o.done <- s.run([]*op{o})
	}
}

// run runs ops in one transaction.
func (s *sqliteStore) run(ops []*op) error {
	tx, err := s.wdb.Begin()
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	for _, o := range ops {
		if err := o.fn(tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// migrateSQLiteFile brings the schema of the SQLite file at path up to
// date (creating the file if needed).
func migrateSQLiteFile(path string) (from, to int, err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.QueryRow("PRAGMA user_version").Scan(&from); err != nil {
		return 0, 0, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(db); err != nil {
		return from, from, fmt.Errorf("migrate %s: %w", path, err)
	}
	err = db.QueryRow("PRAGMA user_version").Scan(&to)
	return from, to, err
}

func migrate(db *sql.DB) error {
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	for i := version; i < len(migrations); i++ {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// migrations are applied in order; each is applied once (PRAGMA
// user_version counts them). Never edit one that shipped: add another.
var migrations = []string{`
CREATE TABLE events (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	id           TEXT    NOT NULL UNIQUE, -- "<source>:<gateway event id>"
	source       TEXT    NOT NULL,
	type         TEXT    NOT NULL,
	received_at  INTEGER NOT NULL,        -- unix nanoseconds
	payload      BLOB    NOT NULL,
	status       TEXT    NOT NULL,        -- see Status
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      INTEGER NOT NULL DEFAULT 0,
	plan_version TEXT    NOT NULL DEFAULT '',
	flow         TEXT    NOT NULL DEFAULT '',
	step         INTEGER NOT NULL DEFAULT 0,
	error        TEXT    NOT NULL DEFAULT '',
	updated_at   INTEGER NOT NULL
);
CREATE INDEX events_open ON events (status, seq) WHERE status IN ('received', 'running', 'retry', 'waiting');
CREATE TABLE trail (
	seq          INTEGER NOT NULL REFERENCES events (seq),
	at           INTEGER NOT NULL,
	attempt      INTEGER NOT NULL,
	plan_version TEXT    NOT NULL,
	flow         TEXT    NOT NULL,
	step         INTEGER NOT NULL,
	kind         TEXT    NOT NULL,
	detail       TEXT    NOT NULL
);
CREATE INDEX trail_seq ON trail (seq);
CREATE TABLE effects (
	key        TEXT    PRIMARY KEY,       -- the flow's idempotency key
	entity     TEXT    NOT NULL,
	record     TEXT    NOT NULL,          -- JSON of the record the ERP returned
	created_at INTEGER NOT NULL
);
`, `
-- What a run read from a gateway list (a payout's balance transactions),
-- so that a replay runs ledgers on the same items.
CREATE TABLE lists (
	seq   INTEGER NOT NULL REFERENCES events (seq),
	name  TEXT    NOT NULL,
	args  TEXT    NOT NULL, -- JSON of the list's arguments
	items BLOB    NOT NULL, -- JSON array of the items
	PRIMARY KEY (seq, name, args)
);
`, `
-- An event a flow held for review runs past its review steps once a
-- person approved it.
ALTER TABLE events ADD COLUMN approved INTEGER NOT NULL DEFAULT 0;
-- The charges flows have seen, for the signals that compare a charge with
-- its customer's history.
CREATE TABLE charges (
	event    TEXT    PRIMARY KEY, -- "<source>:<gateway event id>"
	customer TEXT    NOT NULL,
	currency TEXT    NOT NULL,
	amount   INTEGER NOT NULL,    -- minor units
	created  INTEGER NOT NULL     -- unix nanoseconds, the gateway's time
);
CREATE INDEX charges_customer ON charges (customer, currency, created);
`, `
-- Named positions kept durably (see Cursors): how far a gateway poller
-- read, the last tick a schedule fired.
CREATE TABLE cursors (
	name       TEXT    PRIMARY KEY, -- "paytrace:export", "schedule:<flow>"
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL     -- unix nanoseconds
);
`, `
-- The entries of the flows' aggregates (see Aggregates): per aggregate
-- and key, a JSON object of typed fields, decimals as strings. An update
-- commits with its idempotency key in effects.
CREATE TABLE aggregates (
	name       TEXT    NOT NULL,    -- the aggregate, "customer_stats"
	key        TEXT    NOT NULL,    -- the entry, "cus_123"
	value      TEXT    NOT NULL,    -- JSON object of the entry's fields
	updated_at INTEGER NOT NULL,    -- unix nanoseconds
	PRIMARY KEY (name, key)
);
CREATE INDEX aggregates_updated ON aggregates (name, updated_at);
`}
