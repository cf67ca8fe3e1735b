package paypal

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// Transaction Search limits.
const (
	// MaxWindow is the longest date range one search may cover.
	MaxWindow = 31 * 24 * time.Hour
	// searchPageSize is the items asked per page (PayPal allows 500; 200
	// keeps a page of all fields well under maxAPIResponse).
	searchPageSize = 200
	// maxSearchPages bounds the pages read for one window: PayPal answers
	// at most 10,000 items per search, 50 pages of 200.
	maxSearchPages = 100
)

// TransactionQuery selects transactions for Transactions.
type TransactionQuery struct {
	Start, End      time.Time // [Start, End); any length, read in windows of MaxWindow
	TransactionType string    // an event code such as "T0006"; "" for all
	Currency        string    // "" for all
}

// Transactions lists the account's transactions (GET
// /v1/reporting/transactions with fields=all), splitting the range into
// windows of at most 31 days, oldest first, and reading every page of each
// (page 1 to total_pages) as the caller iterates. Each item is one
// transaction_detail, with Transaction Search's "+0000" time offsets
// rewritten as RFC 3339 ("+00:00") so that they read as timestamps. A
// transaction at the instant two windows share is yielded once. It stops
// at the first error, which it yields with a nil item; breaking out
// of the loop stops it between items.
func (c *Client) Transactions(ctx context.Context, q TransactionQuery) iter.Seq2[map[string]any, error] {
	return func(yield func(map[string]any, error) bool) {
		if q.Start.IsZero() || q.End.IsZero() || !q.Start.Before(q.End) {
			yield(nil, fmt.Errorf("paypal: transaction search: the range %s to %s is empty", stamp(q.Start), stamp(q.End)))
			return
		}
		seen := map[string]bool{} // transaction ids, against window overlaps
		for from := q.Start; from.Before(q.End); from = from.Add(MaxWindow) {
			to := from.Add(MaxWindow)
			if to.After(q.End) {
				to = q.End
			}
			for page, pages := 1, 1; page <= pages; page++ {
				p, err := c.searchPage(ctx, q, from, to, page)
				if err != nil {
					yield(nil, fmt.Errorf("paypal: transaction search %s to %s, page %d: %w", stamp(from), stamp(to), page, err))
					return
				}
				if pages = p.TotalPages; pages > maxSearchPages {
					yield(nil, fmt.Errorf("paypal: transaction search %s to %s: %w: %d pages (at most %d); search shorter ranges",
						stamp(from), stamp(to), ErrUnexpectedResponse, pages, maxSearchPages))
					return
				}
				for _, item := range p.Details {
					if id := transactionID(item); id != "" {
						if seen[id] {
							continue
						}
						seen[id] = true
					}
					if !yield(item, nil) {
						return
					}
				}
			}
		}
	}
}

// transactionID is an item's transaction_info.transaction_id, or "".
func transactionID(item map[string]any) string {
	info, _ := item["transaction_info"].(map[string]any)
	id, _ := info["transaction_id"].(string)
	return id
}

// searchPage is one page of a search_response.
type searchPage struct {
	Details    []map[string]any `json:"transaction_details"`
	Page       int              `json:"page"`
	TotalPages int              `json:"total_pages"`
}

func (c *Client) searchPage(ctx context.Context, q TransactionQuery, from, to time.Time, page int) (*searchPage, error) {
	v := url.Values{
		"start_date": {stamp(from)},
		"end_date":   {stamp(to)},
		"fields":     {"all"},
		"page_size":  {strconv.Itoa(searchPageSize)},
		"page":       {strconv.Itoa(page)},
	}
	if q.TransactionType != "" {
		v.Set("transaction_type", q.TransactionType)
	}
	if q.Currency != "" {
		v.Set("transaction_currency", q.Currency)
	}
	var p searchPage
	if err := c.do(ctx, "GET", transactionsPath+"?"+v.Encode(), nil, nil, &p); err != nil {
		return nil, err
	}
	if p.TotalPages < 0 || (len(p.Details) > 0 && p.TotalPages < page) {
		return nil, fmt.Errorf("%w: page %d of %d", ErrUnexpectedResponse, page, p.TotalPages)
	}
	for i, item := range p.Details {
		if item == nil {
			return nil, fmt.Errorf("%w: transaction_details[%d] is null", ErrUnexpectedResponse, i)
		}
		normalizeTimes(item)
	}
	return &p, nil
}

// stamp formats a search bound as PayPal takes it: RFC 3339 in UTC,
// whole seconds.
func stamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// searchTime is Transaction Search's time format: RFC 3339 but for the
// offset, written without a colon ("2024-02-10T00:01:56+0000").
var searchTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d{4}$`)

// normalizeTimes rewrites every such time in v, in place, as RFC 3339.
func normalizeTimes(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && searchTime.MatchString(s) {
				x[k] = s[:len(s)-2] + ":" + s[len(s)-2:]
				continue
			}
			normalizeTimes(e)
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok && searchTime.MatchString(s) {
				x[i] = s[:len(s)-2] + ":" + s[len(s)-2:]
				continue
			}
			normalizeTimes(e)
		}
	}
}

// List serves a flow's `for tx in paypal.transactions(start_date: ...,
// end_date: ...)`: it reads every transaction of the range. It implements
// the runtime's engine.Lister. start_date and end_date are times (a flow's
// timestamps) or RFC 3339 strings; transaction_type and
// transaction_currency are optional strings. A failure worth retrying says
// so through a Transient() bool method.
func (c *Client) List(ctx context.Context, list string, args map[string]any) ([]map[string]any, error) {
	if list != "transactions" {
		return nil, fmt.Errorf("paypal: no list %q", list)
	}
	var q TransactionQuery
	var err error
	if q.Start, err = timeArg(args, "start_date"); err != nil {
		return nil, err
	}
	if q.End, err = timeArg(args, "end_date"); err != nil {
		return nil, err
	}
	q.TransactionType, _ = args["transaction_type"].(string)
	q.Currency, _ = args["transaction_currency"].(string)
	var out []map[string]any
	for item, err := range c.Transactions(ctx, q) {
		if err != nil {
			return nil, listError{err}
		}
		out = append(out, item)
	}
	return out, nil
}

func timeArg(args map[string]any, name string) (time.Time, error) {
	switch v := args[name].(type) {
	case time.Time:
		return v, nil
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, nil
		}
	case nil:
		return time.Time{}, fmt.Errorf("paypal: list transactions: %s is missing", name)
	}
	return time.Time{}, fmt.Errorf("paypal: list transactions: %s is %v, not a time", name, args[name])
}

// listError carries whether a list failure is transient.
type listError struct{ error }

func (e listError) Unwrap() error   { return e.error }
func (e listError) Transient() bool { return Transient(e.error) }
