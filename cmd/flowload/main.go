// Command flowload measures webhook ingest: it sends signed Stripe events to
// a running flowd over HTTP from many connections and reports how many were
// acknowledged per second, the acknowledgement latency (p50, p90, p99, max),
// and flowd's resident memory afterwards (from its /metrics).
//
//	export STRIPE_WEBHOOK_SECRET=whsec_test
//	flowd --store /tmp/load.db --no-watch &
//	flowload --url http://127.0.0.1:8787 -n 50000 -c 64 [--type customer.created]
//
// With --jsonl FILE it writes the events, one per line, for flowc run.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowhq/flow/internal/sample"
	"github.com/flowhq/flow/runtime/gateway/stripe"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8787", "flowd's base URL")
	n := flag.Int("n", 20000, "events to send")
	c := flag.Int("c", 64, "concurrent connections")
	template := flag.String("template", "testdata/stripe/events/charge.succeeded.json", "the event to send, with a fresh id each time")
	typ := flag.String("type", "", "override the event type (e.g. one no flow handles, to measure ingest alone)")
	jsonl := flag.String("jsonl", "", "write the events to this file, one per line (for flowc run), instead of sending them")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: STRIPE_WEBHOOK_SECRET=whsec_... flowload [flags]\n\nSends signed Stripe webhooks to flowd and reports acknowledgements per second, latency and flowd's RSS.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *jsonl != "" {
		if err := writeEvents(*jsonl, *template, *typ, *n); err != nil {
			fmt.Fprintln(os.Stderr, "flowload:", err)
			os.Exit(1)
		}
		return
	}
	secret := os.Getenv("STRIPE_WEBHOOK_SECRET")
	if secret == "" {
		fmt.Fprintln(os.Stderr, "flowload: STRIPE_WEBHOOK_SECRET must be flowd's webhook secret")
		os.Exit(2)
	}
	if err := run(*url, secret, *template, *typ, *n, *c); err != nil {
		fmt.Fprintln(os.Stderr, "flowload:", err)
		os.Exit(1)
	}
}

func run(url, secret, template, typ string, n, conc int) error {
	tmpl, err := os.ReadFile(template)
	if err != nil {
		return err
	}
	// Bodies are built up front, so the figures measure flowd, not this.
	bodies, err := sample.Charges(tmpl, n, fmt.Sprint("load", time.Now().UnixNano()), typ)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	lat := make([]time.Duration, n)
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				t := time.Now()
				code, err := post(client, url, bodies[i], stripe.Sign(bodies[i], secret, t))
				lat[i] = time.Since(t)
				if err != nil || code != http.StatusOK {
					failed.Add(1)
					if err == nil {
						err = fmt.Errorf("HTTP %d", code)
					}
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("sent %d signed webhooks on %d connections in %s\n", n, conc, took.Round(time.Millisecond))
	fmt.Printf("acknowledged: %d/s (%d failed)\n", int(float64(int64(n)-failed.Load())/took.Seconds()), failed.Load())
	fmt.Printf("ack latency: p50 %s  p90 %s  p99 %s  max %s\n", pct(0.50).Round(10*time.Microsecond),
		pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	if rss, err := metric(url, "process_resident_memory_bytes"); err == nil {
		fmt.Printf("flowd RSS: %.1f MB\n", rss/1e6)
	}
	if e := firstErr.Load(); e != nil {
		return fmt.Errorf("%d requests failed; the first: %s", failed.Load(), e)
	}
	return nil
}

// writeEvents writes n sample events as JSON lines.
func writeEvents(path, template, typ string, n int) error {
	tmpl, err := os.ReadFile(template)
	if err != nil {
		return err
	}
	bodies, err := sample.Charges(tmpl, n, "run", typ)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, b := range bodies {
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func post(c *http.Client, url string, body []byte, sig string) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/webhooks/stripe", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sig)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// metric reads one unlabelled gauge from flowd's /metrics.
func metric(url, name string) (float64, error) {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			return f, err
		}
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}
