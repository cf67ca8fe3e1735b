package paypal

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedIsUpToDate re-runs the generator and compares its output with
// the committed schema_gen.txt, so that a change to the generator or to the
// copied specifications that is not regenerated fails CI. Fix with
// `go generate ./stdlib/paypal`.
func TestGeneratedIsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to re-run the generator: %v", err)
	}
	out := filepath.Join(t.TempDir(), "schema_gen.txt")
	cmd := exec.Command(gotool, "run", "./internal/gen", "-o", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./internal/gen: %v\n%s", err, stderr.Bytes())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(genText)) {
		t.Errorf("schema_gen.txt is stale: run go generate ./stdlib/paypal (%d bytes generated, %d committed)", len(got), len(genText))
	}
}
