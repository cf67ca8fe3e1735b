package sandbox

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/stdlib/ax2012"
)

// Config configures a sandbox.
type Config struct {
	Company string // the default company, for calls without one; "" = "dat"
	// RejectDuplicates answers a write whose MessageId was processed before
	// with AIF's duplicate message fault, instead of the first answer.
	RejectDuplicates bool
	Logger           *slog.Logger // nil = no logging
}

// FaultKind is a failure Inject can plant.
type FaultKind int

const (
	Validation  FaultKind = iota // an AifFault with an Infolog error (Permanent)
	Deadlock                     // an AifFault with XppExceptionType Deadlock (Transient)
	Unavailable                  // HTTP 503 with an HTML page, nothing applied
	DropBefore                   // the connection closes before the request is applied
	DropAfter                    // the request is applied, then the connection closes
)

// Fault is one injected failure.
type Fault struct {
	Service   string // external service name; "" = any
	Operation string // create, read, find, update; "" = any
	Kind      FaultKind
	Message   string // the Infolog message of Validation; a default when ""
	Times     int    // how many calls it hits; 0 = 1
}

// Server is a running sandbox. It is safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	tables map[string]*ax2012.Table

	mu       sync.Mutex
	st       *store
	db       *sql.DB          // where Open keeps the store; nil for New's
	answers  map[string]reply // write MessageId (normalized) -> first answer
	faults   []Fault
	rates    map[FaultKind]float64 // see SetFaultRates
	rng      *rand.Rand
	requests map[string]int
	http     *http.Server
	closed   bool
}

// New returns a sandbox with an empty store in memory (Open keeps one in
// a database file); Start or Handler serves it.
func New(cfg Config) *Server {
	if cfg.Company == "" {
		cfg.Company = "dat"
	}
	cfg.Company = strings.ToLower(cfg.Company)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: log, tables: ax2012.Tables(), st: newStore(),
		answers: map[string]reply{}, requests: map[string]int{}, rng: rand.New(rand.NewPCG(1, 2))}
}

// Start serves on addr ("127.0.0.1:0" picks a free port) and returns the
// adapter's base URL: a service is at baseURL/<any port>/xppservice.svc.
func (s *Server) Start(addr string) (baseURL string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ax2012 sandbox: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.closed || s.http != nil {
		s.mu.Unlock()
		ln.Close()
		return "", errors.New("ax2012 sandbox: already started or closed")
	}
	s.http = srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("ax2012 sandbox: serve", "err", err)
		}
	}()
	return "http://" + ln.Addr().String() + "/MicrosoftDynamicsAXAif60", nil
}

// Close stops serving and closes the database of Open.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.http != nil {
		err = s.http.Close()
	}
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	return err
}

// Inject plants a fault for the next matching calls.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// SetFaultRates makes calls fail at random besides the faults Inject
// plants: each call fails with the given probability per kind (the rates
// add up; a call fails once at most), with a Validation fault's default
// message. Nil stops it. The sequence is the same in every run.
func (s *Server) SetFaultRates(rates map[FaultKind]float64) {
	s.mu.Lock()
	s.rates = make(map[FaultKind]float64, len(rates))
	for k, p := range rates {
		s.rates[k] = p
	}
	s.mu.Unlock()
}

// Requests returns how many calls the sandbox received, by
// "Service.operation" ("SalesOrderService.create").
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

// Records returns the records of a table in a company ("" = the default),
// in the order they were created, as the text AX holds; a line carries
// its parent's key.
func (s *Server) Records(company, table string) ([]map[string]string, error) {
	t, ok := s.tables[table]
	if !ok {
		return nil, fmt.Errorf("ax2012 sandbox: unknown table %q", table)
	}
	if company == "" {
		company = s.cfg.Company
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.records(strings.ToLower(company), t), nil
}

// Seed adds a root record (and its lines) as if AX held it already.
func (s *Server) Seed(company, table string, fields map[string]string) error {
	t, ok := s.tables[table]
	if !ok || t.Parent != "" {
		return fmt.Errorf("ax2012 sandbox: %q is not a root table", table)
	}
	if company == "" {
		company = s.cfg.Company
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ferr := s.st.create(strings.ToLower(company), t, &aif.Entity{Fields: fields})
	if ferr != nil {
		s.st.changed = nil
		return errors.New(strings.Join(ferr.messages, "; "))
	}
	return s.save("", reply{})
}

// reply is an answer before it is written.
type reply struct {
	status int
	ctype  string
	body   []byte
}

func (r reply) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", r.ctype)
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body) // the client going away is not our error
}

const maxBody = 32 << 20

// Handler returns the sandbox's HTTP handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/xppservice.svc") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST (the sandbox serves no WSDL)", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return
	}
	if len(body) > maxBody {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	v, action, herr := transport(r)
	if herr != "" {
		http.Error(w, herr, http.StatusUnsupportedMediaType)
		return
	}
	env, err := aif.ReadEnvelope(body)
	if err != nil {
		s.fault(v, "Client", "The message could not be read: "+err.Error(), nil, http.StatusBadRequest).write(w)
		return
	}
	if action == "" {
		action = env.Action
	}
	service, op, ok := aif.SplitAction(action)
	root := s.root(service)
	if !ok || root == nil {
		s.fault(v, "Client", fmt.Sprintf("The message with Action '%s' cannot be processed at the receiver (ActionNotSupported).", action), nil, http.StatusInternalServerError).write(w)
		return
	}
	s.count(service + "." + op)
	f, hit := s.takeFault(service, op)
	if hit {
		switch f.Kind {
		case Validation:
			msg := f.Message
			if msg == "" {
				msg = "Validation failed (injected)."
			}
			s.aifFault(v, "Error", msg).write(w)
			return
		case Deadlock:
			s.aifFault(v, "Deadlock", "Cannot select a record in Sales orders (SalesTable). Deadlock, where one or more users have simultaneously locked the whole table or part of it.").write(w)
			return
		case Unavailable:
			reply{status: http.StatusServiceUnavailable, ctype: "text/html",
				body: []byte("<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>")}.write(w)
			return
		case DropBefore:
			drop(w)
			return
		}
	}
	company := s.cfg.Company
	msgID := ""
	if env.Context != nil {
		if env.Context.Company != "" {
			company = strings.ToLower(env.Context.Company)
		}
		msgID = aif.NormalizeMessageID(env.Context.MessageID)
	}
	rep := s.handle(v, env, root, service, op, company, msgID)
	if hit && f.Kind == DropAfter {
		s.log.Info("ax2012 sandbox: fault: answer dropped", "action", action, "status", rep.status)
		drop(w)
		return
	}
	rep.write(w)
}

// transport reads the SOAP version and action from the HTTP headers.
func transport(r *http.Request) (aif.Version, string, string) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		return 0, "", "Content-Type missing or malformed"
	case mt == "text/xml":
		return aif.SOAP11, strings.Trim(r.Header.Get("SOAPAction"), `"`), ""
	case mt == "application/soap+xml":
		return aif.SOAP12, params["action"], ""
	}
	return 0, "", fmt.Sprintf("Cannot process the message because the content type '%s' was not the expected type", mt)
}

func (s *Server) root(service string) *ax2012.Table {
	for _, t := range s.tables {
		if t.Parent == "" && t.Service == service {
			return t
		}
	}
	return nil
}

func (s *Server) count(kind string) {
	s.mu.Lock()
	s.requests[kind]++
	s.mu.Unlock()
}

func (s *Server) takeFault(service, op string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if (f.Service == "" || f.Service == service) && (f.Operation == "" || f.Operation == op) {
			out := *f
			if f.Times--; f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return out, true
		}
	}
	if len(s.rates) > 0 {
		x := s.rng.Float64()
		for k := Validation; k <= DropAfter; k++ {
			if x -= s.rates[k]; x < 0 {
				return Fault{Kind: k}, true
			}
		}
	}
	return Fault{}, false
}

// handle runs one operation, remembering the answers of writes by their
// MessageId.
func (s *Server) handle(v aif.Version, env *aif.Envelope, root *ax2012.Table, service, op, company, msgID string) reply {
	writes := op == "create" || op == "update"
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.changed = nil
	if writes && msgID != "" {
		if first, seen := s.answers[msgID]; seen {
			if s.cfg.RejectDuplicates {
				return s.aifFault(v, "Error", fmt.Sprintf("Duplicate message. A message with ID {%s} has already been received.", msgID))
			}
			return first
		}
	}
	want := aif.Wrapper(service, op, "Request")
	if env.Body == nil || env.Body.Name.Local != want {
		return s.fault(v, "Client", fmt.Sprintf("The body must hold <%s>.", want), nil, http.StatusInternalServerError)
	}
	var out func(w *aif.Writer)
	var ferr *aifError
	switch op {
	case "create":
		out, ferr = s.opCreate(company, root, env.Body)
	case "read":
		out, ferr = s.opRead(company, root, env.Body)
	case "find":
		out, ferr = s.opFind(company, root, env.Body)
	case "update":
		out, ferr = s.opUpdate(company, root, env.Body)
	default:
		return s.fault(v, "Client", fmt.Sprintf("The sandbox does not implement %s.%s.", service, op), nil, http.StatusInternalServerError)
	}
	if ferr != nil {
		s.st.changed = nil
		return s.aifFault(v, ferr.kind, ferr.messages...)
	}
	rep := s.answer(v, aif.Action(service, op), aif.Wrapper(service, op, "Response"), out)
	if writes {
		// Saved before it is answered: an answer the client gets is on disk.
		if err := s.save(msgID, rep); err != nil {
			s.log.Error("ax2012 sandbox: saving a write", "err", err)
			return reply{status: http.StatusInternalServerError, ctype: "text/plain", body: []byte("the sandbox could not save the write")}
		}
		if msgID != "" {
			s.answers[msgID] = rep
		}
	}
	return rep
}

func (s *Server) answer(v aif.Version, action, wrapper string, content func(w *aif.Writer)) reply {
	msg := aif.Message{Version: v, Action: action, Body: func(w *aif.Writer) {
		w.Start(ax2012.ServicesNS, wrapper)
		if content != nil {
			content(w)
		}
		w.End(wrapper)
	}}
	return s.encode(v, http.StatusOK, msg)
}

func (s *Server) aifFault(v aif.Version, exception string, messages ...string) reply {
	return s.fault(v, "Client", "Request Failed. See the Exception Log for details.",
		&aif.AifFault{Messages: messages, ExceptionType: exception}, http.StatusInternalServerError)
}

func (s *Server) fault(v aif.Version, code, reason string, a *aif.AifFault, status int) reply {
	if v == aif.SOAP12 && code == "Client" {
		code = "Sender"
	}
	return s.encode(v, status, aif.Message{Version: v, Body: aif.FaultBody(v, code, reason, a)})
}

func (s *Server) encode(v aif.Version, status int, msg aif.Message) reply {
	var b bytes.Buffer
	if err := msg.Write(aif.NewWriter(&b)); err != nil {
		s.log.Error("ax2012 sandbox: encoding an answer", "err", err)
		return reply{status: http.StatusInternalServerError, ctype: "text/plain", body: []byte("the sandbox could not encode its answer")}
	}
	return reply{status: status, ctype: v.ContentType(msg.Action), body: b.Bytes()}
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	w.WriteHeader(http.StatusInternalServerError)
}
