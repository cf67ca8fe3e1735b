package daemon

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowhq/flow/runtime/engine"
)

// metrics are flowd's Prometheus metrics, on a registry of their own.
type metrics struct {
	reg         *prometheus.Registry
	received    *prometheus.CounterVec
	accepted    *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	ack         prometheus.Histogram
	processed   *prometheus.CounterVec
	runs        *prometheus.CounterVec
	runSeconds  *prometheus.HistogramVec
	stepSeconds *prometheus.HistogramVec
	retries     *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	erpRequests *prometheus.CounterVec
	erpSeconds  *prometheus.HistogramVec
	reloads     *prometheus.CounterVec
	plan        *prometheus.GaugeVec

	// The webhook path's counters, resolved once.
	stripeReceived, stripeAccepted, stripeDuplicates prometheus.Counter

	mu          sync.Mutex
	planVersion string
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "flow", Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	m.received = counter("webhooks_received_total", "Webhook requests received.", "source")
	m.accepted = counter("events_accepted_total", "Events stored and acknowledged (first delivery).", "source")
	m.duplicates = counter("events_duplicate_total", "Redelivered events acknowledged without storing again.", "source")
	m.rejected = counter("webhooks_rejected_total", "Webhook requests rejected, by reason.", "source", "reason")
	m.processed = counter("events_processed_total", "Event attempts finished, by the status they left the event in.", "status")
	m.runs = counter("flow_runs_total", "Flow runs, by flow and result (done, skipped, retry, wait, dead).", "flow", "result")
	m.retries = counter("retries_total", "Runs scheduled to run again after a transient failure.", "flow")
	m.deadLetters = counter("dead_letters_total", "Events dead-lettered.", "flow")
	m.erpRequests = counter("erp_requests_total", "ERP HTTP requests, by method and status code (0: no answer).", "method", "code")
	m.reloads = counter("plan_reloads_total", "Plan (re)loads, by result.", "result")
	m.ack = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "flow", Name: "webhook_ack_seconds",
		Help: "Time from a webhook request to its acknowledgement (stored durably).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	m.runSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "flow", Name: "flow_run_seconds",
		Help: "Duration of one flow run over one event.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"flow"})
	m.stepSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "flow", Name: "step_seconds",
		Help: "Duration of one step of a flow (let, when, lookup, write, journal).", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"flow", "kind"})
	m.erpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "flow", Name: "erp_request_seconds",
		Help: "ERP HTTP request latency.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"method"})
	m.plan = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "flow", Name: "plan_info",
		Help: "The running plan: 1 for its version."}, []string{"version"})
	m.stripeReceived = m.received.WithLabelValues("stripe")
	m.stripeAccepted = m.accepted.WithLabelValues("stripe")
	m.stripeDuplicates = m.duplicates.WithLabelValues("stripe")
	m.reg.MustRegister(m.ack, m.runSeconds, m.stepSeconds, m.erpSeconds, m.plan,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) setPlan(version string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.planVersion != "" {
		m.plan.DeleteLabelValues(m.planVersion)
	}
	m.planVersion = version
	m.plan.WithLabelValues(version).Set(1)
}

func (m *metrics) observeRun(flow string, took time.Duration, res engine.Result, err error) {
	m.runSeconds.WithLabelValues(flow).Observe(took.Seconds())
	for _, t := range res.Trace {
		m.stepSeconds.WithLabelValues(flow, t.Kind).Observe(t.Took.Seconds())
	}
	result := string(res.Status)
	var e *engine.Error
	if errors.As(err, &e) {
		result = map[engine.Class]string{engine.Retry: "retry", engine.Wait: "wait", engine.Dead: "dead"}[e.Class]
	} else if err != nil {
		result = "retry"
	}
	m.runs.WithLabelValues(flow, result).Inc()
}

// Transport instruments ERP HTTP requests (count by status, latency).
func (d *Daemon) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := base.RoundTrip(r)
		code := "0"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
			if resp.StatusCode == http.StatusTooManyRequests {
				d.alerts.fire(Alert{Kind: AlertERPThrottled, Title: "the ERP is throttling flowd (HTTP 429)",
					Text: fmt.Sprintf("%s %s answered 429 Too Many Requests, Retry-After %q; runs wait and retry.", r.Method, r.URL.Path, resp.Header.Get("Retry-After"))})
			}
		}
		d.metrics.erpRequests.WithLabelValues(r.Method, code).Inc()
		d.metrics.erpSeconds.WithLabelValues(r.Method).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
