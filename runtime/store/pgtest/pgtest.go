// Package pgtest gives tests a PostgreSQL database: a private cluster on
// loopback, made with the PostgreSQL binaries found on the machine
// (initdb into a temporary directory, postgres on a free port, as the
// postgres user when the tests run as root), started once per test binary
// and removed when it ends. Each test gets a schema of its own.
//
// Set FLOW_POSTGRES_URL to use a running server instead, and
// FLOW_REQUIRE_POSTGRES=1 to fail, rather than skip, when there is no
// PostgreSQL. A package that uses DSN calls Main from its TestMain.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Main runs the tests and then stops the cluster, if one started.
func Main(m *testing.M) {
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// DSN returns the URL of a fresh, empty schema (search_path names it) in
// the test cluster, or skips the test when there is no PostgreSQL.
func DSN(t testing.TB) string {
	t.Helper()
	base, err := shared.url()
	if err != nil {
		if os.Getenv("FLOW_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL (FLOW_REQUIRE_POSTGRES=1): %v", err)
		}
		t.Skipf("no PostgreSQL: %v (FLOW_REQUIRE_POSTGRES=1 makes this a failure)", err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("t%d_%d", os.Getpid(), schemas.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var schemas atomic.Int64

// cluster is the test binary's PostgreSQL.
type cluster struct {
	once sync.Once
	base string
	err  error
	dir  string
	cmd  *exec.Cmd
	// exited is closed when the server has exited.
	exited chan struct{}
}

var shared cluster

func (c *cluster) url() (string, error) {
	c.once.Do(func() {
		if u := os.Getenv("FLOW_POSTGRES_URL"); u != "" {
			c.base = u
			return
		}
		c.base, c.err = c.start()
		if c.err != nil {
			c.stop()
		}
	})
	return c.base, c.err
}

// bindir finds the directory of the PostgreSQL server binaries: where
// initdb on PATH lives, where pg_config says, or Debian's layout.
func bindir() (string, error) {
	has := func(dir string) bool {
		_, e1 := os.Stat(filepath.Join(dir, "postgres"))
		_, e2 := os.Stat(filepath.Join(dir, "initdb"))
		return e1 == nil && e2 == nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	if p, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(p, "--bindir").Output(); err == nil && has(strings.TrimSpace(string(out))) {
			return strings.TrimSpace(string(out)), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.Reverse(dirs) // the newest version first (as long as versions have two digits)
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", errors.New("no initdb and postgres binaries (apt-get install postgresql)")
}

func (c *cluster) start() (string, error) {
	bin, err := bindir()
	if err != nil {
		return "", err
	}
	if c.dir, err = os.MkdirTemp("", "flow-pgtest-"); err != nil {
		return "", err
	}
	attr, err := procAttr(c.dir)
	if err != nil {
		return "", err
	}
	data := filepath.Join(c.dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "flow", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.Dir, initdb.SysProcAttr = c.dir, attr
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	logf, err := os.Create(filepath.Join(c.dir, "postgres.log"))
	if err != nil {
		return "", err
	}
	defer logf.Close()
	// Durable against a killed flowd (what the tests kill), not against a
	// lost machine: fsync off keeps the tests quick.
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", fmt.Sprint(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300",
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "shared_buffers=64MB")
	c.cmd.Dir, c.cmd.SysProcAttr, c.cmd.Stdout, c.cmd.Stderr = c.dir, attr, logf, logf
	if err := c.cmd.Start(); err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	exited := make(chan struct{})
	c.exited = exited
	go func() { c.cmd.Wait(); close(exited) }()
	base := fmt.Sprintf("postgres://flow@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, base)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return base, nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
			return "", fmt.Errorf("postgres exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("postgres did not accept connections: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *cluster) stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		stopProcess(c.cmd.Process)
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second): // a fast shutdown takes less
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
