package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/runtime/store/pgtest"
)

// replicaRetry retries quickly, so that a test settles soon.
var replicaRetry = Retry{Base: 20 * time.Millisecond, Max: 500 * time.Millisecond, MaxAttempts: 30, WaitPoll: 100 * time.Millisecond}

// TestReplicasLoseNothingAndWriteOnce runs three flowd replicas as
// processes on one PostgreSQL store, under load spread over them, kills
// one with SIGKILL at random moments (and starts it again), and checks
// that every acknowledged event ran and that its ERP records exist once.
func TestReplicasLoseNothingAndWriteOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills flowd replicas")
	}
	dsn := pgtest.DSN(t)
	c := erps[0]
	sb, err := c.sandbox(filepath.Join(t.TempDir(), "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	erpURL, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	type replica struct {
		cmd  *exec.Cmd
		base string
	}
	var mu sync.Mutex
	replicas := make([]*replica, 3)
	startReplica := func(i int) {
		addr := freeAddr(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaHelperProcess$")
		cmd.Env = append(os.Environ(), "FLOW_REPLICA_STORE="+dsn, "FLOW_REPLICA_ERP="+erpURL, "FLOW_REPLICA_ADDR="+addr, "FLOW_REPLICA_LEASE=1s")
		logs, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) // a failed test leaves no process behind
		go drain(t, logs)
		waitReady(t, "http://"+addr)
		mu.Lock()
		replicas[i] = &replica{cmd: cmd, base: "http://" + addr}
		mu.Unlock()
	}
	for i := range replicas {
		startReplica(i)
	}

	// Load: senders spread charges over the replicas, as a load balancer
	// would; a delivery a dead replica drops is delivered again elsewhere.
	const events, kills = 3000, 6
	bodies := make([][]byte, events)
	for i := range bodies {
		bodies[i] = charge(t, i)
	}
	var next atomic.Int64
	acked := make([]atomic.Bool, events)
	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for s := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), 7))
			for ctx.Err() == nil {
				n := int(next.Add(1) - 1)
				if n >= events {
					return
				}
				for try := 0; !acked[n].Load() && try < 100 && ctx.Err() == nil; try++ {
					mu.Lock()
					r := replicas[rng.IntN(len(replicas))]
					mu.Unlock()
					if sendSigned(ctx, r.base, bodies[n]) {
						acked[n].Store(true)
					}
				}
				time.Sleep(time.Duration(rng.IntN(10)) * time.Millisecond)
			}
		}()
	}
	// Kill a replica at random moments while the load runs, and start it
	// again.
	rng := rand.New(rand.NewPCG(3, 4))
	for range kills {
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
		i := rng.IntN(len(replicas))
		mu.Lock()
		r := replicas[i]
		mu.Unlock()
		r.cmd.Process.Signal(syscall.SIGKILL)
		r.cmd.Wait()
		startReplica(i)
	}
	stopLoad()
	wg.Wait()

	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts := settled(t, st, 90*time.Second)
	for _, r := range replicas {
		r.cmd.Process.Signal(syscall.SIGTERM)
		if err := r.cmd.Wait(); err != nil {
			t.Errorf("replica exit after SIGTERM: %v", err)
		}
	}
	n := 0
	for i := range acked {
		if !acked[i].Load() {
			continue
		}
		n++
		ev, err := st.Event(context.Background(), fmt.Sprintf("evt_test_%04d", i))
		if err != nil {
			t.Fatalf("acknowledged event %d is lost: %v", i, err)
		}
		if ev.Status != store.Done {
			t.Errorf("event %d: %s (%s)", i, ev.Status, ev.Error)
		}
	}
	if n < 200 {
		t.Fatalf("%d events acknowledged: the load did not run", n)
	}
	h := &harness{t: t, sb: sb, erp: c}
	h.exactlyOnce(counts[store.Done])
	// Which replica ran what is the plan version's business; here one
	// plan, recorded on every event.
	if evs, _ := st.Events(context.Background(), store.Filter{Status: store.Done, Limit: 1}); len(evs) == 0 || evs[0].PlanVersion == "" {
		t.Errorf("no plan version recorded: %+v", evs)
	}
	done, err := st.Events(context.Background(), store.Filter{Status: store.Done, Limit: events})
	if err != nil {
		t.Fatal(err)
	}
	rescued := 0
	for _, ev := range done {
		if ev.Attempts > 1 {
			rescued++
		}
	}
	t.Logf("%d events acknowledged, %d done (%d on a second attempt), %d kills; records exactly once", n, counts[store.Done], rescued, kills)
}

// settled waits until no event in st has work left that could run soon.
func settled(t testing.TB, st *store.Store, timeout time.Duration) map[store.Status]int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := st.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c[store.Received]+c[store.Running]+c[store.Retry] == 0 {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("events still open after %s: %v", timeout, c)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReplicaHelperProcess is a flowd replica on a shared store, the F&O
// driver to the sandbox the test runs: TestReplicasLoseNothingAndWriteOnce
// runs it as a process (this test binary) and kills it. It does nothing
// in a normal test run.
func TestReplicaHelperProcess(t *testing.T) {
	dsn := os.Getenv("FLOW_REPLICA_STORE")
	if dsn == "" {
		t.Skip("run by TestReplicasLoseNothingAndWriteOnce")
	}
	lease, err := time.ParseDuration(os.Getenv("FLOW_REPLICA_LEASE"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := newReplica(t, dsn, os.Getenv("FLOW_REPLICA_ERP"), lease, slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ln, err := net.Listen("tcp", os.Getenv("FLOW_REPLICA_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := d.Serve(ctx, ln); err != nil {
		t.Fatal(err)
	}
}

// newReplica is a daemon on the shared store at dsn, writing to the F&O
// sandbox at erpURL.
func newReplica(t testing.TB, dsn, erpURL string, lease time.Duration, log *slog.Logger) (*Daemon, *store.Store) {
	t.Helper()
	c := erps[0]
	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	drv, err := c.driver(nil, erpURL, 10*time.Second, c.company)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Flows: c.flows, Company: c.company, Store: st, ERP: drv, StripeSecrets: []string{secret}, Retry: replicaRetry,
		Lookups: engine.NewLookupCache(time.Minute, 1000), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	d.sched.lease = lease
	return d, st
}

// BenchmarkReplicas reports the charges per second that 1, 2 and 3
// replicas on one PostgreSQL store take from acknowledgement to done,
// through the order-to-cash flow, the F&O driver and the sandbox, all in
// this process (so on one machine's cores).
//
// The sqlite case is one flowd on its SQLite store, for comparison.
func BenchmarkReplicas(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchReplicas(b, filepath.Join(b.TempDir(), "flow.db"), 1) })
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) { benchReplicas(b, pgtest.DSN(b), n) })
	}
}

func benchReplicas(b *testing.B, dsn string, replicas int) {
	c := erps[0]
	sb, err := c.sandbox(filepath.Join(b.TempDir(), "sandbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sb.Close() })
	erpURL, err := sb.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var bases []string
	var st *store.Store
	for range replicas {
		d, s := newReplica(b, dsn, erpURL, defaultLease, slog.New(slog.NewTextHandler(io.Discard, nil)))
		st = s
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { d.Serve(ctx, ln); close(done) }()
		b.Cleanup(func() { cancel(); <-done })
		bases = append(bases, "http://"+ln.Addr().String())
	}
	n := max(b.N, 300)
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = charge(b, i)
	}
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for s := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if !sendSigned(context.Background(), bases[(i+s)%len(bases)], bodies[i]) {
					b.Errorf("event %d not acknowledged", i)
					return
				}
			}
		}()
	}
	wg.Wait()
	counts := settled(b, st, 5*time.Minute)
	took := time.Since(start)
	b.StopTimer()
	if counts[store.Done] != n {
		b.Fatalf("%v, want %d done", counts, n)
	}
	b.ReportMetric(float64(n)/took.Seconds(), "events/s")
	b.ReportMetric(0, "ns/op")
}
