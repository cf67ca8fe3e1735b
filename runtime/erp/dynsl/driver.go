package dynsl

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib/dynsl"
)

// Config configures a Driver.
type Config struct {
	// DB is the SL application database. Open sets it from a DSN.
	DB      *sql.DB
	Dialect Dialect
	// Company is the CpnyID written on documents, orders and batches that
	// leave it out, and added to lookups of those tables; "" =
	// GLSetup.CpnyId.
	Company string
	// Anchors overrides the column that stores the idempotency key of a
	// table (default: dynsl.Anchors, User1).
	Anchors map[string]string
	// User and Prog are written to Crtd_User/LUpd_User (char(10)) and
	// Crtd_Prog/LUpd_Prog (char(8)); defaults "FLOW" and "FLOWD".
	User, Prog string
	// SOTypeID is the order type of sales orders that leave it out;
	// default "SO".
	SOTypeID string
	// BatchStatus is the Status of a balanced batch the driver writes:
	// "B" (balanced, waiting for release in SL) by default. The driver
	// never releases or posts: SL's release process updates balances.
	BatchStatus string
	// PerPost maps a document date to its period to post (YYYYPP). The
	// default is the calendar month, YYYYMM, which is SL's period only
	// when the fiscal year starts in January with 12 periods.
	PerPost func(time.Time) string
	// AllowPriorPeriods lets documents post to a period before the
	// module's current period (ARSetup/GLSetup PerNbr); refused otherwise.
	AllowPriorPeriods bool
	// Now is the clock for Crtd_DateTime and default dates; nil = time.Now.
	Now func() time.Time
}

// Driver is the Dynamics SL driver over database/sql. It is safe for
// concurrent use (as *sql.DB is).
type Driver struct {
	db      *sql.DB
	dialect Dialect
	cfg     Config
	anchors map[string]string
	tables  map[string]*dynsl.Table
}

var _ erp.Driver = (*Driver)(nil)

// New checks cfg and returns a driver; it does no I/O.
func New(cfg Config) (*Driver, error) {
	if cfg.DB == nil {
		return nil, fmt.Errorf("dynsl: Config.DB is nil")
	}
	if cfg.Dialect != SQLServer && cfg.Dialect != SQLite {
		return nil, fmt.Errorf("dynsl: unknown dialect %d", cfg.Dialect)
	}
	if cfg.User == "" {
		cfg.User = "FLOW"
	}
	if cfg.Prog == "" {
		cfg.Prog = "FLOWD"
	}
	if len(cfg.User) > 10 || len(cfg.Prog) > 8 || len(cfg.Company) > 10 {
		return nil, fmt.Errorf("dynsl: User (10), Prog (8) or Company (10) too long")
	}
	if cfg.SOTypeID == "" {
		cfg.SOTypeID = "SO"
	}
	if cfg.BatchStatus == "" {
		cfg.BatchStatus = "B"
	}
	if cfg.PerPost == nil {
		cfg.PerPost = func(t time.Time) string { return t.Format("200601") }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Driver{db: cfg.DB, dialect: cfg.Dialect, cfg: cfg, anchors: map[string]string{}, tables: map[string]*dynsl.Table{}}
	for _, t := range dynsl.Tables() {
		d.tables[t.Name] = t
	}
	for k, v := range dynsl.Anchors {
		d.anchors[k] = v
	}
	for k, v := range cfg.Anchors {
		t, ok := d.tables[k]
		if !ok || !contains(dynsl.EntityNames, k) {
			return nil, fmt.Errorf("dynsl: Anchors: unknown table %q", k)
		}
		if c, ok := column(t, v); !ok || c.Type != "Text" {
			return nil, fmt.Errorf("dynsl: Anchors: %s has no text column %q", k, v)
		}
		d.anchors[k] = v
	}
	return d, nil
}

// Open opens the SL database with a registered database/sql driver
// ("sqlserver" in production, with github.com/microsoft/go-mssqldb
// imported; "sqlite" for a local database) and returns a driver over it.
func Open(driverName, dsn string, cfg Config) (*Driver, error) {
	dialect, err := DialectOf(driverName)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("dynsl: open %s: %w", driverName, err)
	}
	cfg.DB, cfg.Dialect = db, dialect
	d, err := New(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the database.
func (d *Driver) Close() error { return d.db.Close() }

// Ping checks that the database answers and holds the SL setup rows.
func (d *Driver) Ping(ctx context.Context) error {
	return d.inTx(ctx, "ping", func(x *txn) error {
		_, err := x.setup()
		return err
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func column(t *dynsl.Table, name string) (dynsl.Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return dynsl.Column{}, false
}

func has(t *dynsl.Table, name string) bool {
	_, ok := column(t, name)
	return ok
}

// entity returns the table a flow writes.
func (d *Driver) entity(name string) (*dynsl.Table, error) {
	if !contains(dynsl.EntityNames, name) {
		return nil, invalid("unknown table %q (flows write %s)", name, strings.Join(dynsl.EntityNames, ", "))
	}
	return d.tables[name], nil
}

// fields checks a record against a table and returns it with every value
// coerced to its column's kind.
func (d *Driver) fields(t *dynsl.Table, rec erp.Record) (erp.Record, error) {
	out := make(erp.Record, len(rec))
	for k, v := range rec {
		c, ok := column(t, k)
		if !ok {
			return nil, invalid("%s has no column %q", t.Name, k)
		}
		if v == nil {
			continue
		}
		cv, err := coerce(c, v)
		if err != nil {
			return nil, invalid("%s: %v", t.Name, err)
		}
		out[k] = cv
	}
	return out, nil
}

// anchorValue is the idempotency key as stored in a column of size n: the
// key itself when it fits, else "fk-" and the first 16 hex digits of its
// SHA-256.
func anchorValue(key string, n int) string {
	if len(key) <= n {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "fk-" + hex.EncodeToString(sum[:8])
}

// txn is one SQL transaction of the driver.
type txn struct {
	d     *Driver
	tx    *sql.Tx
	ctx   context.Context
	cache *setup
}

// inTx runs fn in one transaction: committed if fn succeeds, rolled back
// otherwise. Errors come back classified.
func (d *Driver) inTx(ctx context.Context, what string, fn func(x *txn) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err, beforeCommit, what)
	}
	x := &txn{d: d, tx: tx, ctx: ctx}
	if err := fn(x); err != nil {
		_ = tx.Rollback()
		return classify(err, beforeCommit, what)
	}
	if err := tx.Commit(); err != nil {
		return classify(err, atCommit, what+": commit")
	}
	return nil
}

// where appends " WHERE a = ? AND b = ?" for the fields of w, in name order.
func (x *txn) where(q *query, t *dynsl.Table, w erp.Record) error { return x.whereRange(q, t, w, nil) }

// sqlOps are the SQL operators of a query's comparisons.
var sqlOps = map[string]string{"!=": " <> ", "<": " < ", "<=": " <= ", ">": " > ", ">=": " >= "}

// whereRange adds the WHERE clause of w and ranges to q.
func (x *txn) whereRange(q *query, t *dynsl.Table, w erp.Record, ranges []erp.Range) error {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		c, ok := column(t, k)
		if !ok {
			return invalid("%s has no column %q", t.Name, k)
		}
		v, err := coerce(c, w[k])
		if err != nil {
			return invalid("%s: %v", t.Name, err)
		}
		if i == 0 {
			q.sql(" WHERE ")
		} else {
			q.sql(" AND ")
		}
		q.sql(ident(k), " = ").arg(x.d.encode(v))
	}
	for i, rg := range ranges {
		c, ok := column(t, rg.Field)
		op, known := sqlOps[rg.Op]
		if !ok || !known {
			return invalid("%s has no column %q to compare with %s", t.Name, rg.Field, rg.Op)
		}
		v, err := coerce(c, rg.Value)
		if err != nil {
			return invalid("%s: %v", t.Name, err)
		}
		if i == 0 && len(keys) == 0 {
			q.sql(" WHERE ")
		} else {
			q.sql(" AND ")
		}
		q.sql(ident(rg.Field), op).arg(x.d.encode(v))
	}
	return nil
}

// selectRows returns the rows of t matching w (all when w is empty), in
// key order; limit 0 means all.
func (x *txn) selectRows(t *dynsl.Table, w erp.Record, limit int) ([]erp.Record, error) {
	return x.selectRange(t, w, nil, limit)
}

// selectRange returns the rows of t matching w and ranges.
func (x *txn) selectRange(t *dynsl.Table, w erp.Record, ranges []erp.Range, limit int) ([]erp.Record, error) {
	q := &query{d: x.d.dialect}
	q.sql("SELECT ")
	if limit > 0 && x.d.dialect == SQLServer {
		q.sql(fmt.Sprintf("TOP %d ", limit))
	}
	for i, c := range t.Columns {
		if i > 0 {
			q.sql(", ")
		}
		q.sql(ident(c.Name))
	}
	q.sql(" FROM ", ident(t.Name))
	if err := x.whereRange(q, t, w, ranges); err != nil {
		return nil, err
	}
	if len(t.Key) > 0 {
		q.sql(" ORDER BY ")
		for i, k := range t.Key {
			if i > 0 {
				q.sql(", ")
			}
			q.sql(ident(k))
		}
	}
	if limit > 0 && x.d.dialect == SQLite {
		q.sql(fmt.Sprintf(" LIMIT %d", limit))
	}
	rows, err := x.tx.QueryContext(x.ctx, q.String(), q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []erp.Record
	for rows.Next() {
		vals := make([]any, len(t.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		rec := make(erp.Record, len(vals))
		for i, c := range t.Columns {
			v, err := decode(c, vals[i])
			if err != nil {
				return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("dynsl: read %s: %v", t.Name, err)}
			}
			rec[c.Name] = v
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

func (x *txn) selectOne(t *dynsl.Table, w erp.Record) (erp.Record, bool, error) {
	rows, err := x.selectRows(t, w, 1)
	if err != nil || len(rows) == 0 {
		return nil, false, err
	}
	return rows[0], true, nil
}

// insert writes one full row: SL's columns are NOT NULL without defaults,
// so every column the record leaves out gets SL's empty value.
func (x *txn) insert(t *dynsl.Table, rec erp.Record) error {
	q := &query{d: x.d.dialect}
	q.sql("INSERT INTO ", ident(t.Name), " (")
	for i, c := range t.Columns {
		if i > 0 {
			q.sql(", ")
		}
		q.sql(ident(c.Name))
	}
	q.sql(") VALUES (")
	for i, c := range t.Columns {
		if i > 0 {
			q.sql(", ")
		}
		v, ok := rec[c.Name]
		if !ok || v == nil {
			v = emptyValue(c)
		}
		q.arg(x.d.encode(v))
	}
	q.sql(")")
	_, err := x.tx.ExecContext(x.ctx, q.String(), q.args...)
	return err
}

// update sets the columns of set on the rows matching w and returns how
// many rows it changed.
func (x *txn) update(t *dynsl.Table, set, w erp.Record) (int64, error) {
	q := &query{d: x.d.dialect}
	q.sql("UPDATE ", ident(t.Name), " SET ")
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			q.sql(", ")
		}
		q.sql(ident(k), " = ").arg(x.d.encode(set[k]))
	}
	if err := x.where(q, t, w); err != nil {
		return 0, err
	}
	res, err := x.tx.ExecContext(x.ctx, q.String(), q.args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// keyOf returns the key fields of rec, and whether rec sets all of them.
func keyOf(t *dynsl.Table, rec erp.Record) (erp.Record, bool) {
	k := erp.Record{}
	for _, f := range t.Key {
		v, ok := rec[f]
		if !ok || v == nil || v == "" {
			return nil, false
		}
		k[f] = v
	}
	return k, true
}

// Lookup returns the first row of entity whose columns equal where (in the
// configured company, for tables that have one).
func (d *Driver) Lookup(ctx context.Context, entity string, where erp.Record) (erp.Record, bool, error) {
	rows, err := d.rows(ctx, entity, where, nil, 1)
	if err != nil || len(rows) == 0 {
		return nil, false, err
	}
	return rows[0], true, nil
}

// Query returns every row of entity whose columns equal where, in the
// table's key order (the company's rows, when the table has CpnyID).
func (d *Driver) Query(ctx context.Context, entity string, where erp.Record) ([]erp.Record, error) {
	return d.rows(ctx, entity, where, nil, 0)
}

// QueryRange returns every row of entity whose columns equal where and
// satisfy ranges, compared in SQL.
func (d *Driver) QueryRange(ctx context.Context, entity string, where erp.Record, ranges []erp.Range) ([]erp.Record, error) {
	return d.rows(ctx, entity, where, ranges, 0)
}

// rows selects up to limit rows (0: all) of entity matching where and
// ranges, of the driver's company unless where names one.
func (d *Driver) rows(ctx context.Context, entity string, where erp.Record, ranges []erp.Range, limit int) ([]erp.Record, error) {
	t, err := d.entity(entity)
	if err != nil {
		return nil, err
	}
	var rows []erp.Record
	err = d.inTx(ctx, "lookup "+entity, func(x *txn) error {
		w := erp.Record{}
		for k, v := range where {
			w[k] = v
		}
		if has(t, "CpnyID") && w["CpnyID"] == nil {
			cpny, err := x.company()
			if err != nil {
				return err
			}
			w["CpnyID"] = cpny
		}
		rows, err = x.selectRange(t, w, ranges, limit)
		return err
	})
	return rows, err
}

// Find returns the row an earlier attempt of w wrote: by w's natural key
// when it sets one, else by its idempotency key in the table's anchor.
func (d *Driver) Find(ctx context.Context, w erp.Write) (erp.Record, bool, error) {
	t, err := d.entity(w.Entity)
	if err != nil {
		return nil, false, err
	}
	fields, err := d.fields(t, w.Fields)
	if err != nil {
		return nil, false, err
	}
	var rec erp.Record
	var found bool
	err = d.inTx(ctx, "find "+w.Entity, func(x *txn) error {
		if err := x.defaults(t, fields); err != nil {
			return err
		}
		rec, found, err = x.existing(t, fields, w.Key)
		return err
	})
	return rec, found, err
}

// existing finds the row a write addresses: by its natural key, else by
// its anchored idempotency key.
func (x *txn) existing(t *dynsl.Table, fields erp.Record, key string) (erp.Record, bool, error) {
	if k, ok := keyOf(t, fields); ok {
		return x.selectOne(t, k)
	}
	if a := x.d.anchors[t.Name]; a != "" && key != "" {
		c, _ := column(t, a)
		w := erp.Record{a: anchorValue(key, c.Size)}
		if has(t, "CpnyID") {
			w["CpnyID"] = fields["CpnyID"]
		}
		if t.Name == "Batch" || t.Name == "GLTran" {
			w["Module"] = fields["Module"]
		}
		// Narrow by the leading key columns the write sets, so that
		// SQL Server seeks the primary key instead of scanning.
		for _, k := range t.Key {
			if v, ok := fields[k]; ok && v != "" {
				w[k] = v
			}
		}
		return x.selectOne(t, w)
	}
	return nil, false, nil
}

// Write performs w in one transaction with the rules of SL's entry screens
// and returns the row as stored.
func (d *Driver) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	t, err := d.entity(w.Entity)
	if err != nil {
		return nil, err
	}
	switch w.Op {
	case erp.Create, erp.Upsert, erp.Update:
	default:
		return nil, invalid("unknown write op %q", w.Op)
	}
	fields, err := d.fields(t, w.Fields)
	if err != nil {
		return nil, err
	}
	if a := d.anchors[t.Name]; a != "" && w.Op != erp.Update && w.Key != "" {
		c, _ := column(t, a)
		want := anchorValue(w.Key, c.Size)
		if v, set := fields[a]; !set {
			fields[a] = want
		} else if _, natural := keyOf(t, fields); !natural && v != want {
			// Without a natural key the anchor is the only way a retry
			// finds this row again: a flow must not take it.
			return nil, invalid("%s.%s holds the flow's idempotency key on SL (%s); set another field, or the row's key", t.Name, a, want)
		}
	}
	var out erp.Record
	err = d.inTx(ctx, string(w.Op)+" "+w.Entity, func(x *txn) error {
		if err := x.defaults(t, fields); err != nil {
			return err
		}
		var old erp.Record
		var found bool
		var err error
		if w.Op == erp.Update {
			k, ok := keyOf(t, fields)
			if !ok {
				return invalid("update %s must set its key %s", t.Name, strings.Join(t.Key, ", "))
			}
			if old, found, err = x.selectOne(t, k); err != nil {
				return err
			}
			if !found {
				return invalid("update %s: no row with %s", t.Name, describe(k))
			}
		} else if old, found, err = x.existing(t, fields, w.Key); err != nil {
			return err
		}
		switch {
		case found && w.Op == erp.Create:
			if a := x.d.anchors[t.Name]; a != "" && old[a] == fields[a] {
				out = old // this write, committed by an earlier attempt
				return nil
			}
			k, _ := keyOf(t, old)
			return invalid("create %s: %s exists already", t.Name, describe(k))
		case found:
			out, err = x.change(t, old, fields)
		default:
			out, err = x.create(t, fields)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// describe prints key fields in a stable order.
func describe(r erp.Record) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, r[k])
	}
	return strings.Join(parts, " ")
}
