package daemon

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/gateway/stripe"
)

// BenchmarkIngest measures signed webhooks acknowledged per second over
// loopback HTTP into the store (WAL, synchronous=FULL, group commit), with
// the acknowledgement latency. The events are of a type no flow handles,
// so the figure is ingest alone; cmd/flowload measures a running flowd.
func BenchmarkIngest(b *testing.B) {
	h := start(b)
	body := fixture(b, "customer.created.json", nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			n := seq.Add(1)
			ev := bytes.Replace(body, []byte(`"evt_`), []byte(fmt.Sprintf(`"evt_%d_`, n)), 1)
			t0 := time.Now()
			req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/stripe", bytes.NewReader(ev))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Stripe-Signature", stripe.Sign(ev, secret, t0))
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Errorf("ack: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	took := time.Since(start)
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/took.Seconds(), "acks/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkOrderToCashRequests reports the ERP HTTP requests per record
// the order-to-cash flow writes (token requests and the operations inside
// a $batch aside: a $batch is one request), over charges from 50
// customers, through flowd, the F&O driver and the sandbox.
func BenchmarkOrderToCashRequests(b *testing.B) {
	h := start(b)
	n := max(b.N, 200)
	for i := range n {
		if code, body := h.post(charge(b, i)); code != http.StatusOK {
			b.Fatalf("HTTP %d %s", code, body)
		}
	}
	h.settle(5 * time.Minute)
	requests := 0
	for kind, c := range h.sb.Requests() {
		if kind != "POST token" && !strings.HasPrefix(kind, "batch ") {
			requests += c
		}
	}
	records := 0
	for _, e := range []string{"CustomersV3", "SalesOrderHeadersV2", "CustomerPaymentJournalHeaders", "CustomerPaymentJournalLines"} {
		records += h.count(e)
	}
	b.ReportMetric(float64(requests)/float64(records), "requests/record")
	b.ReportMetric(float64(records)/float64(n), "records/event")
}
