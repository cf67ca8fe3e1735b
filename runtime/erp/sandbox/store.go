package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// store keeps records in SQLite: one table for all entity sets, the record
// as JSON in F&O's wire form, a canonical key per record.
type store struct {
	db  *sql.DB
	tmp string // directory to remove on close, "" when the caller owns the file
}

const storeSchema = `
CREATE TABLE IF NOT EXISTS records (
	recid   INTEGER PRIMARY KEY AUTOINCREMENT,
	entity  TEXT    NOT NULL,
	company TEXT    NOT NULL,
	key     TEXT    NOT NULL,
	version INTEGER NOT NULL,
	data    TEXT    NOT NULL,
	UNIQUE (entity, key)
);
CREATE INDEX IF NOT EXISTS records_company ON records (entity, company, recid);
CREATE TABLE IF NOT EXISTS sequences (
	name TEXT    PRIMARY KEY,
	last INTEGER NOT NULL
);`

// openStore opens (or creates) the database at path; "" means a private
// database in a temporary directory that close removes.
func openStore(path string) (*store, error) {
	st := &store{}
	if path == "" {
		dir, err := os.MkdirTemp("", "flow-sandbox-")
		if err != nil {
			return nil, fmt.Errorf("sandbox: temporary database: %w", err)
		}
		st.tmp, path = dir, filepath.Join(dir, "sandbox.db")
	}
	q := url.Values{"_pragma": {"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"}, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err == nil {
		_, err = db.Exec(storeSchema)
	}
	if err != nil {
		st.close()
		return nil, fmt.Errorf("sandbox: open database %s: %w", path, err)
	}
	st.db = db
	return st, nil
}

func (st *store) close() error {
	var err error
	if st.db != nil {
		err = st.db.Close()
	}
	if st.tmp != "" {
		err = errors.Join(err, os.RemoveAll(st.tmp))
	}
	return err
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// row is a stored record before decoding.
type row struct {
	recid   int64
	version int64
	data    []byte
}

// scan returns the rows of entity in insertion order; company "" means all
// companies.
func scan(ctx context.Context, q querier, entity, company string, all bool) ([]row, error) {
	query, args := `SELECT recid, version, data FROM records WHERE entity = ? ORDER BY recid`, []any{entity}
	if !all {
		query, args = `SELECT recid, version, data FROM records WHERE entity = ? AND company = ? ORDER BY recid`, []any{entity, company}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sandbox: read %s: %w", entity, err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.recid, &r.version, &r.data); err != nil {
			return nil, fmt.Errorf("sandbox: read %s: %w", entity, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sandbox: read %s: %w", entity, err)
	}
	return out, nil
}

// scanWhere is scan of one company narrowed to the records whose field
// holds value, compared without case.
func scanWhere(ctx context.Context, q querier, entity, company, field, value string) ([]row, error) {
	rows, err := q.QueryContext(ctx, `SELECT recid, version, data FROM records
		WHERE entity = ? AND company = ? AND `+jsonField(field)+` = ? COLLATE NOCASE ORDER BY recid`,
		entity, company, value)
	if err != nil {
		return nil, fmt.Errorf("sandbox: read %s: %w", entity, err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.recid, &r.version, &r.data); err != nil {
			return nil, fmt.Errorf("sandbox: read %s: %w", entity, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sandbox: read %s: %w", entity, err)
	}
	return out, nil
}

// lineNumbers returns the highest line number among the records of one
// parent (parentField = parentID), and whether line n is taken.
func lineNumbers(ctx context.Context, q querier, entity, company, parentField, parentID, lineField string, n int64) (last int64, taken bool, err error) {
	var max sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT max(`+jsonField(lineField)+`) FROM records
		WHERE entity = ? AND company = ? AND `+jsonField(parentField)+` = ? COLLATE NOCASE`,
		entity, company, parentID).Scan(&max)
	if err == nil && n != 0 {
		var hit int64
		err = q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM records
			WHERE entity = ? AND company = ? AND `+jsonField(parentField)+` = ? COLLATE NOCASE AND `+jsonField(lineField)+` = ? LIMIT 1)`,
			entity, company, parentID, n).Scan(&hit)
		taken = hit > 0
	}
	if err != nil {
		return 0, false, fmt.Errorf("sandbox: line numbers of %s: %w", entity, err)
	}
	return max.Int64, taken, nil
}

// jsonField is the SQL expression of a record's field, written the way
// the expression indexes of indexFields are, so that SQLite uses them.
// Field names are identifiers; anything else is dropped from the name.
func jsonField(field string) string {
	clean := strings.Map(func(r rune) rune {
		if r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, field)
	return `json_extract(data, '$.` + clean + `')`
}

// indexFields creates expression indexes on record fields that lookups
// compare (a BC number, code, anchor or parent id; a parent id and line
// number), so that they do not scan: each group is one index, its first
// field compared without case.
func indexFields(db *sql.DB, groups [][]string) error {
	for _, g := range groups {
		cols := []string{"entity", "company"}
		for i, f := range g {
			c := jsonField(f)
			if i == 0 {
				c += " COLLATE NOCASE"
			}
			cols = append(cols, c)
		}
		name := "records_f_" + strings.Join(g, "_")
		stmt := `CREATE INDEX IF NOT EXISTS "` + strings.ReplaceAll(name, `"`, ``) + `" ON records (` + strings.Join(cols, ", ") + `)`
		if _, err := db.Exec(stmt); err != nil {
			return fmt.Errorf("sandbox: index %v: %w", g, err)
		}
	}
	return nil
}

// get returns the row of entity with the canonical key.
func get(ctx context.Context, q querier, entity, key string) (row, bool, error) {
	var r row
	err := q.QueryRowContext(ctx, `SELECT recid, version, data FROM records WHERE entity = ? AND key = ?`, entity, key).
		Scan(&r.recid, &r.version, &r.data)
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, false, nil
	}
	if err != nil {
		return row{}, false, fmt.Errorf("sandbox: read %s: %w", entity, err)
	}
	return r, true, nil
}

func insert(ctx context.Context, q querier, entity, company, key string, data []byte) (int64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO records (entity, company, key, version, data) VALUES (?, ?, ?, 1, ?)`,
		entity, company, key, string(data))
	if err != nil {
		return 0, fmt.Errorf("sandbox: insert into %s: %w", entity, err)
	}
	return res.LastInsertId()
}

func update(ctx context.Context, q querier, recid int64, data []byte) error {
	_, err := q.ExecContext(ctx, `UPDATE records SET version = version + 1, data = ? WHERE recid = ?`, string(data), recid)
	if err != nil {
		return fmt.Errorf("sandbox: update record %d: %w", recid, err)
	}
	return nil
}

func remove(ctx context.Context, q querier, recid int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM records WHERE recid = ?`, recid); err != nil {
		return fmt.Errorf("sandbox: delete record %d: %w", recid, err)
	}
	return nil
}

// nextNumber advances the number sequence name and returns its new value.
func nextNumber(ctx context.Context, q querier, name string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx,
		`INSERT INTO sequences (name, last) VALUES (?, 1)
		 ON CONFLICT (name) DO UPDATE SET last = last + 1
		 RETURNING last`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sandbox: number sequence %s: %w", name, err)
	}
	return n, nil
}
