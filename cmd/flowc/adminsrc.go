package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/recon"
	"github.com/flowhq/flow/runtime/store"
)

// adminSource is what the admin commands read and act on: flowd's store
// directly (--store), or a running flowd's admin API (--url), which is how
// they reach a flowd on another machine or one of several replicas.
type adminSource interface {
	events(ctx context.Context, status store.Status, limit int) ([]*store.Event, error)
	event(ctx context.Context, id string) (*store.Event, []store.Step, error)
	// replay requeues one dead letter, or every one when id is "".
	replay(ctx context.Context, id string) (int, error)
	decide(ctx context.Context, id string, approve bool, note string) error
	payouts(ctx context.Context, only string) ([]*recon.Row, error)
	aggregateEntries(ctx context.Context, name string, limit int) ([]store.AggregateEntry, error)
	aggregate(ctx context.Context, name, key string) (json.RawMessage, bool, error)
	close()
}

// localSource works on the store's database.
type localSource struct{ st *store.Store }

func (l localSource) events(ctx context.Context, status store.Status, limit int) ([]*store.Event, error) {
	return l.st.Events(ctx, store.Filter{Status: status, Limit: limit})
}

func (l localSource) event(ctx context.Context, id string) (*store.Event, []store.Step, error) {
	ev, err := l.st.Event(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	trail, err := l.st.Trail(ctx, ev.Seq)
	return ev, trail, err
}

func (l localSource) replay(ctx context.Context, id string) (int, error) {
	var seq int64
	if id != "" {
		ev, err := l.st.Event(ctx, id)
		if err != nil {
			return 0, err
		}
		if ev.Status != store.Dead {
			return 0, fmt.Errorf("event %s is %s, not a dead letter", id, ev.Status)
		}
		seq = ev.Seq
	}
	seqs, err := l.st.Requeue(ctx, seq, time.Now())
	return len(seqs), err
}

func (l localSource) decide(ctx context.Context, id string, approve bool, note string) error {
	ev, err := l.st.Event(ctx, id)
	if err != nil {
		return err
	}
	if ev.Status != store.Review {
		return fmt.Errorf("event %s is %s, not in review", id, ev.Status)
	}
	return l.st.Decide(ctx, ev.Seq, approve, note, time.Now())
}

func (l localSource) payouts(ctx context.Context, only string) ([]*recon.Row, error) {
	return recon.Payouts(ctx, l.st, only)
}

func (l localSource) aggregateEntries(ctx context.Context, name string, limit int) ([]store.AggregateEntry, error) {
	return l.st.AggregateEntries(ctx, name, limit)
}

func (l localSource) aggregate(ctx context.Context, name, key string) (json.RawMessage, bool, error) {
	v, ok, err := l.st.Aggregate(ctx, name, key)
	return json.RawMessage(v), ok, err
}

func (l localSource) close() { l.st.Close() }

// remoteSource calls a flowd's admin API with its admin token.
type remoteSource struct {
	base, token string
	client      *http.Client
}

func (r remoteSource) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("flowd at %s: %w", r.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("flowd at %s: %w", r.base, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("flowd: %s (HTTP %d)", e.Error, resp.StatusCode)
		}
		return fmt.Errorf("flowd: HTTP %d", resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("flowd answered something that is not the admin API's JSON: %w", err)
	}
	return nil
}

func (r remoteSource) events(ctx context.Context, status store.Status, limit int) ([]*store.Event, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	path := "/admin/events?"
	switch status {
	case store.Dead:
		path = "/admin/dlq?"
	case store.Review:
		path = "/admin/review?"
	case "":
	default:
		q.Set("status", string(status))
	}
	var evs []*store.Event
	return evs, r.call(ctx, http.MethodGet, path+q.Encode(), nil, &evs)
}

func (r remoteSource) event(ctx context.Context, id string) (*store.Event, []store.Step, error) {
	var out struct {
		Event *store.Event `json:"event"`
		Trail []store.Step `json:"trail"`
	}
	if err := r.call(ctx, http.MethodGet, "/admin/events/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, nil, err
	}
	if out.Event == nil {
		return nil, nil, errors.New("flowd answered without the event")
	}
	return out.Event, out.Trail, nil
}

func (r remoteSource) replay(ctx context.Context, id string) (int, error) {
	path := "/admin/dlq/replay"
	if id != "" {
		path = "/admin/dlq/" + url.PathEscape(id) + "/replay"
	}
	var out struct {
		Requeued int `json:"requeued"`
	}
	return out.Requeued, r.call(ctx, http.MethodPost, path, nil, &out)
}

func (r remoteSource) decide(ctx context.Context, id string, approve bool, note string) error {
	what := "reject"
	if approve {
		what = "approve"
	}
	return r.call(ctx, http.MethodPost, "/admin/review/"+url.PathEscape(id)+"/"+what, map[string]string{"note": note}, nil)
}

func (r remoteSource) payouts(ctx context.Context, only string) ([]*recon.Row, error) {
	var rows []*recon.Row
	path := "/admin/payouts"
	if only != "" {
		path += "?payout=" + url.QueryEscape(only)
	}
	return rows, r.call(ctx, http.MethodGet, path, nil, &rows)
}

func (r remoteSource) aggregateEntries(ctx context.Context, name string, limit int) ([]store.AggregateEntry, error) {
	var out []store.AggregateEntry
	return out, r.call(ctx, http.MethodGet, "/admin/aggregates/"+url.PathEscape(name)+"?limit="+strconv.Itoa(limit), nil, &out)
}

func (r remoteSource) aggregate(ctx context.Context, name, key string) (json.RawMessage, bool, error) {
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	err := r.call(ctx, http.MethodGet, "/admin/aggregates/"+url.PathEscape(name)+"/"+url.PathEscape(key), nil, &out)
	if err != nil && strings.Contains(err.Error(), "(HTTP 404)") {
		return nil, false, nil
	}
	return out.Value, err == nil, err
}

func (remoteSource) close() {}

// adminFlags are the flags every admin command takes to find flowd.
type adminFlags struct {
	store, url, tokenFile *string
}

func addAdminFlags(fs interface {
	String(name, value, usage string) *string
}) adminFlags {
	return adminFlags{
		store:     fs.String("store", "./flow.db", "flowd's store (SQLite), read directly"),
		url:       fs.String("url", os.Getenv("FLOWD_URL"), "a running flowd's address, e.g. http://127.0.0.1:8787, used through its admin API instead of --store (default $FLOWD_URL)"),
		tokenFile: fs.String("token-file", "", "--url: a file holding the admin token (default $FLOWD_ADMIN_TOKEN)"),
	}
}

// open returns the source the flags name: the admin API when --url is set,
// else the store, which must exist (an admin command never creates an
// empty store by mistake).
func (f adminFlags) open(cmd string, stderr io.Writer) (adminSource, bool) {
	if u := strings.TrimRight(*f.url, "/"); u != "" {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			fmt.Fprintf(stderr, "flowc %s: --url %q: want http://HOST:PORT or https://...\n", cmd, u)
			return nil, false
		}
		token := os.Getenv("FLOWD_ADMIN_TOKEN")
		if *f.tokenFile != "" {
			b, err := os.ReadFile(*f.tokenFile)
			if err != nil {
				fmt.Fprintf(stderr, "flowc %s: %v\n", cmd, err)
				return nil, false
			}
			token = strings.TrimSpace(string(b))
		}
		return remoteSource{base: u, token: token, client: &http.Client{Timeout: 30 * time.Second}}, true
	}
	st, ok := openStore(*f.store, stderr, cmd)
	if !ok {
		return nil, false
	}
	return localSource{st}, true
}
