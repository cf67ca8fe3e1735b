package parser_test

import (
	"os"
	"path/filepath"
	"testing"
)

// seeds returns the example flows, the fuzzers' starting corpus.
func seeds(tb testing.TB) [][]byte {
	paths, _ := filepath.Glob("../../flows/*/*.flow")
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
