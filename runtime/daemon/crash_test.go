package daemon

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/gateway/stripe"
	"github.com/flowhq/flow/runtime/store"
)

// TestCrashLosesNothingAndWritesOnce runs flowd as a process under load,
// kills it with SIGKILL at random moments, restarts it, and checks that
// every acknowledged event's ERP records exist exactly once, for every ERP
// (an ERP flowd cannot start yet runs in TestFlowdHelperProcess).
func TestCrashLosesNothingAndWritesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills flowd repeatedly")
	}
	bin := filepath.Join(t.TempDir(), "flowd")
	build := exec.Command("go", "build", "-o", bin, "github.com/flowhq/flow/cmd/flowd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build flowd: %v\n%s", err, out)
	}
	forEachERP(t, func(t *testing.T, c erpCase) { testCrash(t, c, bin) })
}

func testCrash(t *testing.T, c erpCase, bin string) {
	dir := t.TempDir()
	storePath, sandboxPath := filepath.Join(dir, "flow.db"), filepath.Join(dir, "sandbox.db")
	flows, _ := filepath.Abs(c.flows)

	var mu sync.Mutex
	acked := map[int]bool{}
	next := 0
	rng := rand.New(rand.NewPCG(1, 2))
	const rounds = 12
	for round := range rounds + 1 {
		addr := freeAddr(t)
		var cmd *exec.Cmd
		if c.flowdArgs != nil {
			args := append([]string{"--flows", flows, "--store", storePath}, c.flowdArgs(sandboxPath)...)
			cmd = exec.Command(bin, append(args, "--listen", addr, "--no-watch", "--log-format", "json", "--log-level", "warn")...)
			cmd.Env = append(os.Environ(), "STRIPE_WEBHOOK_SECRET="+secret)
		} else {
			cmd = exec.Command(os.Args[0], "-test.run=^TestFlowdHelperProcess$")
			cmd.Env = append(os.Environ(), "FLOW_HELPER_ERP="+c.name, "FLOW_HELPER_ADDR="+addr,
				"FLOW_HELPER_STORE="+storePath, "FLOW_HELPER_SANDBOX="+sandboxPath)
		}
		logs, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() }) // a failed test leaves no process behind
		go drain(t, logs)
		waitReady(t, "http://"+addr)
		if round == rounds {
			// The last run is left alone until every event has settled.
			waitSettled(t, storePath, 3*time.Minute) // a bound on liveness, not a speed target: SL on a busy machine needs more than a minute
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("flowd exit after SIGTERM: %v", err)
			}
			break
		}
		// Load from four senders; kill at a random moment.
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					mu.Lock()
					n := next
					next++
					mu.Unlock()
					body := charge(t, n)
					if sendSigned(ctx, "http://"+addr, body) {
						mu.Lock()
						acked[n] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(100+rng.IntN(600)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
		wg.Wait()
	}

	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n < rounds*5 {
		t.Fatalf("only %d events acknowledged over %d rounds: the load did not run", n, rounds)
	}
	st, err := store.Open(storePath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range acked {
		ev, err := st.Event(context.Background(), fmt.Sprintf("evt_test_%04d", i))
		if err != nil {
			t.Fatalf("acknowledged event %d is lost: %v", i, err)
		}
		if ev.Status != store.Done {
			t.Errorf("event %d: %s (%s)", i, ev.Status, ev.Error)
		}
	}
	sb, err := c.sandbox(sandboxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	h := &harness{t: t, sb: sb, erp: c}
	// Events acknowledged but unknown to the test (sent when the kill
	// came, answered but not read) also ran: count what the store holds.
	counts, _ := st.Counts(context.Background())
	h.exactlyOnce(counts[store.Done])
	t.Logf("%d rounds, %d events acknowledged, %d done, records exactly once", rounds, n, counts[store.Done])
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func drain(t *testing.T, r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if testing.Verbose() || strings.Contains(sc.Text(), `"level":"ERROR"`) {
			t.Log(sc.Text())
		}
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("flowd did not become ready")
}

// sendSigned delivers body and reports whether flowd acknowledged it.
func sendSigned(ctx context.Context, base string, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/stripe", strings.NewReader(string(body)))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", stripe.Sign(body, secret, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func waitSettled(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(timeout)
	for {
		c, err := st.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c[store.Received]+c[store.Running]+c[store.Retry] == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events still open after %s: %v", timeout, c)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
