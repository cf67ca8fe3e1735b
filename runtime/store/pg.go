package store

// PostgreSQL: several flowd replicas share the database. Every call is a
// transaction of its own (PostgreSQL commits concurrent transactions
// together), uniqueness is the schema's unique keys, and the replicas
// divide the events with row leases (see Leases).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flowhq/flow/runtime/erp"
)

// pgStore is a store in a PostgreSQL database.
type pgStore struct {
	pool   *pgxpool.Pool
	owner  string
	closed atomic.Bool
}

const openStatuses = `('received', 'running', 'retry', 'waiting')`

// openPostgres connects to the database at dsn and migrates its schema.
// The pool holds up to 16 connections unless the URL says otherwise
// (pool_max_conns).
func openPostgres(ctx context.Context, dsn string) (*pgStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", Redact(dsn), err)
	}
	if u, err := url.Parse(dsn); err == nil && !u.Query().Has("pool_max_conns") {
		cfg.MaxConns = int32(max(16, 2*runtime.GOMAXPROCS(0)))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", Redact(dsn), err)
	}
	if _, _, err := pgMigrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store %s: %w", Redact(dsn), err)
	}
	return &pgStore{pool: pool, owner: newOwner()}, nil
}

// migratePostgres migrates the schema of the database at dsn.
func migratePostgres(ctx context.Context, dsn string) (from, to int, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, fmt.Errorf("store %s: %w", Redact(dsn), err)
	}
	defer conn.Close(ctx)
	return pgMigrate(ctx, conn)
}

// newOwner names this replica: its host, its process and a random part
// (a process may open several stores, as tests do).
func newOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

func (p *pgStore) Close() error {
	if p.closed.CompareAndSwap(false, true) {
		p.pool.Close() // waits for the connections in use
	}
	return nil
}

// check fails calls made after Close.
func (p *pgStore) check() error {
	if p.closed.Load() {
		return ErrClosed
	}
	return nil
}

// text makes s storable in a TEXT column, which takes neither NUL nor
// invalid UTF-8; the mapping is the same every time, so keys stay keys.
func text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

func (p *pgStore) Accept(ctx context.Context, source, gatewayID, typ string, payload []byte, received time.Time) (bool, error) {
	if err := p.check(); err != nil {
		return false, err
	}
	if payload == nil {
		payload = []byte{}
	}
	tag, err := p.pool.Exec(ctx, `INSERT INTO events (id, source, type, received_at, payload, status, updated_at)
		VALUES ($1, $2, $3, $4, $5, 'received', $4) ON CONFLICT (id) DO NOTHING`,
		text(source+":"+gatewayID), text(source), text(typ), nanos(received), payload)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 0, nil
}

const pgEventColumns = `seq, id, source, type, received_at, payload, status, attempts, next_at, plan_version, flow, step, error, updated_at, approved`

// pgListColumns are the event columns without the payload.
var pgListColumns = strings.Replace(pgEventColumns, "payload", "''::bytea", 1)

func (p *pgStore) listEvents(ctx context.Context, q string, args ...any) ([]*Event, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		e.Payload = nil
		out = append(out, e)
	}
	return out, rows.Err()
}

func (p *pgStore) OpenEvents(ctx context.Context, after int64, limit int) ([]*Event, error) {
	return p.listEvents(ctx, `SELECT `+pgListColumns+` FROM events
		WHERE status IN `+openStatuses+` AND seq > $1 ORDER BY seq LIMIT $2`, after, limit)
}

func (p *pgStore) EachPayload(ctx context.Context, from time.Time, fn func(seq int64, payload []byte) error) error {
	if err := p.check(); err != nil {
		return err
	}
	var since int64
	if !from.IsZero() {
		since = nanos(from)
	}
	rows, err := p.pool.Query(ctx, `SELECT seq, payload FROM events WHERE received_at >= $1 ORDER BY seq`, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			return err
		}
		if err := fn(seq, b); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (p *pgStore) PutList(ctx context.Context, seq int64, name, args string, items []byte) error {
	if err := p.check(); err != nil {
		return err
	}
	if items == nil {
		items = []byte{}
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO lists (seq, name, args, items) VALUES ($1, $2, $3, $4)
		ON CONFLICT (seq, name, args) DO UPDATE SET items = excluded.items`, seq, text(name), text(args), items)
	return err
}

func (p *pgStore) List(ctx context.Context, seq int64, name, args string) ([]byte, bool, error) {
	if err := p.check(); err != nil {
		return nil, false, err
	}
	var items []byte
	err := p.pool.QueryRow(ctx, `SELECT items FROM lists WHERE seq = $1 AND name = $2 AND args = $3`, seq, text(name), text(args)).Scan(&items)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return items, err == nil, err
}

func (p *pgStore) Lists(ctx context.Context, seq int64) (map[string][]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT name, args, items FROM lists WHERE seq = $1 ORDER BY name, args`, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name, args string
		var items []byte
		if err := rows.Scan(&name, &args, &items); err != nil {
			return nil, err
		}
		out[name+" "+args] = items
	}
	return out, rows.Err()
}

func (p *pgStore) Payload(ctx context.Context, seq int64) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var b []byte
	err := p.pool.QueryRow(ctx, `SELECT payload FROM events WHERE seq = $1`, seq).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("event %d: %w", seq, ErrNotFound)
	}
	return b, err
}

func (p *pgStore) Event(ctx context.Context, ref string) (*Event, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var row pgx.Row
	var seq int64
	if _, err := fmt.Sscanf(ref, "%d", &seq); err == nil && fmt.Sprint(seq) == ref {
		row = p.pool.QueryRow(ctx, `SELECT `+pgEventColumns+` FROM events WHERE seq = $1`, seq)
	} else if strings.Contains(ref, ":") {
		row = p.pool.QueryRow(ctx, `SELECT `+pgEventColumns+` FROM events WHERE id = $1`, text(ref))
	} else {
		row = p.pool.QueryRow(ctx, `SELECT `+pgEventColumns+` FROM events WHERE id LIKE $1 ESCAPE '\' ORDER BY seq LIMIT 1`, "%:"+likeEscape(text(ref)))
	}
	e, err := scanEvent(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("event %s: %w", ref, ErrNotFound)
	}
	return e, err
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (p *pgStore) Events(ctx context.Context, f Filter) ([]*Event, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := `SELECT ` + pgListColumns + ` FROM events WHERE true`
	var args []any
	if f.Status != "" {
		args = append(args, string(f.Status))
		q += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.Type != "" {
		args = append(args, text(f.Type))
		q += fmt.Sprintf(` AND type = $%d`, len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY seq DESC LIMIT $%d`, len(args))
	return p.listEvents(ctx, q, args...)
}

func (p *pgStore) Counts(ctx context.Context) (map[Status]int, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT status, count(*) FROM events GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[Status(st)] = n
	}
	return out, rows.Err()
}

// mine is the condition that this replica may change an event's run: it
// holds the lease, or nobody does.
const mine = `(lease_owner = $2 OR lease_until < now())`

func (p *pgStore) Start(ctx context.Context, seq int64, planVersion string, now time.Time) (int, error) {
	if err := p.check(); err != nil {
		return 0, err
	}
	var attempt int
	err := p.pool.QueryRow(ctx, `UPDATE events SET status = 'running', attempts = attempts + 1, plan_version = $3, updated_at = $4
		WHERE seq = $1 AND `+mine+` RETURNING attempts`, seq, p.owner, text(planVersion), nanos(now)).Scan(&attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, p.why(ctx, seq)
	}
	return attempt, err
}

// why explains an update of event seq that changed nothing: the event is
// unknown, or another replica holds it.
func (p *pgStore) why(ctx context.Context, seq int64) error {
	var owner string
	err := p.pool.QueryRow(ctx, `SELECT lease_owner FROM events WHERE seq = $1`, seq).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("event %d: %w", seq, ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("event %d (held by %s): %w", seq, owner, ErrLeaseLost)
}

func (p *pgStore) Finish(ctx context.Context, seq int64, attempt int, planVersion string, o Outcome, now time.Time) error {
	if err := p.check(); err != nil {
		return err
	}
	var next int64
	if !o.NextAt.IsZero() {
		next = nanos(o.NextAt)
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// Waiting is not failing: it does not use up the retry budget (one
	// attempt stays counted, so the next one settles writes). The lease
	// ends with the attempt.
	tag, err := tx.Exec(ctx, `UPDATE events SET status = $3, next_at = $4, flow = $5, step = $6, error = $7, plan_version = $8, updated_at = $9,
			attempts = CASE WHEN $3 = 'waiting' THEN least(attempts, 1) ELSE attempts END,
			lease_owner = '', lease_until = '-infinity'
		WHERE seq = $1 AND `+mine, seq, p.owner, string(o.Status), next, text(o.Flow), o.Step, text(o.Error), text(planVersion), nanos(now))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return p.why(ctx, seq)
	}
	if len(o.Trail) > 0 {
		b := &pgx.Batch{}
		for _, st := range o.Trail {
			b.Queue(`INSERT INTO trail (seq, at, attempt, plan_version, flow, step, kind, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				seq, nanos(st.At), attempt, text(planVersion), text(st.Flow), st.Step, text(st.Kind), text(st.Detail))
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func (p *pgStore) Trail(ctx context.Context, seq int64) ([]Step, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT at, attempt, plan_version, flow, step, kind, detail FROM trail WHERE seq = $1 ORDER BY id`, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var st Step
		var at int64
		if err := rows.Scan(&at, &st.Attempt, &st.PlanVersion, &st.Flow, &st.Step, &st.Kind, &st.Detail); err != nil {
			return nil, err
		}
		st.At = fromNanos(at)
		out = append(out, st)
	}
	return out, rows.Err()
}

func (p *pgStore) Requeue(ctx context.Context, seq int64, now time.Time) ([]int64, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	// A replay gets the whole retry budget again; one attempt stays
	// counted, so the next one settles writes that may have landed.
	q := `UPDATE events SET status = 'received', next_at = 0, error = '', attempts = least(attempts, 1), updated_at = $1 WHERE status = 'dead'`
	args := []any{nanos(now)}
	if seq != 0 {
		q += ` AND seq = $2`
		args = append(args, seq)
	}
	rows, err := p.pool.Query(ctx, q+` RETURNING seq`, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (p *pgStore) Decide(ctx context.Context, seq int64, approve bool, note string, now time.Time) error {
	if err := p.check(); err != nil {
		return err
	}
	q := `UPDATE events SET status = 'skipped', error = $3, updated_at = $2 WHERE seq = $1 AND status = 'review'`
	args := []any{seq, nanos(now), text("rejected in review: " + note)}
	if approve {
		q = `UPDATE events SET status = 'received', approved = true, next_at = 0, error = '', updated_at = $2 WHERE seq = $1 AND status = 'review'`
		args = args[:2]
	}
	tag, err := p.pool.Exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("event %d is not in review: %w", seq, ErrNotFound)
	}
	return nil
}

func (p *pgStore) Get(ctx context.Context, key string) (erp.Record, bool, error) {
	if err := p.check(); err != nil {
		return nil, false, err
	}
	var data string
	err := p.pool.QueryRow(ctx, `SELECT record FROM effects WHERE key = $1`, text(key)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	rec, err := decodeRecord(data)
	return rec, err == nil, err
}

func (p *pgStore) Put(ctx context.Context, key, entity string, rec erp.Record) error {
	if err := p.check(); err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("store: record of %s: %w", key, err)
	}
	// The primary key keeps the first record, whichever replica put it.
	_, err = p.pool.Exec(ctx, `INSERT INTO effects (key, entity, record, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
		text(key), text(entity), string(b), nanos(time.Now()))
	return err
}

func (p *pgStore) Effects(ctx context.Context) (int, error) {
	if err := p.check(); err != nil {
		return 0, err
	}
	var n int
	err := p.pool.QueryRow(ctx, `SELECT count(*) FROM effects`).Scan(&n)
	return n, err
}

func (p *pgStore) Activity(ctx context.Context, since, now time.Time, step time.Duration) ([]Bucket, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	out, err := newBuckets(since, now, step)
	if err != nil {
		return nil, err
	}
	from, width := nanos(since), int64(step)
	count := func(query string, add func(b *Bucket, status string, n int)) error {
		rows, err := p.pool.Query(ctx, query, from, width)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i int64
			var status string
			var c int
			if err := rows.Scan(&i, &status, &c); err != nil {
				return err
			}
			if i >= 0 && i < int64(len(out)) {
				add(&out[i], status, c)
			}
		}
		return rows.Err()
	}
	if err := count(`SELECT (received_at - $1) / $2, '', count(*) FROM events WHERE received_at >= $1 GROUP BY 1`,
		func(b *Bucket, _ string, c int) { b.Received += c }); err != nil {
		return nil, err
	}
	if err := count(`SELECT (updated_at - $1) / $2, status, count(*) FROM events WHERE updated_at >= $1 AND status IN ('done', 'dead', 'retry') GROUP BY 1, 2`,
		addOutcome); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *pgStore) ChargeHistory(ctx context.Context, c Charge, limit int, window time.Duration) (before, near []Charge, err error) {
	if err := p.check(); err != nil {
		return nil, nil, err
	}
	c.Event, c.Customer, c.Currency = text(c.Event), text(c.Customer), text(c.Currency)
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback(ctx)
	// One customer's charges are recorded and read one at a time, across
	// replicas: of two duplicates arriving together, the second sees the
	// first.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('flow.charges:' || $1 || ':' || $2))`, c.Customer, c.Currency); err != nil {
		return nil, nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO charges (event, customer, currency, amount, created) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event) DO NOTHING`,
		c.Event, c.Customer, c.Currency, c.Amount, nanos(c.Created)); err != nil {
		return nil, nil, err
	}
	read := func(q string, args ...any) ([]Charge, error) {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []Charge
		for rows.Next() {
			h := Charge{Customer: c.Customer, Currency: c.Currency}
			var created int64
			if err := rows.Scan(&h.Event, &h.Amount, &created); err != nil {
				return nil, err
			}
			h.Created = fromNanos(created)
			out = append(out, h)
		}
		return out, rows.Err()
	}
	if before, err = read(`SELECT event, amount, created FROM charges WHERE customer = $1 AND currency = $2 AND created < $3 AND event <> $4
		ORDER BY created DESC LIMIT $5`, c.Customer, c.Currency, nanos(c.Created), c.Event, limit); err != nil {
		return nil, nil, err
	}
	if near, err = read(`SELECT event, amount, created FROM charges WHERE customer = $1 AND currency = $2 AND created >= $3 AND created <= $4 AND event <> $5
		ORDER BY created`, c.Customer, c.Currency, nanos(c.Created), nanos(c.Created.Add(window)), c.Event); err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, nil, err
	}
	return before, near, nil
}

// Leases.

func (p *pgStore) Owner() string { return p.owner }

// keyBatch bounds the events one claim gives ordering keys to.
const keyBatch = 256

func (p *pgStore) Claim(ctx context.Context, limit int, lease time.Duration, orderKey func(*Event) string) ([]*Event, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if err := p.assignKeys(ctx, tx, orderKey); err != nil {
		return nil, err
	}
	// An event is claimed when it is due, nobody holds it, no older event
	// of its ordering key is open (it is its key's head: a key runs on one
	// replica at a time, oldest first), and every older open event has its
	// key (an unkeyed one might share it). SKIP LOCKED: replicas claiming
	// together take different events.
	rows, err := tx.Query(ctx, `
		WITH due AS (
			SELECT e.seq FROM events e
			WHERE e.status IN `+openStatuses+`
				AND e.order_key IS NOT NULL
				AND e.next_at <= $1
				AND e.lease_until < now()
				AND e.seq < coalesce((SELECT min(u.seq) FROM events u WHERE u.order_key IS NULL AND u.status IN `+openStatuses+`), 9223372036854775807)
				AND NOT EXISTS (SELECT 1 FROM events o WHERE o.order_key = e.order_key AND o.seq < e.seq AND o.status IN `+openStatuses+`)
			ORDER BY e.seq
			LIMIT $2
			FOR UPDATE SKIP LOCKED
		)
		UPDATE events SET lease_owner = $3, lease_until = now() + make_interval(secs => $4)
		FROM due WHERE events.seq = due.seq
		RETURNING `+qualified("events", pgEventColumns),
		nanos(time.Now()), limit, p.owner, lease.Seconds())
	if err != nil {
		return nil, err
	}
	var out []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	// Oldest first (RETURNING follows no order).
	sortEvents(out)
	return out, nil
}

// assignKeys gives ordering keys to open events that have none yet.
func (p *pgStore) assignKeys(ctx context.Context, tx pgx.Tx, orderKey func(*Event) string) error {
	rows, err := tx.Query(ctx, `SELECT seq, id, source, type, received_at, payload FROM events
		WHERE order_key IS NULL AND status IN `+openStatuses+` ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`, keyBatch)
	if err != nil {
		return err
	}
	var seqs []int64
	var keys []string
	for rows.Next() {
		var e Event
		var received int64
		if err := rows.Scan(&e.Seq, &e.ID, &e.Source, &e.Type, &received, &e.Payload); err != nil {
			rows.Close()
			return err
		}
		e.Received = fromNanos(received)
		seqs = append(seqs, e.Seq)
		keys = append(keys, text(safeKey(orderKey, &e)))
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(seqs) == 0 {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE events SET order_key = k.key FROM unnest($1::bigint[], $2::text[]) AS k(seq, key) WHERE events.seq = k.seq`, seqs, keys)
	return err
}

// safeKey is orderKey's key for e, or e's own when it has none (or fails).
func safeKey(orderKey func(*Event) string, e *Event) (key string) {
	own := fmt.Sprintf("event:%d", e.Seq)
	defer func() {
		if recover() != nil {
			key = own
		}
	}()
	if orderKey != nil {
		key = orderKey(e)
	}
	if key == "" {
		key = own
	}
	return key
}

func (p *pgStore) Extend(ctx context.Context, seqs []int64, lease time.Duration) ([]int64, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	rows, err := p.pool.Query(ctx, `WITH renewed AS (
			UPDATE events SET lease_until = now() + make_interval(secs => $3) WHERE seq = ANY($1) AND lease_owner = $2
		)
		SELECT seq FROM events WHERE seq = ANY($1) AND lease_owner NOT IN ('', $2)`, seqs, p.owner, lease.Seconds())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func (p *pgStore) Release(ctx context.Context, seq int64, notBefore time.Time) error {
	if err := p.check(); err != nil {
		return err
	}
	var nb int64
	if !notBefore.IsZero() {
		nb = nanos(notBefore)
	}
	_, err := p.pool.Exec(ctx, `UPDATE events SET lease_owner = '', lease_until = '-infinity', next_at = greatest(next_at, $3)
		WHERE seq = $1 AND lease_owner = $2`, seq, p.owner, nb)
	return err
}

// qualified prefixes each of the comma-separated columns with table.
func qualified(table, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = table + "." + c
	}
	return strings.Join(cols, ", ")
}
