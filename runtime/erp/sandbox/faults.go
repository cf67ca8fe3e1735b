package sandbox

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/flowhq/flow/runtime/erp/odata"
)

// Faults are failures the sandbox injects into /data requests, each with a
// probability from 0 (never) to 1 (always). They are drawn in this order
// from a generator seeded by Config.Seed, so a sequential client sees the
// same faults on every run. At most one of RateLimit, ServerError, Timeout
// and LostReply applies to a request; Latency adds to any of them.
type Faults struct {
	Latency float64
	Delay   time.Duration // added by Latency; 0 = 200ms

	// RateLimit answers 429 with Retry-After and F&O's message.
	RateLimit  float64
	RetryAfter time.Duration // rounded up to whole seconds; 0 = 1s

	// ServerError answers 500 (F&O's generic error) or 503 (an HTML page
	// from the load balancer), half each.
	ServerError float64

	// Timeout holds the request, unapplied, until the client gives up.
	Timeout float64

	// LostReply applies the request, then closes the connection without an
	// answer: the client cannot know whether it landed.
	LostReply float64
}

// faultPlan is what happens to one request.
type faultPlan struct {
	delay                  time.Duration
	rateLimit, serverError bool
	unavailable            bool // a 503 rather than a 500
	timeout, lostReply     bool
}

// plan draws the faults of one request.
func (s *Server) plan() faultPlan {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	hit := func(p float64) bool { return p > 0 && s.rng.Float64() < p }
	var p faultPlan
	if hit(f.Latency) {
		p.delay = f.Delay
		if p.delay <= 0 {
			p.delay = 200 * time.Millisecond
		}
	}
	switch {
	case hit(f.RateLimit):
		p.rateLimit = true
	case hit(f.ServerError):
		p.serverError, p.unavailable = true, s.rng.IntN(2) == 1
	case hit(f.Timeout):
		p.timeout = true
	case hit(f.LostReply):
		p.lostReply = true
	}
	return p
}

// rateLimited is F&O's service-protection answer.
func (s *Server) rateLimited() reply {
	s.mu.Lock()
	wait := s.faults.RetryAfter
	s.mu.Unlock()
	secs := int(math.Ceil(wait.Seconds()))
	if secs <= 0 {
		secs = 1
	}
	if s.bc != nil {
		e := bcError(http.StatusTooManyRequests, "Application_TooManyRequests", "Too many requests have been made. Please retry after %d seconds.", secs)
		e.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
		return e.reply()
	}
	e := statusError(http.StatusTooManyRequests, "Number of requests exeeded the limit of 6000 over the time window of 300 seconds.")
	e.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
	return e.reply()
}

// serverError is a failure of the service, not of the request.
func (s *Server) serverError(unavailable bool) reply {
	if s.bc != nil && !unavailable {
		return bcError(http.StatusInternalServerError, "Internal_ServerError", "An unexpected error occurred on the server.").reply()
	}
	if unavailable {
		h := http.Header{"Content-Type": {"text/html"}}
		if s.bc != nil { // BC's gateway says when to come back
			h.Set("Retry-After", "1")
		}
		return reply{
			status: http.StatusServiceUnavailable,
			header: h,
			body:   []byte("<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>"),
		}
	}
	e := &httpError{status: http.StatusInternalServerError, body: odata.NewError("An error has occurred.", "", "")}
	return e.reply()
}
