package dynsl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib/dynsl"
)

// Dialect is the SQL spoken to the database.
type Dialect int

const (
	// SQLServer is production SL: @p1 placeholders, TOP, UPDLOCK hints.
	SQLServer Dialect = iota
	// SQLite is the local stand-in with the SL schema that tests use: ?
	// placeholders, LIMIT, dates written as text.
	SQLite
)

func (d Dialect) String() string {
	if d == SQLite {
		return "sqlite"
	}
	return "sqlserver"
}

// DialectOf returns the dialect of a database/sql driver name.
func DialectOf(driverName string) (Dialect, error) {
	switch strings.ToLower(driverName) {
	case "sqlserver", "mssql", "azuresql":
		return SQLServer, nil
	case "sqlite", "sqlite3":
		return SQLite, nil
	}
	return 0, fmt.Errorf("dynsl: no SQL dialect for database driver %q (want sqlserver or sqlite)", driverName)
}

// emptyDate is SL's "no date": SL columns are NOT NULL, and the SL screens
// write 1900-01-01 where a date is blank.
var emptyDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

const sqliteTime = "2006-01-02 15:04:05"

// query builds one statement's text and arguments in a dialect.
type query struct {
	d    Dialect
	b    strings.Builder
	args []any
}

func (q *query) sql(s ...string) *query {
	for _, x := range s {
		q.b.WriteString(x)
	}
	return q
}

// arg appends a placeholder for v (already encoded).
func (q *query) arg(v any) *query {
	q.args = append(q.args, v)
	if q.d == SQLite {
		q.b.WriteByte('?')
	} else {
		q.b.WriteString("@p" + strconv.Itoa(len(q.args)))
	}
	return q
}

func (q *query) String() string { return q.b.String() }

// ident quotes a table or column name. Names come from the schema, never
// from event data; brackets work in SQL Server and SQLite alike.
func ident(name string) string { return "[" + name + "]" }

// encode converts a field value (already coerced to the column's kind) to
// a database/sql argument. Decimals travel as their exact text: SL's amount
// columns are float, and the server converts the text once.
func (d *Driver) encode(v any) any {
	switch x := v.(type) {
	case decimal.Decimal:
		return x.String()
	case time.Time:
		wall := time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), 0, 0, time.UTC) // smalldatetime: minutes
		if d.dialect == SQLite {
			return wall.Format(sqliteTime)
		}
		return wall
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// emptyValue is what SL stores in a column nobody set.
func emptyValue(c dynsl.Column) any {
	switch c.Type {
	case "Integer":
		return int64(0)
	case "Decimal":
		return decimal.Zero
	case "DateTime":
		return emptyDate
	}
	return ""
}

// coerce checks a flow value against an SL column and returns it as the
// column's Go kind: string, int64, decimal.Decimal or time.Time.
func coerce(c dynsl.Column, v any) (any, error) {
	switch c.Type {
	case "Text":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s is char(%d); got %T", c.Name, c.Size, v)
		}
		if n := len([]rune(s)); c.Size > 0 && n > c.Size {
			return nil, fmt.Errorf("%s is char(%d); %q has %d characters", c.Name, c.Size, s, n)
		}
		return s, nil
	case "Integer":
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case decimal.Decimal:
			if x.IsInteger() {
				return x.IntPart(), nil
			}
		}
		return nil, fmt.Errorf("%s is an integer; got %v", c.Name, v)
	case "Decimal":
		switch x := v.(type) {
		case decimal.Decimal:
			return x, nil
		case int64:
			return decimal.NewFromInt(x), nil
		case int:
			return decimal.NewFromInt(int64(x)), nil
		case string:
			if dd, err := decimal.NewFromString(x); err == nil {
				return dd, nil
			}
		}
		return nil, fmt.Errorf("%s is a decimal amount; got %T", c.Name, v)
	case "DateTime":
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			if t, err := parseTime(x); err == nil {
				return t, nil
			}
		}
		return nil, fmt.Errorf("%s is a date; got %v", c.Name, v)
	}
	return nil, fmt.Errorf("%s: unknown column type %q", c.Name, c.Type)
}

// decode converts what the database returned for a column to the record's
// Go kind. SL's char columns are padded with blanks; they come back trimmed.
// Float amounts become the shortest decimal that reads back as the same
// float (SL rounds amounts before it stores them).
func decode(c dynsl.Column, v any) (any, error) {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch c.Type {
	case "Text":
		switch x := v.(type) {
		case string:
			return strings.TrimRight(x, " "), nil
		case nil:
			return "", nil
		}
	case "Integer":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case nil:
			return int64(0), nil
		}
	case "Decimal":
		switch x := v.(type) {
		case float64:
			return decimal.NewFromFloat(x), nil
		case int64:
			return decimal.NewFromInt(x), nil
		case string:
			if d, err := decimal.NewFromString(strings.TrimSpace(x)); err == nil {
				return d, nil
			}
		case nil:
			return decimal.Zero, nil
		}
	case "DateTime":
		switch x := v.(type) {
		case time.Time:
			return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), 0, time.UTC), nil
		case string:
			if t, err := parseTime(x); err == nil {
				return t, nil
			}
		case nil:
			return emptyDate, nil
		}
	}
	return nil, fmt.Errorf("column %s (%s): cannot read %T %v", c.Name, c.Type, v, v)
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, sqliteTime, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

// Error classification.

// permanentSQLServer are SQL Server error numbers that the same write hits
// every time: key and constraint violations, NULL into a NOT NULL column,
// truncation, conversion, and a schema that does not match (unknown
// object or column, permission denied).
var permanentSQLServer = map[int32]bool{
	2627: true, 2601: true, 547: true, 515: true, 8152: true, 2628: true,
	245: true, 8114: true, 8115: true, 241: true, 242: true, 207: true, 208: true, 229: true, 230: true,
}

// sqliteConstraint is SQLite's primary result code for constraint
// violations; busy and locked are worth retrying.
const (
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteConstraint = 19
)

// phase is where in a transaction an error happened.
type phase int

const (
	beforeCommit phase = iota // nothing was committed: safe to run again
	atCommit                  // the commit was sent: it may have landed
)

// classify turns a database error into an *erp.Error.
func classify(err error, p phase, what string) error {
	if err == nil {
		return nil
	}
	var ee *erp.Error
	if errors.As(err, &ee) {
		return err
	}
	kind := erp.Transient
	if p == atCommit {
		kind = erp.InDoubt
	}
	code := ""
	var sqlServer interface{ SQLErrorNumber() int32 }
	var sqlite interface{ Code() int }
	switch {
	case errors.As(err, &sqlServer):
		n := sqlServer.SQLErrorNumber()
		code = "mssql-" + strconv.Itoa(int(n))
		if permanentSQLServer[n] {
			kind = erp.Permanent
		}
	case errors.As(err, &sqlite):
		n := sqlite.Code()
		code = "sqlite-" + strconv.Itoa(n)
		switch n & 0xff {
		case sqliteBusy, sqliteLocked:
		case sqliteConstraint:
			kind = erp.Permanent
		default:
			if p == beforeCommit {
				kind = erp.Permanent // a statement SQLite refuses (no such table, ...)
			}
		}
	}
	// Anything else (a timeout, a dropped connection, driver.ErrBadConn,
	// a server error not known to be permanent) is Transient before the
	// commit, since the server rolls back a transaction it never saw
	// committed, and InDoubt at the commit.
	return &erp.Error{Kind: kind, Code: code, Message: "dynsl: " + what + ": " + err.Error(), Err: err}
}

// invalid is a write SL's screens would refuse: permanent.
func invalid(format string, args ...any) error {
	return &erp.Error{Kind: erp.Permanent, Message: "dynsl: " + fmt.Sprintf(format, args...)}
}
