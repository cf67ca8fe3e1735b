package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Alert kinds: what the people running flowd are told about without
// watching logs.
const (
	AlertDeadLetter   = "dead_letter"   // an event will not run again by itself
	AlertRecon        = "recon"         // a payout does not reconcile
	AlertReloadFailed = "reload_failed" // a saved flow does not compile; the old plan runs
	AlertERPThrottled = "erp_throttled" // the ERP answered 429
	AlertReview       = "review"        // a flow held an event for a person to decide
	// AlertPayTraceUnreadable: a PayTrace transaction the poller cannot
	// read holds its cursor back (its own kind, so it cannot crowd out
	// dead letters).
	AlertPayTraceUnreadable = "paytrace_unreadable"
	alertSuppressed         = "alerts_dropped" // internal: the summary of what the limit held back
)

// Alert is one notification.
type Alert struct {
	Kind  string    `json:"kind"`
	Title string    `json:"title"`
	Text  string    `json:"text"`
	Event string    `json:"event,omitempty"` // the event it concerns, "stripe:evt_..."
	At    time.Time `json:"at"`
}

// Notifier delivers alerts. Implementations are safe for concurrent use.
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// WebhookNotifier posts each alert as JSON to an incoming-webhook URL, in
// the {"text": ...} shape chat tools (Slack, Mattermost, Teams' workflow
// webhooks, Rocket.Chat) accept, with the alert's fields beside it for
// receivers that read them.
type WebhookNotifier struct {
	URL    string
	Client *http.Client // nil = a client with a 10 s timeout
}

// Notify implements Notifier.
func (n *WebhookNotifier) Notify(ctx context.Context, a Alert) error {
	body, err := json.Marshal(map[string]any{
		"text":  "*flowd: " + a.Title + "*\n" + a.Text,
		"kind":  a.Kind,
		"title": a.Title,
		"event": a.Event,
		"at":    a.At.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return err
	}
	// The URL is the credential of an incoming webhook: no error may
	// carry it into the log.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("alert webhook: the URL does not parse")
	}
	req.Header.Set("Content-Type", "application/json")
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("alert webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("alert webhook: HTTP %d", resp.StatusCode)
	}
	return nil
}

// alerter sends alerts in the background, at most Burst of one kind per
// Window; what the limit holds back is counted and reported in one summary
// when the window ends, so a flood of dead letters is one message, not a
// thousand.
type alerter struct {
	n      Notifier
	log    *slog.Logger
	burst  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	windows map[string]*alertWindow
	closed  bool
	queue   chan Alert
	done    chan struct{}
}

type alertWindow struct {
	start      time.Time
	sent       int
	suppressed int
}

func newAlerter(n Notifier, burst int, window time.Duration, log *slog.Logger) *alerter {
	if burst <= 0 {
		burst = 5
	}
	if window <= 0 {
		window = 10 * time.Minute
	}
	a := &alerter{n: n, log: log, burst: burst, window: window, now: time.Now,
		windows: map[string]*alertWindow{}, queue: make(chan Alert, 256), done: make(chan struct{})}
	go a.run()
	return a
}

// fire queues an alert unless its kind is over the limit; it never blocks.
func (a *alerter) fire(al Alert) {
	if a == nil {
		return
	}
	now := a.now()
	al.At = now
	a.mu.Lock()
	w := a.windows[al.Kind]
	var summary *Alert
	if w == nil || now.Sub(w.start) >= a.window {
		if w != nil && w.suppressed > 0 {
			s := a.summary(al.Kind, w, now)
			summary = &s
		}
		w = &alertWindow{start: now}
		a.windows[al.Kind] = w
	}
	send := w.sent < a.burst
	if send {
		w.sent++
	} else {
		w.suppressed++
	}
	a.mu.Unlock()
	if summary != nil {
		a.enqueue(*summary)
	}
	if send {
		a.enqueue(al)
	}
}

func (a *alerter) enqueue(al Alert) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	select {
	case a.queue <- al:
	default:
		a.log.Warn("alert dropped: the notifier is behind", "kind", al.Kind, "title", al.Title)
	}
}

func (a *alerter) run() {
	defer close(a.done)
	tick := time.NewTicker(min(a.window/4, time.Minute))
	defer tick.Stop()
	for {
		select {
		case al, ok := <-a.queue:
			if !ok {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			if err := a.n.Notify(ctx, al); err != nil {
				a.log.Warn("alert not delivered", "kind", al.Kind, "title", al.Title, "err", err)
			}
			cancel()
		case <-tick.C:
			a.flush()
		}
	}
}

// flush sends the summary of every window that ended with alerts held
// back, so a burst that stops is still reported in full.
func (a *alerter) flush() {
	now := a.now()
	var summaries []Alert
	a.mu.Lock()
	for kind, w := range a.windows {
		if now.Sub(w.start) >= a.window && w.suppressed > 0 {
			summaries = append(summaries, a.summary(kind, w, now))
			delete(a.windows, kind)
		}
	}
	a.mu.Unlock()
	for _, s := range summaries {
		a.enqueue(s)
	}
}

func (a *alerter) summary(kind string, w *alertWindow, now time.Time) Alert {
	return Alert{Kind: alertSuppressed, At: now, Title: fmt.Sprintf("%d more %s alerts were held back", w.suppressed, kind),
		Text: fmt.Sprintf("At most %d %s alerts are sent per %s; see the console for all of them.", a.burst, kind, a.window)}
}

// close delivers what is queued and stops.
func (a *alerter) close() {
	if a == nil {
		return
	}
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	<-a.done
}
