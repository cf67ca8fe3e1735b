package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	bcschema "github.com/flowhq/flow/stdlib/bc"
	"github.com/flowhq/flow/stdlib/d365fo"
	dvschema "github.com/flowhq/flow/stdlib/dataverse"
	"github.com/flowhq/flow/stdlib/schema"
)

// Config configures a sandbox.
type Config struct {
	// Dialect is the ERP API served: "" or "d365fo" for F&O's OData under
	// /data, "bc" for Business Central's API v2.0 under /api/v2.0 (see
	// the package doc), "dataverse" for the Dataverse Web API under
	// /api/data/v9.2 (dataverse.go).
	Dialect  string
	Path     string            // SQLite file; "" = a private temporary database
	Entities *schema.Connector // entity sets to serve; nil = d365fo.Default() (bc.Default() for "bc")
	// Company is F&O's default company (dataAreaId; "" = "usmf"), or the
	// name of BC's one company ("" = "CRONUS USA, Inc.").
	Company string

	// Credentials the token endpoint accepts; an empty value accepts any.
	Tenant       string
	ClientID     string
	ClientSecret string
	TokenTTL     time.Duration // lifetime of an access token; 0 = one hour

	PageSize int              // server-driven page size; 0 = 10,000 as F&O
	Faults   Faults           // initial faults, see SetFaults
	Seed     uint64           // seed of the fault generator
	Logger   *slog.Logger     // nil = no logging
	Now      func() time.Time // clock for token expiry; nil = time.Now

	// BCNotifyDelay is how long the bc dialect coalesces changes before it
	// sends a webhook notification (0 = 30 s, as BC online), and
	// BCMaxNotifications how many records one may name before it becomes
	// a "collection" notification (0 = 1,000); see bc_subscriptions.go.
	BCNotifyDelay      time.Duration
	BCMaxNotifications int
}

// Server is a running sandbox. It is safe for concurrent use.
type Server struct {
	cfg      Config
	st       *store
	ents     map[string]*entity
	metadata []byte
	log      *slog.Logger
	closing  chan struct{}

	mu       sync.Mutex
	faults   Faults
	rng      *rand.Rand
	tokens   map[string]time.Time // access token -> expiry
	requests map[string]int
	http     *http.Server
	closed   bool

	bc *bcState // the Business Central dialect; nil for F&O
	dv *dvState // the Dataverse dialect; nil otherwise
}

// New opens the database and prepares the server; Start or Handler serves it.
func New(cfg Config) (*Server, error) {
	switch cfg.Dialect {
	case "", "d365fo":
		cfg.Dialect = "d365fo"
		if cfg.Entities == nil {
			cfg.Entities = d365fo.Default()
		}
		if cfg.Company == "" {
			cfg.Company = "usmf"
		}
		cfg.Company = strings.ToLower(cfg.Company)
	case "bc":
		if cfg.Entities == nil {
			cfg.Entities = bcschema.Default()
		}
		if cfg.Company == "" {
			cfg.Company = DefaultBCCompany
		}
	case "dataverse":
		if cfg.Entities == nil {
			cfg.Entities = dvschema.Default()
		}
	default:
		return nil, fmt.Errorf("sandbox: unknown dialect %q (want d365fo, bc or dataverse)", cfg.Dialect)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(cfg.Path)
	if err != nil {
		return nil, err
	}
	ents := buildEntities(cfg.Entities)
	srv := &Server{
		cfg:      cfg,
		st:       st,
		ents:     ents,
		metadata: csdl(ents),
		log:      log,
		closing:  make(chan struct{}),
		faults:   cfg.Faults,
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		tokens:   map[string]time.Time{},
		requests: map[string]int{},
	}
	if cfg.Dialect == "bc" {
		if err := srv.openBC(); err != nil {
			st.close()
			return nil, err
		}
	}
	if cfg.Dialect == "dataverse" {
		if err := srv.openDataverse(); err != nil {
			st.close()
			return nil, err
		}
	}
	return srv, nil
}

// Start serves on addr ("127.0.0.1:0" picks a free port) and returns the
// environment URL: the OData service is at baseURL+"/data" and the token
// endpoint at baseURL+"/<tenant>/oauth2/token".
func (s *Server) Start(addr string) (baseURL string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.closed || s.http != nil {
		s.mu.Unlock()
		ln.Close()
		return "", errors.New("sandbox: already started or closed")
	}
	s.http = srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox: serve", "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops serving, releases requests held by a Timeout fault and closes
// the database (removing it when it was temporary).
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.http
	s.mu.Unlock()
	close(s.closing)
	var err error
	if srv != nil {
		err = srv.Close()
	}
	return errors.Join(err, s.st.close())
}

// Handler returns the sandbox's HTTP handler, for callers that serve it
// themselves (httptest.NewServer).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.bc != nil {
			s.serveBCRoutes(w, r)
			return
		}
		if s.dv != nil {
			s.serveDataverseRoutes(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/data/") {
			s.serveData(w, r)
			return
		}
		tenant, isToken := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/token")
		if isToken && tenant != "" && !strings.Contains(tenant, "/") && r.Method == http.MethodPost {
			s.serveToken(w, r, tenant)
			return
		}
		http.NotFound(w, r)
	})
}

// SetFaults replaces the faults injected from now on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Requests returns how many requests the sandbox answered, by method and
// kind: "POST token", "GET $metadata", "GET collection", "GET entity",
// "POST collection", "PATCH entity", "DELETE entity", "POST $batch", and
// "batch POST collection" and so on for operations inside a $batch.
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

func (s *Server) count(kind string) {
	s.mu.Lock()
	s.requests[kind]++
	s.mu.Unlock()
}

// Records returns the records of an entity set in every company, in the
// order they were created, with the fields they set.
func (s *Server) Records(entity string) ([]erp.Record, error) {
	e, ok := s.ents[entity]
	if !ok {
		return nil, fmt.Errorf("sandbox: unknown entity set %q", entity)
	}
	rows, err := scan(context.Background(), s.st.db, e.set, "", true)
	if err != nil {
		return nil, err
	}
	out := make([]erp.Record, 0, len(rows))
	for _, r := range rows {
		rec, herr := e.decodeRecord(r.data)
		if herr != nil {
			return nil, fmt.Errorf("sandbox: stored %s record %d: %w", entity, r.recid, herr)
		}
		out = append(out, erp.Record(rec))
	}
	return out, nil
}

// Count returns how many records an entity set holds in every company.
func (s *Server) Count(entity string) (int, error) {
	if _, ok := s.ents[entity]; !ok {
		return 0, fmt.Errorf("sandbox: unknown entity set %q", entity)
	}
	var n int
	err := s.st.db.QueryRow(`SELECT count(*) FROM records WHERE entity = ?`, entity).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sandbox: count %s: %w", entity, err)
	}
	return n, nil
}

// reply is an HTTP answer before it is written.
type reply struct {
	status int
	header http.Header
	body   []byte
}

const jsonContentType = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"

func (r reply) write(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body) // the client going away is not our error
}

// call is one OData operation: a request on /data, or one inside a $batch.
type call struct {
	method string
	path   string // relative to the service root: "CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"
	query  url.Values
	header http.Header
	body   []byte
	root   string // service root URL for links: "http://127.0.0.1:8080/data"
}

// maxBody bounds a request body.
const maxBody = 64 << 20

func (s *Server) serveData(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		s.count(r.Method + " unauthorized")
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	c := call{
		method: r.Method,
		path:   strings.TrimPrefix(r.URL.Path, "/data/"),
		query:  r.URL.Query(),
		header: r.Header,
		root:   rootURL(r) + "/data",
	}
	s.count(r.Method + " " + kindOf(c.path))
	s.faulty(w, r, func(body []byte) reply {
		c.body = body
		return s.serve(r.Context(), c)
	})
}

// faulty answers r with serve(body) under the faults drawn for it: a delay,
// then a 429, a 5xx, a request held until the client gives up, or an answer
// applied but lost.
func (s *Server) faulty(w http.ResponseWriter, r *http.Request, serve func(body []byte) reply) {
	plan := s.plan()
	s.log.Debug("sandbox: request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery, "faults", plan)
	if plan.delay > 0 {
		select {
		case <-time.After(plan.delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case plan.rateLimit:
		s.rateLimited().write(w)
		return
	case plan.serverError:
		s.serverError(plan.unavailable).write(w)
		return
	case plan.timeout:
		select { // hold the request until the client gives up
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxBody {
		rep := statusError(http.StatusRequestEntityTooLarge, "The request body is larger than %d bytes.", maxBody).reply()
		if s.bc != nil {
			rep = bcError(http.StatusRequestEntityTooLarge, "BadRequest", "The request body is larger than %d bytes.", maxBody).reply()
		}
		rep.write(w)
		return
	}
	rep := serve(body)
	if plan.lostReply {
		s.log.Info("sandbox: fault: reply lost", "method", r.Method, "path", r.URL.Path, "status", rep.status)
		dropConnection(w)
		return
	}
	rep.write(w)
}

// serve answers a top-level /data request.
func (s *Server) serve(ctx context.Context, c call) reply {
	switch c.path {
	case "$metadata":
		if c.method != http.MethodGet {
			return statusError(http.StatusMethodNotAllowed, "The $metadata document is read-only.").reply()
		}
		return reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/xml"}}, body: s.metadata}
	case "$batch":
		if c.method != http.MethodPost {
			return statusError(http.StatusMethodNotAllowed, "A $batch request must be a POST.").reply()
		}
		return s.batch(ctx, c)
	}
	return s.do(ctx, c)
}

// do runs one operation: a read on the database, a write in its own
// transaction.
func (s *Server) do(ctx context.Context, c call) reply {
	if c.method == http.MethodGet {
		return s.exec(ctx, s.st.db, c)
	}
	tx, err := s.st.db.BeginTx(ctx, nil)
	if err != nil {
		return s.internal(err)
	}
	rep := s.exec(ctx, tx, c)
	if rep.status >= 400 {
		_ = tx.Rollback() // nothing was written that must survive
		return rep
	}
	if err := tx.Commit(); err != nil {
		return s.internal(err)
	}
	return rep
}

// exec runs one operation against q.
func (s *Server) exec(ctx context.Context, q querier, c call) reply {
	set, pred, hasKey := strings.Cut(c.path, "(")
	e, ok := s.ents[set]
	if !ok {
		return notFound(set).reply()
	}
	if hasKey {
		if !strings.HasSuffix(pred, ")") {
			return notFound(c.path).reply()
		}
		pred = strings.TrimSuffix(pred, ")")
	}
	switch {
	case c.method == http.MethodGet && !hasKey:
		return s.query(ctx, q, e, c)
	case c.method == http.MethodGet:
		return s.get(ctx, q, e, c, pred)
	case c.method == http.MethodPost && !hasKey:
		return s.create(ctx, q, e, c)
	case (c.method == http.MethodPatch || c.method == http.MethodPut) && hasKey:
		return s.update(ctx, q, e, c, pred)
	case c.method == http.MethodDelete && hasKey:
		return s.delete(ctx, q, e, c, pred)
	}
	return statusError(http.StatusMethodNotAllowed, "The HTTP method '%s' is not allowed on '%s'.", c.method, c.path).reply()
}

// internal answers a failure of the sandbox itself.
func (s *Server) internal(err error) reply {
	s.log.Error("sandbox: internal error", "err", err)
	return statusError(http.StatusInternalServerError, "An error has occurred.").reply()
}

// kindOf names the kind of a /data path for Requests.
func kindOf(path string) string {
	switch {
	case path == "$metadata" || path == "$batch":
		return path
	case strings.Contains(path, "("):
		return "entity"
	}
	return "collection"
}

// rootURL is the environment URL the client used.
func rootURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	w.WriteHeader(http.StatusInternalServerError) // cannot hijack (HTTP/2): an answer that says nothing
}
