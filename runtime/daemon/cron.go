package daemon

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cronSpec is a parsed five-field cron spec: minute, hour, day of month,
// month, day of week (0 or 7 is Sunday), each a list of *, N, N-M, with an
// optional /step. As in Vixie cron, when both day fields are restricted a
// day matches either. Due times are wall-clock times in loc.
type cronSpec struct {
	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domAny, dowAny                bool
	loc                           *time.Location
}

var cronFields = [5]struct {
	name   string
	lo, hi int
}{{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 7}}

// parseCron parses spec; times are read in loc (UTC when nil).
func parseCron(spec string, loc *time.Location) (*cronSpec, error) {
	if loc == nil {
		loc = time.UTC
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return nil, fmt.Errorf("cron spec %q: %d fields, want 5 (minute hour day-of-month month day-of-week)", spec, len(fields))
	}
	var bits [5]uint64
	for i, f := range fields {
		b, err := parseCronField(f, cronFields[i].lo, cronFields[i].hi)
		if err != nil {
			return nil, fmt.Errorf("cron spec %q: %s field: %w", spec, cronFields[i].name, err)
		}
		bits[i] = b
	}
	c := &cronSpec{minute: bits[0], hour: bits[1], dom: bits[2], month: bits[3], dow: bits[4], loc: loc,
		domAny: fields[2] == "*", dowAny: fields[4] == "*"}
	if c.dow&(1<<7) != 0 { // 7 is Sunday too
		c.dow |= 1
	}
	return c, nil
}

func parseCronField(f string, lo, hi int) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(f, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > hi {
				return 0, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		from, to := lo, hi
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = cronNumber(a, lo, hi); err != nil {
				return 0, err
			}
			to = from
			if isRange {
				if to, err = cronNumber(b, lo, hi); err != nil {
					return 0, err
				}
				if to < from {
					return 0, fmt.Errorf("range %q runs backwards", rng)
				}
			} else if hasStep {
				to = hi // "5/15": from 5 on
			}
		}
		for v := from; v <= to; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

func cronNumber(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, lo, hi)
	}
	return n, nil
}

func (c *cronSpec) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<t.Day()) != 0
	dow := c.dow&(1<<int(t.Weekday())) != 0
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}

// next returns the first due time strictly after t, or the zero time when
// none comes within five years (a spec such as "0 0 31 2 *").
func (c *cronSpec) next(t time.Time) time.Time {
	t = t.In(c.loc)
	limit := t.AddDate(5, 0, 0)
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, c.loc).Add(time.Minute)
	for t.Before(limit) {
		switch {
		case c.month&(1<<int(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, c.loc)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, c.loc)
		case c.hour&(1<<t.Hour()) == 0:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, c.loc)
		case c.minute&(1<<t.Minute()) == 0:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// latest returns the last due time in (after, now] and how many there
// are (none: zero, 0).
func (c *cronSpec) latest(after, now time.Time) (last time.Time, n int) {
	for t := c.next(after); !t.IsZero() && !t.After(now); t = c.next(t) {
		last, n = t, n+1
	}
	return last, n
}
