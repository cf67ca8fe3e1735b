package compiler

import (
	"testing"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/ext"
)

// TestCheckLeavesCachedParseAlone checks that checking, which rewrites an
// AST in place (here a namespaced call into a global one), works on a copy:
// the cached parse stays as parsed for the next environment.
func TestCheckLeavesCachedParseAlone(t *testing.T) {
	env, err := cel.NewEnv(ext.Math())
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{})
	const text = "math.ceil(1.5)"
	parsed, iss := c.parse(env, text)
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	isMember := func(e celast.Expr) bool { return e.AsCall().IsMemberFunction() }
	if !isMember(parsed.NativeRep().Expr()) {
		t.Fatal("the parse is not a member call; the test needs another rewrite")
	}
	for _, key := range []string{"a", "b"} {
		ch := c.check(env, key, parsed)
		if ch.iss.Err() != nil {
			t.Fatal(ch.iss.Err())
		}
		if isMember(ch.root) || ch.root.AsCall().FunctionName() != "math.ceil" {
			t.Errorf("check %s: the checked call is not math.ceil()", key)
		}
		if again, _ := c.parse(env, text); again != parsed || !isMember(again.NativeRep().Expr()) {
			t.Errorf("check %s: the cached parse changed", key)
		}
	}
	if a, b := c.check(env, "a", parsed), c.check(env, "b", parsed); a == b || a != c.check(env, "a", parsed) {
		t.Error("checks are not cached by key")
	}
}
