// Package langtest runs txtar golden tests: each archive holds input files
// and the expected outputs under out/. FLOW_UPDATE=1 rewrites the outputs.
package langtest

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// Update reports whether goldens should be rewritten (FLOW_UPDATE=1).
func Update() bool { return os.Getenv("FLOW_UPDATE") != "" }

// Case is one archive under test.
type Case struct {
	Name    string
	Archive *txtar.Archive
}

// Inputs returns the archive's files that are not outputs.
func (c *Case) Inputs() []txtar.File {
	var out []txtar.File
	for _, f := range c.Archive.Files {
		if !strings.HasPrefix(f.Name, "out/") {
			out = append(out, f)
		}
	}
	return out
}

// Run runs fn on every *.txtar in dir and compares what it returns (output
// name -> content) with the archive's out/<name> files.
func Run(t *testing.T, dir string, fn func(t *testing.T, c *Case) map[string]string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no golden files in %s", dir)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c := &Case{Name: name, Archive: a}
			got := fn(t, c)
			if Update() {
				write(t, path, a, got)
				return
			}
			want := map[string]string{}
			for _, f := range a.Files {
				if strings.HasPrefix(f.Name, "out/") {
					want[strings.TrimPrefix(f.Name, "out/")] = string(f.Data)
				}
			}
			for _, k := range keys(got, want) {
				g, w := got[k], want[k]
				if g != w {
					t.Errorf("out/%s differs (FLOW_UPDATE=1 rewrites it)\n--- got\n%s--- want\n%s", k, g, w)
				}
			}
		})
	}
}

func keys(a, b map[string]string) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func write(t *testing.T, path string, a *txtar.Archive, got map[string]string) {
	var files []txtar.File
	for _, f := range a.Files {
		if !strings.HasPrefix(f.Name, "out/") {
			files = append(files, f)
		}
	}
	for _, k := range keys(got, nil) {
		data := got[k]
		if data != "" && !strings.HasSuffix(data, "\n") {
			data += "\n"
		}
		files = append(files, txtar.File{Name: "out/" + k, Data: []byte(data)})
	}
	a.Files = files
	if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Trim removes the trailing newline txtar adds to every file.
func Trim(b []byte) []byte { return bytes.TrimSuffix(b, []byte("\n")) }
