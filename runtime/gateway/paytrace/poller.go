package paytrace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Exporter is what the poller reads: Client.Export.
type Exporter interface {
	Export(ctx context.Context, first, last time.Time) ([]json.RawMessage, error)
}

// Inbox is where the poller puts events and keeps its cursor: flowd's
// store (store.Store has these methods).
type Inbox interface {
	Accept(ctx context.Context, source, gatewayID, typ string, payload []byte, received time.Time) (dup bool, err error)
	Cursor(ctx context.Context, name string) (string, bool, error)
	PutCursor(ctx context.Context, name, value string) error
}

// Source is the inbox source of PayTrace events: their ids are
// "paytrace:<transaction_id>".
const Source = "paytrace"

// CursorName is the store cursor of the export poller: the first day
// (YYYY-MM-DD, merchant's zone) the next poll exports.
const CursorName = "paytrace:export"

// Poller exports PayTrace's transactions into the inbox, one event each.
//
// Each poll exports the days from the cursor's to today (in windows of at
// most Window days, oldest first), accepts every transaction (the inbox
// drops those it holds already), and only then moves the cursor to
// Overlap days before today: a transaction PayTrace shows late (a
// settlement, a record that appears after the poll read its day) is found
// by the next poll. A restart re-reads from the cursor, so nothing is
// missed, and the inbox's unique ids make sure nothing is stored twice.
type Poller struct {
	Client Exporter
	Inbox  Inbox
	Loc    *time.Location // the merchant's zone: PayTrace's days and times are in it
	// Since is the first day exported when there is no cursor yet; zero:
	// today.
	Since   time.Time
	Overlap int // days before today the next poll exports again (default 1)
	Window  int // days one export request covers at most (default 31)
	Now     func() time.Time
	// Accepted is called for each new event (not for duplicates).
	Accepted func(ev *Event)
}

// Result is what one poll did.
type Result struct {
	From, To   time.Time // the days exported
	Accepted   int       // new events
	Duplicates int       // transactions the inbox held already
	Bad        []error   // transactions that could not be read (*BadTransaction)
}

// day is t's calendar day in loc, at midnight.
func day(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// Poll exports what is new and accepts it. An error reading or storing
// leaves the cursor where it was (the next poll reads the same days
// again); so do transactions that cannot be read, which are returned in
// Result.Bad and joined into the error, while the others are accepted.
func (p *Poller) Poll(ctx context.Context) (Result, error) {
	loc := p.Loc
	if loc == nil {
		return Result{}, errors.New("paytrace: the poller needs the merchant's time zone")
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	overlap, window := p.Overlap, p.Window
	if overlap <= 0 {
		overlap = 1
	}
	if window <= 0 {
		window = 31
	}
	today := day(now(), loc)
	from := today
	if !p.Since.IsZero() {
		from = day(p.Since, loc)
	}
	cur, ok, err := p.Inbox.Cursor(ctx, CursorName)
	if err != nil {
		return Result{}, fmt.Errorf("paytrace: reading the cursor: %w", err)
	}
	if ok {
		if from, err = time.ParseInLocation(time.DateOnly, cur, loc); err != nil {
			return Result{}, fmt.Errorf("paytrace: the cursor %s is %q, not a date", CursorName, cur)
		}
	}
	if from.After(today) {
		from = today
	}
	res := Result{From: from, To: today}
	for first := from; !first.After(today); first = first.AddDate(0, 0, window) {
		last := first.AddDate(0, 0, window-1)
		if last.After(today) {
			last = today
		}
		raws, err := p.Client.Export(ctx, first, last)
		if err != nil {
			return res, fmt.Errorf("paytrace: exporting %s to %s: %w", first.Format(DateLayout), last.Format(DateLayout), err)
		}
		evs := make([]*Event, 0, len(raws))
		for _, raw := range raws {
			ev, err := Normalize(raw, loc)
			if err != nil {
				res.Bad = append(res.Bad, err)
				continue
			}
			evs = append(evs, ev)
		}
		// Oldest first, so the inbox holds them in the order they happened.
		sort.SliceStable(evs, func(i, j int) bool {
			a, b := evs[i].Transaction.created, evs[j].Transaction.created
			if !a.Equal(b) {
				return a.Before(b)
			}
			return len(evs[i].ID) < len(evs[j].ID) || len(evs[i].ID) == len(evs[j].ID) && evs[i].ID < evs[j].ID
		})
		for _, ev := range evs {
			body, err := json.Marshal(ev)
			if err != nil {
				return res, err
			}
			dup, err := p.Inbox.Accept(ctx, Source, ev.ID, ev.Type, body, now())
			if err != nil {
				return res, fmt.Errorf("paytrace: storing transaction %s: %w", ev.ID, err)
			}
			if dup {
				res.Duplicates++
				continue
			}
			res.Accepted++
			if p.Accepted != nil {
				p.Accepted(ev)
			}
		}
	}
	if len(res.Bad) > 0 {
		return res, errors.Join(res.Bad...)
	}
	next := today.AddDate(0, 0, -overlap)
	if next.Before(from) {
		next = from
	}
	if err := p.Inbox.PutCursor(ctx, CursorName, next.Format(time.DateOnly)); err != nil {
		return res, fmt.Errorf("paytrace: moving the cursor: %w", err)
	}
	return res, nil
}
