package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Aggregates keeps the entries of the flows' aggregates (`aggregate
// customer_stats by string { ... }`): per aggregate name and key, a JSON
// object of the entry's fields, with decimals as strings so they stay exact.
//
// An update happens once per idempotency key: UpdateAggregate checks the
// key in the ledger (the effects table), computes the entry's next value,
// stores it and records the key, all in one transaction. A retried or
// replayed event finds its key and changes nothing; a crash before the
// commit leaves neither the update nor the key, so the next attempt
// applies it once.
type Aggregates interface {
	// Aggregate returns the stored value of an entry; ok is false when no
	// update has touched it.
	Aggregate(ctx context.Context, name, key string) (value []byte, ok bool, err error)
	// UpdateAggregate applies fn to the entry once per effect key: fn gets
	// the current value (nil when there is none) and returns the next. When
	// effect is already in the ledger it returns the stored value with
	// applied false and does not call fn. fn may be called more than once
	// for one update (a rolled-back group commit runs again): it must only
	// compute. An error from fn is returned as is, and nothing is stored.
	UpdateAggregate(ctx context.Context, name, key, effect string, fn func(cur []byte) ([]byte, error)) (value []byte, applied bool, err error)
	// AggregateEntries lists up to limit entries of an aggregate, the most
	// recently updated first.
	AggregateEntries(ctx context.Context, name string, limit int) ([]AggregateEntry, error)
	// ChangedEntries lists the entries of an aggregate an update changed
	// at or after since, the oldest change first.
	ChangedEntries(ctx context.Context, name string, since time.Time) ([]AggregateEntry, error)
}

// AggregateEntry is one entry of an aggregate as stored.
type AggregateEntry struct {
	Key     string          `json:"key"`
	Value   json.RawMessage `json:"value"`
	Updated time.Time       `json:"updated"`
}

// AggregateEntries lists an aggregate's entries (see Aggregates).
func (s *Store) AggregateEntries(ctx context.Context, name string, limit int) ([]AggregateEntry, error) {
	a, ok := s.Backend.(Aggregates)
	if !ok {
		return nil, fmt.Errorf("store: %T keeps no aggregates", s.Backend)
	}
	if limit <= 0 {
		limit = 100
	}
	return a.AggregateEntries(ctx, name, limit)
}

func (s *sqliteStore) AggregateEntries(ctx context.Context, name string, limit int) ([]AggregateEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value, updated_at FROM aggregates WHERE name = ? ORDER BY updated_at DESC, key LIMIT ?`, name, limit)
	if err != nil {
		return nil, err
	}
	return scanEntries(rows)
}

func (p *pgStore) AggregateEntries(ctx context.Context, name string, limit int) ([]AggregateEntry, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT key, value, updated_at FROM aggregates WHERE name = $1 AND value <> '' ORDER BY updated_at DESC, key LIMIT $2`, text(name), limit)
	if err != nil {
		return nil, err
	}
	return scanEntries(pgRows{rows})
}

// AggregateChanges calls each, in order, with the entries of an aggregate
// an update changed at or after since, oldest change first: the list a
// flow's `for c in agg.changed(since: t)` iterates. The entries are read
// before each is called, so each may write to the store.
func (s *Store) AggregateChanges(ctx context.Context, name string, since time.Time, each func(key string, value []byte, updated time.Time) error) error {
	a, ok := s.Backend.(Aggregates)
	if !ok {
		return fmt.Errorf("store: %T keeps no aggregates", s.Backend)
	}
	entries, err := a.ChangedEntries(ctx, name, since)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := each(e.Key, e.Value, e.Updated); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqliteStore) ChangedEntries(ctx context.Context, name string, since time.Time) ([]AggregateEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value, updated_at FROM aggregates WHERE name = ? AND updated_at >= ? ORDER BY updated_at, key`, name, nanos(since))
	if err != nil {
		return nil, err
	}
	return scanEntries(rows)
}

func (p *pgStore) ChangedEntries(ctx context.Context, name string, since time.Time) ([]AggregateEntry, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT key, value, updated_at FROM aggregates WHERE name = $1 AND updated_at >= $2 AND value <> '' ORDER BY updated_at, key`, text(name), nanos(since))
	if err != nil {
		return nil, err
	}
	return scanEntries(pgRows{rows})
}

// entryRows are the rows of an entries query, from database/sql or pgx.
type entryRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// pgRows gives pgx's rows database/sql's Close.
type pgRows struct{ pgx.Rows }

func (r pgRows) Close() error { r.Rows.Close(); return nil }

// scanEntries reads rows of (key, value, updated_at) and closes them.
func scanEntries(rows entryRows) ([]AggregateEntry, error) {
	defer rows.Close()
	var out []AggregateEntry
	for rows.Next() {
		var e AggregateEntry
		var v string
		var at int64
		if err := rows.Scan(&e.Key, &v, &at); err != nil {
			return nil, err
		}
		e.Value, e.Updated = json.RawMessage(v), fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Aggregate returns the stored value of an entry (see Aggregates).
func (s *Store) Aggregate(ctx context.Context, name, key string) ([]byte, bool, error) {
	a, ok := s.Backend.(Aggregates)
	if !ok {
		return nil, false, fmt.Errorf("store: %T keeps no aggregates", s.Backend)
	}
	return a.Aggregate(ctx, name, key)
}

// UpdateAggregate applies an update to an entry once per effect key (see
// Aggregates).
func (s *Store) UpdateAggregate(ctx context.Context, name, key, effect string, fn func(cur []byte) ([]byte, error)) ([]byte, bool, error) {
	a, ok := s.Backend.(Aggregates)
	if !ok {
		return nil, false, fmt.Errorf("store: %T keeps no aggregates", s.Backend)
	}
	return a.UpdateAggregate(ctx, name, key, effect, fn)
}

// aggregateEffect is what the ledger records for an aggregate update: which
// entry the key counted in.
func aggregateEffect(name, key string) (entity, record string) {
	b, _ := json.Marshal(map[string]string{"aggregate": name, "key": key})
	return "aggregate:" + name, string(b)
}

func (s *sqliteStore) Aggregate(ctx context.Context, name, key string) ([]byte, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM aggregates WHERE name = ? AND key = ?`, name, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return []byte(v), true, nil
}

func (s *sqliteStore) UpdateAggregate(ctx context.Context, name, key, effect string, fn func(cur []byte) ([]byte, error)) ([]byte, bool, error) {
	var value []byte
	var applied bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		value, applied = nil, false // a batch that failed runs again
		var cur []byte
		var v string
		switch err := tx.QueryRow(`SELECT value FROM aggregates WHERE name = ? AND key = ?`, name, key).Scan(&v); {
		case err == nil:
			cur = []byte(v)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var done int
		if err := tx.QueryRow(`SELECT count(*) FROM effects WHERE key = ?`, effect).Scan(&done); err != nil {
			return err
		}
		if done > 0 {
			value = cur
			return nil
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		now := nanos(time.Now())
		if _, err := tx.Exec(`INSERT INTO aggregates (name, key, value, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, name, key, string(next), now); err != nil {
			return err
		}
		entity, rec := aggregateEffect(name, key)
		if _, err := tx.Stmt(s.putEffect).Exec(effect, entity, rec, now); err != nil {
			return err
		}
		value, applied = next, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return value, applied, nil
}

func (p *pgStore) Aggregate(ctx context.Context, name, key string) ([]byte, bool, error) {
	if err := p.check(); err != nil {
		return nil, false, err
	}
	var v string
	err := p.pool.QueryRow(ctx, `SELECT value FROM aggregates WHERE name = $1 AND key = $2`, text(name), text(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return []byte(v), v != "", nil
}

func (p *pgStore) UpdateAggregate(ctx context.Context, name, key, effect string, fn func(cur []byte) ([]byte, error)) ([]byte, bool, error) {
	if err := p.check(); err != nil {
		return nil, false, err
	}
	name, key, effect = text(name), text(key), text(effect)
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback(ctx)
	now := nanos(time.Now())
	// The effect's row first: of two replicas running the same event, the
	// second waits here for the first to commit, then finds the key.
	entity, rec := aggregateEffect(name, key)
	tag, err := tx.Exec(ctx, `INSERT INTO effects (key, entity, record, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`, effect, entity, rec, now)
	if err != nil {
		return nil, false, err
	}
	if tag.RowsAffected() == 0 { // counted already: the entry as it is
		var v string
		err := tx.QueryRow(ctx, `SELECT value FROM aggregates WHERE name = $1 AND key = $2`, name, key).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && v == "" {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return []byte(v), false, nil
	}
	// Then the entry, locked: updates of one entry by other events apply
	// one after the other, each on the value the one before committed.
	if _, err := tx.Exec(ctx, `INSERT INTO aggregates (name, key, value, updated_at) VALUES ($1, $2, '', $3) ON CONFLICT (name, key) DO NOTHING`, name, key, now); err != nil {
		return nil, false, err
	}
	var cur string
	if err := tx.QueryRow(ctx, `SELECT value FROM aggregates WHERE name = $1 AND key = $2 FOR UPDATE`, name, key).Scan(&cur); err != nil {
		return nil, false, err
	}
	var curB []byte
	if cur != "" {
		curB = []byte(cur)
	}
	next, err := fn(curB)
	if err != nil {
		return nil, false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE aggregates SET value = $3, updated_at = $4 WHERE name = $1 AND key = $2`, name, key, string(next), now); err != nil {
		return nil, false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, false, err
	}
	return next, true, nil
}
