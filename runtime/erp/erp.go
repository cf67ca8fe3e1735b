// Package erp defines what the runtime asks of an ERP driver, and the errors
// a driver returns so the executor can tell a retry from a dead letter.
//
// Field values crossing this interface are plain Go values: string, bool,
// int64, decimal.Decimal (amounts, never floats), time.Time (dates and
// instants) and nil. Records read back from the ERP hold the same kinds,
// decoded from the wire by the driver.
package erp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Record is one ERP record: field name -> value.
type Record map[string]any

// Op is what a write does.
type Op string

const (
	Create Op = "create" // insert; the record must not exist
	Upsert Op = "upsert" // insert, or update the record with the same natural key
	Update Op = "update" // update an existing record by its natural key
)

// Write is one record to write, once per idempotency key.
type Write struct {
	Op     Op
	Entity string // entity set, "SalesOrderHeadersV2"
	// Key is the flow's idempotency key. The driver stores it in the ERP
	// where the protocol has a place for it, so that Find can settle a
	// write whose outcome is unknown.
	Key    string
	Fields Record
}

// Journal is a balanced journal posted as one unit: the header first (the
// ERP assigns its number), then every line in one atomic batch, each line
// linked to the header by LinkField.
type Journal struct {
	Key          string
	HeaderEntity string // "" when the ERP has no header entity
	Header       Record
	LineEntity   string
	Lines        []Record
	// LinkField is the header field (and line field) that joins them,
	// "JournalBatchNumber" on F&O.
	LinkField string
}

// Querier is a Driver that lists records: the flows'
// `for x in erp.Entity where Field == value { ... }`.
type Querier interface {
	// Query returns every record of entity whose fields equal where (all
	// of them, in the ERP's order, reading every page).
	Query(ctx context.Context, entity string, where Record) ([]Record, error)
}

// Driver is an ERP. Implementations are safe for concurrent use.
type Driver interface {
	// Lookup returns the first record of entity whose fields equal where.
	Lookup(ctx context.Context, entity string, where Record) (Record, bool, error)
	// Write performs w and returns the record as the ERP stored it
	// (with generated numbers filled in).
	Write(ctx context.Context, w Write) (Record, error)
	// Find returns the record an earlier attempt of w produced, if the ERP
	// holds one: it settles writes in doubt (a crash or timeout after the
	// request was sent). A driver finds it by w's natural key when w sets
	// one, else by the idempotency key where the ERP stores it.
	Find(ctx context.Context, w Write) (Record, bool, error)
	// PostJournal posts j atomically and returns the header and lines as
	// stored. It is idempotent per j.Key: posting a journal again completes
	// one that is partly there (its header without lines) and writes
	// nothing for one that is complete.
	PostJournal(ctx context.Context, j Journal) (Record, []Record, error)
}

// Kind classifies a failure.
type Kind int

const (
	// Transient failures are retried: timeouts, connection errors, 429, 5xx.
	Transient Kind = iota
	// Permanent failures go to the dead-letter queue: validation errors,
	// other 4xx, and answers that break the protocol.
	Permanent
	// InDoubt means the request may have been applied: the executor must
	// settle it with Find before writing again.
	InDoubt
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case InDoubt:
		return "in doubt"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a driver failure.
type Error struct {
	Kind       Kind
	Status     int           // HTTP status, 0 when there was no answer
	Code       string        // the ERP's error code, when it sent one
	Message    string        // what the ERP or the transport said
	RetryAfter time.Duration // from a 429's Retry-After, 0 when absent
	Err        error         // the underlying error, if any
}

func (e *Error) Error() string {
	s := e.Kind.String() + " ERP error"
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil && e.Message == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err: an *Error's kind, InDoubt for a context
// deadline or cancellation (the request may have landed), Transient
// otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return InDoubt
	}
	return Transient
}

// RetryAfter returns how long the ERP asked the caller to wait, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Range is a condition of a query other than equality: Field compared
// with Value by Op ("!=", "<", "<=", ">", ">=").
type Range struct {
	Field string
	Op    string
	Value any
}

// RangeQuerier is a Querier that compares on the ERP's side: QueryRange
// returns the records of entity whose fields equal where and satisfy
// every range. A driver without it is queried by where, and the engine
// keeps the records that satisfy the ranges (Range.Match).
type RangeQuerier interface {
	QueryRange(ctx context.Context, entity string, where Record, ranges []Range) ([]Record, error)
}

// Match reports whether rec satisfies r. Amounts compare by value (an
// int64 with a decimal.Decimal), instants as instants, text byte-wise; a
// missing or null field satisfies only "!=" of a value.
func (r Range) Match(rec Record) (bool, error) {
	a, b := Plain(rec[r.Field]), Plain(r.Value)
	if a == nil || b == nil {
		return r.Op == "!=" && (a == nil) != (b == nil), nil
	}
	c, err := compare(a, b)
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", r.Field, r.Op, err)
	}
	switch r.Op {
	case "!=":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case ">=":
		return c >= 0, nil
	}
	return false, fmt.Errorf("%s: unknown comparison %q", r.Field, r.Op)
}

// compare orders two field values of one kind: -1, 0 or 1.
func compare(a, b any) (int, error) {
	if x, ok := amount(a); ok {
		if y, ok := amount(b); ok {
			return x.Cmp(y), nil
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), nil
		}
	case bool:
		if y, ok := b.(bool); ok && x == y {
			return 0, nil
		} else if ok {
			return 1, nil // only != tells booleans apart
		}
	}
	return 0, fmt.Errorf("cannot compare %T with %T", a, b)
}

func amount(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case decimal.Decimal:
		return x, true
	case int64:
		return decimal.NewFromInt(x), true
	case int:
		return decimal.NewFromInt(int64(x)), true
	case float64:
		return decimal.NewFromFloat(x), true
	}
	return decimal.Decimal{}, false
}
