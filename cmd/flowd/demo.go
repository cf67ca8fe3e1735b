package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowhq/flow/runtime/gateway/stripe"
	"github.com/flowhq/flow/runtime/store"
)

type httptestServer = httptest.Server

// runDemo posts the signed sample events to flowd over HTTP, waits for
// them to settle, and prints what happened.
func runDemo(ctx context.Context, out io.Writer, base, secret, storePath string, st *store.Store, kind *erpKind, sb *erpHandle) error {
	files, err := filepath.Glob(filepath.Join("testdata", "demo", "*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no sample events in testdata/demo (run flowd --demo from the repository root)")
	}
	sort.Strings(files)
	fmt.Fprintf(out, "sending %d signed sample events to %s/webhooks/stripe\n", len(files), base)
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/stripe", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Stripe-Signature", stripe.Sign(body, secret, time.Now()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Fprintf(out, "  %-40s -> HTTP %d\n", filepath.Base(f), resp.StatusCode)
	}
	// A forged delivery, to show it is refused.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/stripe", strings.NewReader(`{"id":"evt_forged","type":"charge.succeeded"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", fmt.Sprintf("t=%d,v1=%064x", time.Now().Unix(), 0))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		fmt.Fprintf(out, "  %-40s -> HTTP %d (refused, nothing stored)\n", "a forged event", resp.StatusCode)
	}

	// Wait until every event has settled (or is waiting for something).
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		counts, err := st.Counts(ctx)
		if err != nil {
			return err
		}
		if counts[store.Received]+counts[store.Running]+counts[store.Retry]+counts[store.Waiting] == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	counts, err := st.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nevents:")
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	for _, s := range []store.Status{store.Done, store.Skipped, store.NoFlow, store.Waiting, store.Retry, store.Dead} {
		if counts[s] > 0 {
			fmt.Fprintf(tw, "  %s\t%d\n", s, counts[s])
		}
	}
	tw.Flush()
	if sb != nil {
		fmt.Fprintf(out, "\nrecords in the sandbox ERP (%s):\n", kind.label)
		for _, e := range kind.entities {
			if n, err := sb.count(e); err == nil && n > 0 {
				fmt.Fprintf(tw, "  %s\t%d\n", e, n)
			}
		}
		tw.Flush()
	}
	dead, err := st.Events(ctx, store.Filter{Status: store.Dead})
	if err != nil {
		return err
	}
	waiting, err := st.Events(ctx, store.Filter{Status: store.Waiting})
	if err != nil {
		return err
	}
	if len(dead) > 0 {
		fmt.Fprintf(out, "\ndead letters (flowc dlq list --store %s; replay with flowc dlq replay ID --store %s):\n", storePath, storePath)
		for _, e := range dead {
			fmt.Fprintf(out, "  %s %s: %s step %d: %s\n", e.GatewayID(), e.Type, e.Flow, e.Step, e.Error)
		}
	} else {
		fmt.Fprintln(out, "\ndead letters: none")
	}
	for _, e := range waiting {
		fmt.Fprintf(out, "waiting: %s %s: %s\n", e.GatewayID(), e.Type, e.Error)
	}
	return nil
}

// startStripeDouble serves the Stripe API reads the demo's payout flow
// makes, from the fixture balance transactions in dir: it stands in for
// api.stripe.com so the real stripe-go client runs without an account.
func startStripeDouble(dir string) (*httptest.Server, error) {
	b, err := os.ReadFile(filepath.Join(dir, "stripe-api", "balance_transactions.json"))
	if err != nil {
		return nil, fmt.Errorf("demo Stripe API: %w", err)
	}
	var list struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("demo Stripe API: %s: %w", filepath.Join(dir, "stripe-api", "balance_transactions.json"), err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/balance_transactions", func(w http.ResponseWriter, r *http.Request) {
		payout := r.URL.Query().Get("payout")
		data := []map[string]any{}
		for _, bt := range list.Data {
			if p, _ := bt["payout"].(string); p == "" || p == payout {
				data = append(data, bt)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "url": "/v1/balance_transactions", "has_more": false, "data": data})
	})
	return httptest.NewServer(mux), nil
}
