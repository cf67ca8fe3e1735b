package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunMatchesCommitted runs the command as `go generate` does, into a
// temporary directory, and compares with the committed file.
func TestRunMatchesCommitted(t *testing.T) {
	out := filepath.Join(t.TempDir(), "default_metadata.xml")
	var stderr bytes.Buffer
	if code := run([]string{"-ref", filepath.Join("..", "..", "..", "..", "testdata", "d365fo"), "-out", out}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "default_metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("stdlib/d365fo/default_metadata.xml is stale: run `go generate` in stdlib/d365fo")
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-ref", "x"}, {"-out", "y"}, {"-ref", "x", "-out", "y", "extra"}} {
		var stderr bytes.Buffer
		if code := run(args, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage") {
			t.Errorf("run(%q) = %d, %q; want 2 and usage", args, code, stderr.String())
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"-ref", t.TempDir(), "-out", filepath.Join(t.TempDir(), "x.xml")}, &stderr); code != 1 {
		t.Errorf("missing inputs: exit %d, want 1 (%s)", code, stderr.String())
	}
}
