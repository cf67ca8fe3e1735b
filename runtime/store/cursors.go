package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cursors are small named positions kept durably: how far a gateway poller
// has read (PayTrace's export), the last tick a schedule fired. A value is
// the caller's own text (a date, an RFC 3339 time); the latest Put wins.
//
// Pollers and schedules are written so that a cursor lagging behind what
// was already accepted is harmless: they put the cursor only after the
// events it covers are in the inbox, whose unique ids drop what a restart
// accepts twice.
type Cursors interface {
	// Cursor returns the value stored under name; ok is false when there
	// is none.
	Cursor(ctx context.Context, name string) (value string, ok bool, err error)
	// PutCursor stores value under name durably before it returns.
	PutCursor(ctx context.Context, name, value string) error
}

// Cursor returns the value stored under name (see Cursors).
func (s *Store) Cursor(ctx context.Context, name string) (string, bool, error) {
	c, ok := s.Backend.(Cursors)
	if !ok {
		return "", false, fmt.Errorf("store: %T keeps no cursors", s.Backend)
	}
	return c.Cursor(ctx, name)
}

// PutCursor stores value under name durably (see Cursors).
func (s *Store) PutCursor(ctx context.Context, name, value string) error {
	c, ok := s.Backend.(Cursors)
	if !ok {
		return fmt.Errorf("store: %T keeps no cursors", s.Backend)
	}
	return c.PutCursor(ctx, name, value)
}

func (s *sqliteStore) Cursor(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM cursors WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (s *sqliteStore) PutCursor(ctx context.Context, name, value string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, name, value, nanos(time.Now()))
		return err
	})
}

func (p *pgStore) Cursor(ctx context.Context, name string) (string, bool, error) {
	if err := p.check(); err != nil {
		return "", false, err
	}
	var v string
	err := p.pool.QueryRow(ctx, `SELECT value FROM cursors WHERE name = $1`, text(name)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (p *pgStore) PutCursor(ctx context.Context, name, value string) error {
	if err := p.check(); err != nil {
		return err
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO cursors (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, text(name), text(value), nanos(time.Now()))
	return err
}
