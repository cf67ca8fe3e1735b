package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
)

// Status is where an event is in its life.
type Status string

const (
	Received Status = "received" // acknowledged, not yet run
	Running  Status = "running"  // an attempt started (a crash leaves it here)
	Retry    Status = "retry"    // failed transiently; runs again at NextAt
	Waiting  Status = "waiting"  // a record it needs is missing; runs again at NextAt
	Done     Status = "done"     // every flow it triggers ran
	Skipped  Status = "skipped"  // its flows' guards said no
	NoFlow   Status = "no_flow"  // no flow handles its type (not an error)
	Dead     Status = "dead"     // failed permanently: a dead letter
	Review   Status = "review"   // a flow held it for a person to approve or reject
)

// Open reports whether the event still has work to do.
func (s Status) Open() bool {
	return s == Received || s == Running || s == Retry || s == Waiting
}

// Event is a stored event.
type Event struct {
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"` // "<source>:<gateway event id>"
	Source      string    `json:"source"`
	Type        string    `json:"type"`
	Received    time.Time `json:"received"`
	Payload     []byte    `json:"-"`
	Status      Status    `json:"status"`
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at,omitzero"`
	PlanVersion string    `json:"plan_version,omitempty"`
	Flow        string    `json:"flow,omitempty"` // where it failed or is waiting
	Step        int       `json:"step,omitempty"`
	Error       string    `json:"error,omitempty"`
	Updated     time.Time `json:"updated"`
	// Approved says a person approved the event in review: it runs past
	// its flows' review steps.
	Approved bool `json:"approved,omitempty"`
}

// GatewayID is the gateway's own event id ("evt_...").
func (e *Event) GatewayID() string {
	_, id, _ := strings.Cut(e.ID, ":")
	return id
}

const eventColumns = `seq, id, source, type, received_at, payload, status, attempts, next_at, plan_version, flow, step, error, updated_at, approved`

func scanEvent(row interface{ Scan(...any) error }) (*Event, error) {
	var e Event
	var received, next, updated int64
	var status string
	err := row.Scan(&e.Seq, &e.ID, &e.Source, &e.Type, &received, &e.Payload, &status, &e.Attempts, &next,
		&e.PlanVersion, &e.Flow, &e.Step, &e.Error, &updated, &e.Approved)
	if err != nil {
		return nil, err
	}
	e.Status, e.Received, e.NextAt, e.Updated = Status(status), fromNanos(received), fromNanos(next), fromNanos(updated)
	return &e, nil
}

const insertEventSQL = `INSERT INTO events (id, source, type, received_at, payload, status, updated_at)
	VALUES (?, ?, ?, ?, ?, 'received', ?) ON CONFLICT (id) DO NOTHING`

// Accept stores an acknowledged event once: it returns true when the event
// was already stored (a redelivery), and only once the row is durable.
func (s *sqliteStore) Accept(ctx context.Context, source, gatewayID, typ string, payload []byte, received time.Time) (dup bool, err error) {
	id := source + ":" + gatewayID
	if payload == nil {
		payload = []byte{}
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Stmt(s.insertEvent).Exec(id, source, typ, nanos(received), payload, nanos(received))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		dup = n == 0
		return err
	})
	return dup, err
}

// OpenEvents returns up to limit events with work left and seq > after,
// oldest first, without their payloads (see Payload): a scheduler that
// already holds most of them need not read them again.
func (s *sqliteStore) OpenEvents(ctx context.Context, after int64, limit int) ([]*Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+strings.Replace(eventColumns, "payload", "x''", 1)+` FROM events
		WHERE status IN ('received', 'running', 'retry', 'waiting') AND seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	return listEvents(rows)
}

// listEvents scans the rows of a listing, leaving payloads out.
func listEvents(rows *sql.Rows) ([]*Event, error) {
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

// EachPayload calls fn with the payload of each event received since from
// (all when from is zero), in the order they arrived, for replays.
func (s *sqliteStore) EachPayload(ctx context.Context, from time.Time, fn func(seq int64, payload []byte) error) error {
	var since int64
	if !from.IsZero() {
		since = nanos(from)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, payload FROM events WHERE received_at >= ? ORDER BY seq`, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var p []byte
		if err := rows.Scan(&seq, &p); err != nil {
			return err
		}
		if err := fn(seq, p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PutList records the items a run of event seq read from a gateway list
// (the latest read wins).
func (s *sqliteStore) PutList(ctx context.Context, seq int64, name, args string, items []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO lists (seq, name, args, items) VALUES (?, ?, ?, ?)
			ON CONFLICT (seq, name, args) DO UPDATE SET items = excluded.items`, seq, name, args, items)
		return err
	})
}

// List returns the items event seq's run read from a gateway list.
func (s *sqliteStore) List(ctx context.Context, seq int64, name, args string) ([]byte, bool, error) {
	var items []byte
	err := s.db.QueryRowContext(ctx, `SELECT items FROM lists WHERE seq = ? AND name = ? AND args = ?`, seq, name, args).Scan(&items)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return items, err == nil, err
}

// Lists returns every list event seq's runs recorded: "name args" -> items.
func (s *sqliteStore) Lists(ctx context.Context, seq int64) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, args, items FROM lists WHERE seq = ? ORDER BY name, args`, seq)
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

// Payload returns an event's raw payload.
func (s *sqliteStore) Payload(ctx context.Context, seq int64) ([]byte, error) {
	var p []byte
	err := s.db.QueryRowContext(ctx, `SELECT payload FROM events WHERE seq = ?`, seq).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("event %d: %w", seq, ErrNotFound)
	}
	return p, err
}

// ErrNotFound is returned for an unknown event.
var ErrNotFound = errors.New("not found")

// Event returns the event with the given seq, or id ("evt_..." or
// "<source>:evt_...").
func (s *sqliteStore) Event(ctx context.Context, ref string) (*Event, error) {
	var row *sql.Row
	var seq int64
	if _, err := fmt.Sscanf(ref, "%d", &seq); err == nil && fmt.Sprint(seq) == ref {
		row = s.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE seq = ?`, seq)
	} else if strings.Contains(ref, ":") {
		row = s.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, ref)
	} else {
		row = s.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id LIKE ? ESCAPE '\' ORDER BY seq LIMIT 1`, "%:"+likeEscape(ref))
	}
	e, err := scanEvent(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("event %s: %w", ref, ErrNotFound)
	}
	return e, err
}

// Filter selects events to list.
type Filter struct {
	Status Status // "" for any
	Type   string // "" for any
	Limit  int    // 0 for 100
}

// Events lists events, newest first.
func (s *sqliteStore) Events(ctx context.Context, f Filter) ([]*Event, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := `SELECT ` + eventColumns + ` FROM events WHERE 1 = 1`
	var args []any
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.Type != "" {
		q += ` AND type = ?`
		args = append(args, f.Type)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return listEvents(rows)
}

// Counts returns how many events are in each status.
func (s *sqliteStore) Counts(ctx context.Context) (map[Status]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM events GROUP BY status`)
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

// Start records that an attempt of the event begins on the plan version and
// returns the attempt's number. It is durable before any ERP request of the
// attempt is sent, so that after a crash the next attempt knows to settle
// writes that may have landed.
func (s *sqliteStore) Start(ctx context.Context, seq int64, planVersion string, now time.Time) (attempt int, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRow(`UPDATE events SET status = 'running', attempts = attempts + 1, plan_version = ?, updated_at = ?
			WHERE seq = ? RETURNING attempts`, planVersion, nanos(now), seq).Scan(&attempt)
	})
	return attempt, err
}

// Step is one line of an event's trail.
type Step struct {
	At          time.Time `json:"at"`
	Attempt     int       `json:"attempt"`
	PlanVersion string    `json:"plan_version"`
	Flow        string    `json:"flow"`
	Step        int       `json:"step"`
	Kind        string    `json:"kind"`
	Detail      string    `json:"detail"`
}

// Outcome is how an attempt ended.
type Outcome struct {
	Status Status
	NextAt time.Time // Retry and Waiting
	Flow   string    // the flow that failed or waits
	Step   int
	Error  string
	Trail  []Step
}

// Finish records the end of an attempt and its trail, in one transaction.
func (s *sqliteStore) Finish(ctx context.Context, seq int64, attempt int, planVersion string, o Outcome, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var next int64
		if !o.NextAt.IsZero() {
			next = nanos(o.NextAt)
		}
		if _, err := tx.Exec(`UPDATE events SET status = ?, next_at = ?, flow = ?, step = ?, error = ?, plan_version = ?, updated_at = ?
			WHERE seq = ?`, string(o.Status), next, o.Flow, o.Step, o.Error, planVersion, nanos(now), seq); err != nil {
			return err
		}
		if o.Status == Waiting {
			// Waiting is not failing: it does not use up the retry budget
			// (one attempt stays counted, so the next one settles writes).
			if _, err := tx.Exec(`UPDATE events SET attempts = min(attempts, 1) WHERE seq = ?`, seq); err != nil {
				return err
			}
		}
		for _, st := range o.Trail {
			if _, err := tx.Exec(`INSERT INTO trail (seq, at, attempt, plan_version, flow, step, kind, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				seq, nanos(st.At), attempt, planVersion, st.Flow, st.Step, st.Kind, st.Detail); err != nil {
				return err
			}
		}
		return nil
	})
}

// Trail returns what happened to an event, attempt by attempt.
func (s *sqliteStore) Trail(ctx context.Context, seq int64) ([]Step, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, attempt, plan_version, flow, step, kind, detail FROM trail WHERE seq = ? ORDER BY rowid`, seq)
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

// Requeue makes dead letters run again on the current plan: one event by
// seq, or every dead letter when seq is 0. It returns the seqs requeued.
func (s *sqliteStore) Requeue(ctx context.Context, seq int64, now time.Time) ([]int64, error) {
	var out []int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0] // the function may run twice (see commit)
		// A replay gets the whole retry budget again; one attempt stays
		// counted, so the next one settles writes that may have landed.
		q := `UPDATE events SET status = 'received', next_at = 0, error = '', attempts = min(attempts, 1), updated_at = ? WHERE status = 'dead'`
		args := []any{nanos(now)}
		if seq != 0 {
			q += ` AND seq = ?`
			args = append(args, seq)
		}
		rows, err := tx.Query(q+` RETURNING seq`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	return out, err
}

// Get returns the record an idempotency key produced (the engine's ledger).
func (s *sqliteStore) Get(ctx context.Context, key string) (erp.Record, bool, error) {
	var data string
	err := s.db.QueryRowContext(ctx, `SELECT record FROM effects WHERE key = ?`, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	rec, err := decodeRecord(data)
	return rec, err == nil, err
}

const putEffectSQL = `INSERT INTO effects (key, entity, record, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`

// Put records that key produced rec; durable when it returns. A second Put
// of the same key keeps the first record.
func (s *sqliteStore) Put(ctx context.Context, key, entity string, rec erp.Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("store: record of %s: %w", key, err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Stmt(s.putEffect).Exec(key, entity, string(b), nanos(time.Now()))
		return err
	})
}

// Effects counts the ledger's keys.
func (s *sqliteStore) Effects(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM effects`).Scan(&n)
	return n, err
}

func decodeRecord(data string) (erp.Record, error) {
	d := json.NewDecoder(strings.NewReader(data))
	d.UseNumber()
	var rec erp.Record
	if err := d.Decode(&rec); err != nil {
		return nil, fmt.Errorf("store: a ledger record is not JSON: %w", err)
	}
	return rec, nil
}

// Bucket is what happened to events in one interval: how many arrived, and
// how many ended their latest attempt there done, dead or due for a retry.
type Bucket struct {
	Start    time.Time `json:"start"`
	Received int       `json:"received"`
	Done     int       `json:"done"`
	Dead     int       `json:"dead"`
	Retry    int       `json:"retry"`
}

// Activity counts events in intervals of step from since to now, oldest
// first, for throughput and error charts. An event counts where it arrived
// and where its latest attempt ended.
func (s *sqliteStore) Activity(ctx context.Context, since, now time.Time, step time.Duration) ([]Bucket, error) {
	out, err := newBuckets(since, now, step)
	if err != nil {
		return nil, err
	}
	n := len(out)
	from, width := nanos(since), int64(step)
	count := func(query string, add func(b *Bucket, status string, n int)) error {
		rows, err := s.db.QueryContext(ctx, query, from, width, from)
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
			if i >= 0 && i < int64(n) {
				add(&out[i], status, c)
			}
		}
		return rows.Err()
	}
	if err := count(`SELECT (received_at - ?) / ?, '', count(*) FROM events WHERE received_at >= ? GROUP BY 1`,
		func(b *Bucket, _ string, c int) { b.Received += c }); err != nil {
		return nil, err
	}
	if err := count(`SELECT (updated_at - ?) / ?, status, count(*) FROM events WHERE updated_at >= ? AND status IN ('done', 'dead', 'retry') GROUP BY 1, 2`,
		addOutcome); err != nil {
		return nil, err
	}
	return out, nil
}

// newBuckets makes the intervals of step from since to now.
func newBuckets(since, now time.Time, step time.Duration) ([]Bucket, error) {
	if step <= 0 || !now.After(since) {
		return nil, fmt.Errorf("store: activity needs a positive step and since before now")
	}
	n := int((now.Sub(since) + step - 1) / step)
	if n > 10_000 {
		return nil, fmt.Errorf("store: activity over %d intervals; use a longer step", n)
	}
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * step)
	}
	return out, nil
}

// addOutcome counts c events that ended an attempt in status in b.
func addOutcome(b *Bucket, status string, c int) {
	switch Status(status) {
	case Done:
		b.Done += c
	case Dead:
		b.Dead += c
	case Retry:
		b.Retry += c
	}
}

// sortEvents orders events oldest first.
func sortEvents(evs []*Event) {
	slices.SortFunc(evs, func(a, b *Event) int { return cmp.Compare(a.Seq, b.Seq) })
}

// Decide ends an event's review: approved, it runs again (past its review
// steps, on the current plan); rejected, it ends skipped with the note. It
// fails with ErrNotFound when the event is not in review.
func (s *sqliteStore) Decide(ctx context.Context, seq int64, approve bool, note string, now time.Time) error {
	q := `UPDATE events SET status = 'skipped', error = ?, updated_at = ? WHERE seq = ? AND status = 'review'`
	args := []any{"rejected in review: " + note, nanos(now), seq}
	if approve {
		q = `UPDATE events SET status = 'received', approved = 1, next_at = 0, error = '', updated_at = ? WHERE seq = ? AND status = 'review'`
		args = []any{nanos(now), seq}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(q, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("event %d is not in review: %w", seq, ErrNotFound)
		}
		return nil
	})
}

// Charge is one charge a flow saw, for comparing a charge with its
// customer's history.
type Charge struct {
	Event    string // "<source>:<gateway event id>"
	Customer string
	Currency string
	Amount   int64 // minor units
	Created  time.Time
}

// ChargeHistory records c (once per event) and returns up to limit charges
// of the same customer in the same currency created before it, newest
// first, and those created within window after it (a duplicate that ran
// first). The record and the read are one transaction.
func (s *sqliteStore) ChargeHistory(ctx context.Context, c Charge, limit int, window time.Duration) (before, near []Charge, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		before, near = before[:0], near[:0]
		if _, err := tx.Exec(`INSERT INTO charges (event, customer, currency, amount, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event) DO NOTHING`,
			c.Event, c.Customer, c.Currency, c.Amount, nanos(c.Created)); err != nil {
			return err
		}
		read := func(q string, args ...any) ([]Charge, error) {
			rows, err := tx.Query(q, args...)
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
		var err error
		if before, err = read(`SELECT event, amount, created FROM charges WHERE customer = ? AND currency = ? AND created < ? AND event <> ?
			ORDER BY created DESC LIMIT ?`, c.Customer, c.Currency, nanos(c.Created), c.Event, limit); err != nil {
			return err
		}
		near, err = read(`SELECT event, amount, created FROM charges WHERE customer = ? AND currency = ? AND created >= ? AND created <= ? AND event <> ?
			ORDER BY created`, c.Customer, c.Currency, nanos(c.Created), nanos(c.Created.Add(window)), c.Event)
		return err
	})
	return before, near, err
}
