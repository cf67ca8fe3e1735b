package daemon

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/recon"
	"github.com/flowhq/flow/runtime/store"
)

//go:embed console
var consoleFiles embed.FS

// The console is a single page served by flowd. Its shell (HTML, script,
// style) holds no data and is served to anyone, so that it can show the
// sign-in form; everything it shows comes from the admin API, which needs
// the admin token as a bearer token or as the session cookie signing in
// sets.
const (
	sessionCookie = "flowd_session"
	sessionTTL    = 12 * time.Hour
	// consoleHeader must accompany a state-changing request authenticated
	// by the cookie: a form on another site cannot set it, so the cookie
	// alone cannot replay a dead letter (SameSite=Strict is the first line).
	consoleHeader = "X-Flowd-Console"
)

func (d *Daemon) consoleRoutes(mux *http.ServeMux) {
	static, _ := fs.Sub(consoleFiles, "console")
	files := http.StripPrefix("/console/", http.FileServerFS(static))
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
	})
	mux.Handle("GET /console/", securityHeaders(files))
	mux.HandleFunc("POST /console/login", d.login)
	mux.HandleFunc("POST /console/logout", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("GET /admin/payouts", d.admin(d.payouts))
	mux.Handle("GET /admin/plan", d.admin(d.planInfo))
	mux.Handle("GET /admin/stats", d.admin(d.stats))
	mux.Handle("GET /admin/review", d.admin(func(w http.ResponseWriter, r *http.Request) { d.list(w, r, store.Review) }))
	mux.Handle("GET /admin/aggregates/{name}", d.admin(d.aggregateEntries))
	mux.Handle("GET /admin/aggregates/{name}/{key}", d.admin(d.aggregateEntry))
	mux.Handle("POST /admin/review/{id}/approve", d.admin(d.decide(true)))
	mux.Handle("POST /admin/review/{id}/reject", d.admin(d.decide(false)))
}

// aggregateEntries lists an aggregate's entries, newest first (?limit=N).
func (d *Daemon) aggregateEntries(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	entries, err := d.store.AggregateEntries(r.Context(), r.PathValue("name"), limit)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	if entries == nil {
		entries = []store.AggregateEntry{}
	}
	writeJSON(w, http.StatusOK, entries)
}

// aggregateEntry is one entry of an aggregate, 404 when no update made it.
func (d *Daemon) aggregateEntry(w http.ResponseWriter, r *http.Request) {
	name, key := r.PathValue("name"), r.PathValue("key")
	v, ok, err := d.store.Aggregate(r.Context(), name, key)
	switch {
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no entry " + key + " of aggregate " + name})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"key": key, "value": json.RawMessage(v)})
	}
}

// decide ends an event's review: approved, it runs again past its review
// steps; rejected, it ends skipped with the note ({"note": "..."}).
func (d *Daemon) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Note string `json:"note"`
		}
		if r.ContentLength != 0 {
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": `send {"note": "..."} or nothing`})
				return
			}
		}
		ev, err := d.store.Event(r.Context(), r.PathValue("id"))
		if err != nil {
			writeStoreError(w, err)
			return
		}
		if ev.Status != store.Review {
			writeJSON(w, http.StatusConflict, map[string]any{"error": "event " + ev.ID + " is " + string(ev.Status) + ", not in review"})
			return
		}
		note := strings.TrimSpace(in.Note)
		if !approve && note == "" {
			note = "no reason given"
		}
		if err := d.store.Decide(r.Context(), ev.Seq, approve, note, time.Now()); err != nil {
			writeStoreError(w, err)
			return
		}
		decision := "rejected"
		if approve {
			decision = "approved"
			d.sched.requeued()
		}
		d.log.Info("review decided", "event", ev.ID, "decision", decision, "note", note, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusOK, map[string]any{"event": ev.ID, "decision": decision})
	}
}

// securityHeaders keeps the console's page from being framed or from
// loading anything but its own files.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// login exchanges the admin token for a session cookie.
func (d *Daemon) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": `send {"token": "..."}`})
		return
	}
	tok := d.cfg.AdminToken
	if tok == "" || subtle.ConstantTimeCompare([]byte(in.Token), []byte(tok)) != 1 {
		time.Sleep(250 * time.Millisecond) // a guess costs time
		d.log.Warn("console sign-in refused", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "that is not the admin token"})
		return
	}
	exp := time.Now().Add(sessionTTL)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: d.session(exp), Path: "/", Expires: exp,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// session is a cookie value valid until exp: the expiry and its MAC under
// the admin token, so a new token ends every session.
func (d *Daemon) session(exp time.Time) string {
	s := strconv.FormatInt(exp.Unix(), 10)
	return s + "." + hex.EncodeToString(d.sessionMAC(s))
}

func (d *Daemon) sessionMAC(exp string) []byte {
	m := hmac.New(sha256.New, []byte(d.cfg.AdminToken))
	m.Write([]byte("flowd console session\x00" + exp))
	return m.Sum(nil)
}

// validSession reports whether the request carries an unexpired session
// cookie signed with the current token.
func (d *Daemon) validSession(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	exp, mac, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || time.Now().Unix() > unix {
		return false
	}
	got, err := hex.DecodeString(mac)
	return err == nil && hmac.Equal(got, d.sessionMAC(exp))
}

func (d *Daemon) payouts(w http.ResponseWriter, r *http.Request) {
	rows, err := recon.Payouts(r.Context(), d.store, r.URL.Query().Get("payout"))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	if rows == nil {
		rows = []*recon.Row{}
	}
	writeJSON(w, http.StatusOK, rows)
}

// planInfo is the running plan (params, tables, flows and their steps; never
// a secret's value, only its name) and the last reload's outcome.
func (d *Daemon) planInfo(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"version": d.Version()}
	if p := d.program(); p != nil {
		out["plan"] = p.Plan
	}
	if ri := d.reloaded.Load(); ri != nil {
		out["last_reload"] = ri
	}
	writeJSON(w, http.StatusOK, out)
}

// stats is the event counts by status and, per interval, what arrived and
// how attempts ended: ?minutes=60&step=1m by default.
func (d *Daemon) stats(w http.ResponseWriter, r *http.Request) {
	minutes, err := strconv.Atoi(r.URL.Query().Get("minutes"))
	if err != nil || minutes <= 0 || minutes > 7*24*60 {
		minutes = 60
	}
	step, err := time.ParseDuration(r.URL.Query().Get("step"))
	if err != nil || step < time.Second {
		step = time.Minute
	}
	now := time.Now()
	series, err := d.store.Activity(r.Context(), now.Add(-time.Duration(minutes)*time.Minute), now, step)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	counts, err := d.store.Counts(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"counts": counts, "step": step.String(), "series": series})
}
