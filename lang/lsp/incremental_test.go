package lsp

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowhq/flow/lang/parser"
)

// sources returns the example flows and this package's test flows.
func sources(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, pattern := range []string{"../../flows/*/*.flow", "testdata/*/*.flow", "../../testdata/*/*.flow"} {
		names, _ := filepath.Glob(pattern)
		for _, n := range names {
			if data, err := os.ReadFile(n); err == nil {
				out[n] = string(data)
			}
		}
	}
	if len(out) < 3 {
		t.Fatalf("found only %d flows", len(out))
	}
	return out
}

// TestChunkedParseIsParse checks that parsing by declarations gives the
// tree that parsing the whole file gives, for the example flows and for
// edits of them, and again when reusing the parses of the unchanged
// declarations.
func TestChunkedParseIsParse(t *testing.T) {
	split := 0
	for name, src := range sources(t) {
		cache := map[string]chunkParse{}
		variants := []string{src, "\n\n" + src, strings.Replace(src, "\n", "\n\n", 3), strings.ReplaceAll(src, "    ", "\t")}
		for i := 0; i < len(src); i += len(src)/40 + 1 {
			variants = append(variants, src[:i]+"x"+src[i:], src[:i]+"\n"+src[i:], src[:i]+src[min(len(src), i+3):])
		}
		agree := 0
		for _, v := range variants {
			want, diags := parser.ParseFile(name, []byte(v))
			got := parseChunked(name, v, cache)
			if got == nil {
				continue // parsed whole: nothing to compare
			}
			if diags.HasErrors() {
				t.Errorf("%s: chunks parse where the file does not: %v\n%s", name, diags, v)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: chunked parse differs from the whole parse of\n%s", name, v)
				continue
			}
			agree++
			if len(chunks(v)) > 2 {
				split++
			}
		}
		if _, d := parser.ParseFile(name, []byte(src)); agree == 0 && !d.HasErrors() {
			t.Errorf("%s: no chunked parse agrees", name)
		}
	}
	if split == 0 {
		t.Error("no file had more than two chunks")
	}
}

func TestChunks(t *testing.T) {
	src := "package p\n// flow x\nparam a: string = \"flow\"\ntable t: map(string, int) = {\n\"x\": 1,\nflow: 2}\n  flow f {\n  on x\n}\nledgerx\n"
	var got []string
	for _, c := range chunks(src) {
		got = append(got, c.text)
	}
	want := []string{"package p\n// flow x\n", "param a: string = \"flow\"\n", "table t: map(string, int) = {\n\"x\": 1,\nflow: 2}\n", "  flow f {\n  on x\n}\nledgerx\n"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("chunks:\n%q\nwant\n%q", got, want)
	}
	if c := chunks(src)[3]; c.start != strings.Index(src, "  flow") || c.line != 6 {
		t.Errorf("last chunk at %d line %d", c.start, c.line)
	}
}
