package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the daemon and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemo runs the README's main command: every sample event settles,
// the records land in the sandbox, the forged event is refused, and the
// daemon keeps running until it is stopped.
// The demo runs the whole loop on every ERP's sandbox: the sample events
// become records in its protocol, each once, with no dead letters.
func TestDemo(t *testing.T) {
	t.Chdir("../..") // the demo runs from the repository root
	for _, tc := range []struct {
		erp  []string
		want []string
	}{
		{nil, []string{"done  6", "SalesOrderHeadersV2            4", "LedgerJournalLines             7", "ReturnOrderHeaders             1"}},
		{[]string{"--erp", "bc"}, []string{"done  6", "salesOrders           4", "generalLedgerEntries  7", "salesCreditMemos      1"}},
		{[]string{"--erp", "dynsl"}, []string{"done  6", "SOHeader  4", "GLTran    7", "Batch     6"}},
		// The AX flows credit refunds on refund.created, which the demo does not send.
		{[]string{"--erp", "ax2012"}, []string{"done     5", "SalesTable          4", "LedgerJournalTrans  7"}},
		// Dataverse has no general ledger: the payout has no flow there.
		{[]string{"--erp", "dataverse"}, []string{"done     5", "salesorders         4", "invoices            4"}},
	} {
		t.Run(strings.Join(append([]string{"demo"}, tc.erp...), " "), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, append([]string{"--demo", "--listen", "127.0.0.1:0", "--log-level", "error"}, tc.erp...), &out, io.Discard)
			}()
			deadline := time.Now().Add(60 * time.Second)
			for !strings.Contains(out.String(), "keeps running") {
				select {
				case err := <-done:
					t.Fatalf("flowd --demo returned early: %v\n%s", err, out.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("the demo did not finish:\n%s", out.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			got := out.String()
			for _, want := range append(tc.want, "dead letters: none", "a forged event                           -> HTTP 400") {
				if !strings.Contains(got, want) {
					t.Errorf("demo output lacks %q:\n%s", want, got)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Chdir(t.TempDir()) // nothing may be left behind, whatever fails
	for _, args := range [][]string{{"--erp", "sap"}, {"extra"}, {"--log-level", "loud"}} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		if err == nil {
			t.Errorf("flowd %v: no error", args)
		}
		if files, _ := os.ReadDir("."); len(files) > 0 {
			t.Errorf("flowd %v: a usage error left %s behind", args, files[0].Name())
		}
	}
}
