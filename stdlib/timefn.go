package stdlib

import (
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones work on machines without a zoneinfo database

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// The range of CEL timestamps: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
const (
	minUnixSeconds = -62135596800
	maxUnixSeconds = 253402300799
)

// timeFunctions declares unix(), date(), format_time() and now(). Gateways
// send instants as Unix seconds; ERP date-only fields take the calendar date
// in the company's zone, sent as midnight UTC of that date.
func timeFunctions(cfg *config) []function {
	s, i, ts := cel.StringType, cel.IntType, cel.TimestampType
	return []function{
		{
			name: "unix",
			doc:  "Converts Unix seconds, as gateways send times, to a timestamp.",
			overloads: []overload{{
				id: "unix_int", args: []*cel.Type{i}, result: ts,
				impl: cel.UnaryBinding(func(v ref.Val) ref.Val {
					t, err := instant(v)
					if err != nil {
						return fail("unix", err)
					}
					return types.Timestamp{Time: t}
				}),
			}},
		},
		{
			name: "date",
			doc:  "Returns the calendar date of an instant in an IANA time zone, as midnight UTC of that date (how date-only ERP fields are sent).",
			overloads: []overload{
				{id: "date_int_string", args: []*cel.Type{i, s}, result: ts, impl: cel.BinaryBinding(cfg.date)},
				{id: "date_timestamp_string", args: []*cel.Type{ts, s}, result: ts, impl: cel.BinaryBinding(cfg.date)},
			},
		},
		{
			name: "format_time",
			doc:  "Formats an instant in an IANA time zone with a layout of YYYY, MM, DD, HH, mm, ss and SSS (milliseconds); other characters are copied: format_time(ts, \"YYYY-MM-DD\", \"UTC\").",
			overloads: []overload{
				{id: "format_time_int_string_string", args: []*cel.Type{i, s, s}, result: s, impl: cel.FunctionBinding(cfg.formatTime)},
				{id: "format_time_timestamp_string_string", args: []*cel.Type{ts, s, s}, result: s, impl: cel.FunctionBinding(cfg.formatTime)},
			},
		},
		{
			name:             "now",
			doc:              "Returns the current time. Not deterministic: never part of an idempotency key.",
			nondeterministic: true,
			overloads: []overload{{
				id: "now", args: []*cel.Type{}, result: ts,
				impl: cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					return types.Timestamp{Time: cfg.now().UTC()}
				}),
			}},
		},
	}
}

// instant reads Unix seconds or a timestamp as a time.Time in UTC.
func instant(v ref.Val) (time.Time, error) {
	switch x := v.(type) {
	case types.Int:
		if x < minUnixSeconds || x > maxUnixSeconds {
			return time.Time{}, fmt.Errorf("%d seconds is outside the timestamp range (years 1 to 9999)", int64(x))
		}
		return time.Unix(int64(x), 0).UTC(), nil
	case types.Timestamp:
		return x.Time, nil
	}
	return time.Time{}, fmt.Errorf("want int or timestamp, got %s", v.Type().TypeName())
}

func (c *config) date(at, zone ref.Val) ref.Val {
	t, err := instant(at)
	if err != nil {
		return fail("date", err)
	}
	z, ok := zone.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(zone)
	}
	loc, err := c.zones.load(string(z))
	if err != nil {
		return fail("date", err)
	}
	return types.Timestamp{Time: CalendarDate(t, loc)}
}

// CalendarDate returns the date of t in loc as midnight UTC of that date.
func CalendarDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (c *config) formatTime(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NewErr("format_time: want 3 arguments, got %d", len(args))
	}
	t, err := instant(args[0])
	if err != nil {
		return fail("format_time", err)
	}
	layout, ok1 := args[1].(types.String)
	zone, ok2 := args[2].(types.String)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(args[1])
	}
	loc, err := c.zones.load(string(zone))
	if err != nil {
		return fail("format_time", err)
	}
	return types.String(FormatTime(t.In(loc), string(layout)))
}

// layoutTokens are the tokens FormatTime replaces, longest first.
var layoutTokens = []struct {
	token  string
	render func(t time.Time) string
}{
	{"YYYY", func(t time.Time) string { return fmt.Sprintf("%04d", t.Year()) }},
	{"SSS", func(t time.Time) string { return fmt.Sprintf("%03d", t.Nanosecond()/int(time.Millisecond)) }},
	{"MM", func(t time.Time) string { return fmt.Sprintf("%02d", int(t.Month())) }},
	{"DD", func(t time.Time) string { return fmt.Sprintf("%02d", t.Day()) }},
	{"HH", func(t time.Time) string { return fmt.Sprintf("%02d", t.Hour()) }},
	{"mm", func(t time.Time) string { return fmt.Sprintf("%02d", t.Minute()) }},
	{"ss", func(t time.Time) string { return fmt.Sprintf("%02d", t.Second()) }},
}

// FormatTime renders t (in its own location) with a human layout: YYYY year,
// MM month, DD day, HH hour (00-23), mm minute, ss second, SSS millisecond.
// Every other character is copied as is, so "YYYY-MM-DDTHH:mm:ssZ" is an
// ISO 8601 UTC time when t is in UTC.
func FormatTime(t time.Time, layout string) string {
	var b strings.Builder
next:
	for i := 0; i < len(layout); {
		for _, tok := range layoutTokens {
			if strings.HasPrefix(layout[i:], tok.token) {
				b.WriteString(tok.render(t))
				i += len(tok.token)
				continue next
			}
		}
		b.WriteByte(layout[i])
		i++
	}
	return b.String()
}

// zoneCache keeps loaded time zones: loading one parses tzdata each time.
// It belongs to one Library instance, not the package.
type zoneCache struct{ m sync.Map } // zone name -> *time.Location

// load returns the named IANA zone. "UTC" is accepted; the empty name and
// "Local" are refused, because they would make a flow's result depend on
// the machine it runs on.
func (z *zoneCache) load(name string) (*time.Location, error) {
	if v, ok := z.m.Load(name); ok {
		return v.(*time.Location), nil
	}
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %q is not allowed (name an IANA zone such as \"Europe/Berlin\" or \"UTC\")", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	z.m.Store(name, loc)
	return loc, nil
}
