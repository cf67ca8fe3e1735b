package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// pgMigrations are the PostgreSQL schema's migrations, applied in order,
// each once (flow_migrations records them), in one transaction. Never edit one that shipped: add another. A migration must
// leave the schema usable by the flowd of the version before it, since
// replicas of both run side by side while a rollout is under way.
var pgMigrations = []string{`
CREATE TABLE events (
	seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id           TEXT    NOT NULL UNIQUE,  -- "<source>:<gateway event id>"
	source       TEXT    NOT NULL,
	type         TEXT    NOT NULL,
	received_at  BIGINT  NOT NULL,         -- unix nanoseconds
	payload      BYTEA   NOT NULL,
	status       TEXT    NOT NULL,         -- see Status
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      BIGINT  NOT NULL DEFAULT 0,
	plan_version TEXT    NOT NULL DEFAULT '', -- the plan the latest attempt ran on
	flow         TEXT    NOT NULL DEFAULT '',
	step         INTEGER NOT NULL DEFAULT 0,
	error        TEXT    NOT NULL DEFAULT '',
	updated_at   BIGINT  NOT NULL,
	approved     BOOLEAN NOT NULL DEFAULT false,
	-- The ordering key, computed by the first replica that claims the
	-- event; NULL until then.
	order_key    TEXT,
	-- The replica running the event and until when; a lease in the past
	-- is free.
	lease_owner  TEXT        NOT NULL DEFAULT '',
	lease_until  TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
CREATE INDEX events_open ON events (seq) WHERE status IN ('received', 'running', 'retry', 'waiting');
CREATE INDEX events_open_key ON events (order_key, seq) WHERE status IN ('received', 'running', 'retry', 'waiting');
CREATE INDEX events_unkeyed ON events (seq) WHERE order_key IS NULL AND status IN ('received', 'running', 'retry', 'waiting');
CREATE INDEX events_status ON events (status, seq);
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_updated ON events (updated_at);

CREATE TABLE trail (
	id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	seq          BIGINT  NOT NULL REFERENCES events (seq),
	at           BIGINT  NOT NULL,
	attempt      INTEGER NOT NULL,
	plan_version TEXT    NOT NULL,
	flow         TEXT    NOT NULL,
	step         INTEGER NOT NULL,
	kind         TEXT    NOT NULL,
	detail       TEXT    NOT NULL
);
CREATE INDEX trail_seq ON trail (seq, id);

-- The idempotency ledger: the primary key makes one record per key,
-- whichever replica writes first.
CREATE TABLE effects (
	key        TEXT   PRIMARY KEY,
	entity     TEXT   NOT NULL,
	record     TEXT   NOT NULL,               -- JSON of the record the ERP returned
	created_at BIGINT NOT NULL
);

-- What a run read from a gateway list, so that a replay runs ledgers on
-- the same items.
CREATE TABLE lists (
	seq   BIGINT NOT NULL REFERENCES events (seq),
	name  TEXT   NOT NULL,
	args  TEXT   NOT NULL,                    -- JSON of the list's arguments
	items BYTEA  NOT NULL,                    -- JSON array of the items
	PRIMARY KEY (seq, name, args)
);

-- The charges flows have seen, for the signals that compare a charge with
-- its customer's history.
CREATE TABLE charges (
	event    TEXT   PRIMARY KEY,
	customer TEXT   NOT NULL,
	currency TEXT   NOT NULL,
	amount   BIGINT NOT NULL,                 -- minor units
	created  BIGINT NOT NULL                  -- unix nanoseconds, the gateway's time
);
CREATE INDEX charges_customer ON charges (customer, currency, created);
`, `
-- Named positions kept durably (see Cursors): how far a gateway poller
-- read, the last tick a schedule fired. Older replicas never read it.
CREATE TABLE cursors (
	name       TEXT   PRIMARY KEY,            -- "paytrace:export", "schedule:<flow>"
	value      TEXT   NOT NULL,
	updated_at BIGINT NOT NULL                -- unix nanoseconds
);
`, `
-- The entries of the flows' aggregates (see Aggregates): per aggregate
-- and key, a JSON object of typed fields, decimals as strings. An update
-- commits with its idempotency key in effects. Older replicas never read
-- it.
CREATE TABLE aggregates (
	name       TEXT   NOT NULL,               -- the aggregate, "customer_stats"
	key        TEXT   NOT NULL,               -- the entry, "cus_123"
	value      TEXT   NOT NULL,               -- JSON object of the entry's fields
	updated_at BIGINT NOT NULL,               -- unix nanoseconds
	PRIMARY KEY (name, key)
);
CREATE INDEX aggregates_updated ON aggregates (name, updated_at);
`}

// pgMigrate applies the migrations the database lacks, under a lock so
// that replicas starting together apply each once. It returns the
// schema's version before and after.
func pgMigrate(ctx context.Context, conn interface {
	Begin(context.Context) (pgx.Tx, error)
}) (from, to int, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(ctx)
	// A transaction-scoped advisory lock per schema: the second replica
	// waits, then finds the migrations applied.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.flow_migrations'))`); err != nil {
		return 0, 0, fmt.Errorf("migrations lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS flow_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return 0, 0, fmt.Errorf("migrations table: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM flow_migrations`).Scan(&from); err != nil {
		return 0, 0, err
	}
	for i := from; i < len(pgMigrations); i++ {
		if _, err := tx.Exec(ctx, pgMigrations[i]); err != nil {
			return from, from, fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO flow_migrations (version) VALUES ($1)`, i+1); err != nil {
			return from, from, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return from, from, err
	}
	return from, max(from, len(pgMigrations)), nil
}
