// Package stripemock runs stripe-mock, Stripe's API double
// (github.com/stripe/stripe-mock), for the duration of a test.
//
// Start finds the stripe-mock binary on PATH or in the go command's GOBIN or
// GOPATH/bin, starts it on free loopback ports and returns its base URL. When
// the binary is missing the test is skipped, or fails if FLOW_REQUIRE_STRIPE_MOCK=1
// (as in CI, which installs Version).
package stripemock

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Version is the stripe-mock release the tests are written against; .ci/run
// installs it with go install github.com/stripe/stripe-mock@Version.
const Version = "v0.203.0"

// startTimeout bounds how long stripe-mock may take to load its spec and answer.
const startTimeout = 20 * time.Second

// listening is what stripe-mock prints once its HTTP listener is bound.
const listening = "Listening for HTTP at address: "

// Start starts stripe-mock and returns its base URL ("http://127.0.0.1:port").
// The process is killed when the test ends.
func Start(tb testing.TB) string {
	tb.Helper()
	bin, err := find()
	if err != nil {
		if os.Getenv("FLOW_REQUIRE_STRIPE_MOCK") == "1" {
			tb.Fatalf("FLOW_REQUIRE_STRIPE_MOCK=1 but %v", err)
		}
		tb.Skipf("%v; install it with go install github.com/stripe/stripe-mock@%s", err, Version)
	}

	// Both listeners on loopback, ports chosen by the kernel: without
	// -https-addr, stripe-mock also listens for HTTPS on :12112.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	addrc := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		scanAddr(stdout, addrc)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-drained
		_ = cmd.Wait() // "signal: killed"; stderr is complete after Wait
	})

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	var addr string
	select {
	case addr = <-addrc:
	case <-ctx.Done():
		tb.Fatalf("stripe-mock printed no %q line within %s", strings.TrimSpace(listening), startTimeout)
	}
	if addr == "" {
		err := cmd.Wait()
		tb.Fatalf("stripe-mock exited before listening (%v): %s", err, stderr.Bytes())
	}
	url := "http://" + addr
	if err := waitReady(ctx, url); err != nil {
		tb.Fatalf("stripe-mock at %s: %v", url, err)
	}
	return url
}

// find looks for stripe-mock on PATH, then where go install puts it.
func find() (string, error) {
	if bin, err := exec.LookPath("stripe-mock"); err == nil {
		return bin, nil
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var dirs []string
		if len(lines) > 0 && lines[0] != "" {
			dirs = append(dirs, lines[0])
		}
		if len(lines) > 1 {
			for _, p := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
		for _, dir := range dirs {
			bin := filepath.Join(dir, "stripe-mock")
			if fi, err := os.Stat(bin); err == nil && !fi.IsDir() {
				return bin, nil
			}
		}
	}
	return "", errors.New("stripe-mock not found on PATH or in $(go env GOBIN) or $(go env GOPATH)/bin")
}

// scanAddr sends the address from stripe-mock's "Listening for HTTP" line
// ("" if the output ends first), then reads r to the end so the process
// never blocks on a full pipe.
func scanAddr(r io.Reader, addrc chan<- string) {
	sc := bufio.NewScanner(r)
	sent := false
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), listening); ok && !sent {
			addrc <- strings.TrimSpace(addr)
			sent = true
		}
	}
	if !sent {
		addrc <- ""
	}
	_, _ = io.Copy(io.Discard, r) // after a scanner error (a too long line)
}

// waitReady polls url until stripe-mock answers an authenticated request.
func waitReady(ctx context.Context, url string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/balance", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer sk_test_123")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(res.Status)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}
