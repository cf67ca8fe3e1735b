// Package vscode holds the VS Code extension for .flow files; this test
// runs the grammar's tokenization test (test/grammar.test.js) under node.
package vscode

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestGrammar runs the TextMate grammar test with vscode-textmate and
// vscode-oniguruma from npm. It needs node and `npm ci` in test/; without
// them it skips, unless FLOW_REQUIRE_NODE=1.
func TestGrammar(t *testing.T) {
	require := os.Getenv("FLOW_REQUIRE_NODE") == "1"
	missing := func(why string) {
		if require {
			t.Fatalf("FLOW_REQUIRE_NODE=1, but %s", why)
		}
		t.Skip(why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	for _, m := range []string{"vscode-textmate", "vscode-oniguruma"} {
		if _, err := os.Stat(filepath.Join("test", "node_modules", m)); err != nil {
			missing(m + " is not installed: run npm ci in lang/editor/vscode/test")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "grammar.test.js")
	cmd.Dir = "test"
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("grammar test: %v", err)
	}
}
