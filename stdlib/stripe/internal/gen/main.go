// Command gen writes stdlib/stripe's schema_gen.json from stripe-go v76's
// source: it parses the library's root package with go/parser (doc comments,
// enum constants, expandable references), walks the types reachable from the
// webhook event subjects and the list sources, and writes the objects, enums
// and event subjects in the compact form stdlib/stripe decodes.
//
// Usage (from stdlib/stripe, via go generate):
//
//	go run ./internal/gen [-o schema_gen.json] [-v]
//
// It prints counts and the decisions worth a review (Minor fields, events
// left out) on stderr; -v adds the expandable-reference decisions.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
)

// module is the stripe-go module whose source is read.
const module = "github.com/stripe/stripe-go/v76"

// listRoots are the element types of the connector's list sources
// (stdlib/stripe's lists), reachable without any event.
var listRoots = []string{"BalanceTransaction"}

func main() {
	out := flag.String("o", "schema_gen.json", "output file")
	verbose := flag.Bool("v", false, "also list expandable-reference decisions")
	flag.Parse()
	if err := run(*out, *verbose, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string, verbose bool, log io.Writer) error {
	dir, version, err := moduleDir()
	if err != nil {
		return err
	}
	lib, err := loadLibrary(dir)
	if err != nil {
		return err
	}
	events, left := mapEvents(lib)
	b := newBuilder(lib)
	for _, e := range events {
		b.need(e.Subject)
	}
	for _, r := range listRoots {
		b.need(r)
	}
	if err := b.run(); err != nil {
		return err
	}
	objects := b.sortedObjects()
	var buf bytes.Buffer
	write(&buf, module+" "+version, events, b.enums, objects)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	report(log, b, objects, events, left, buf.Len(), verbose)
	return nil
}

// moduleDir asks the go command where stripe-go's source is.
func moduleDir() (dir, version string, err error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", module)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	dir, version, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ok || dir == "" {
		return "", "", fmt.Errorf("go list -m %s: no source directory (run go mod download)", module)
	}
	return dir, version, nil
}

// write emits the data file: one event, enum or field per line, so a
// stripe-go upgrade reads as a reviewable diff.
func write(w *bytes.Buffer, source string, events []event, enums map[string][]string, objects []*object) {
	fmt.Fprintf(w, "{\"source\":%s,\n\"events\":[", q(source))
	for i, e := range events {
		fmt.Fprintf(w, "%s\n[%s,%s]", comma(i), q(e.Name), q(e.Subject))
	}
	w.WriteString("],\n\"enums\":{")
	names := make([]string, 0, len(enums))
	for n := range enums {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		vals := slices.Clone(enums[n])
		sort.Strings(vals)
		parts := make([]string, len(vals))
		for j, v := range vals {
			parts[j] = q(v)
		}
		fmt.Fprintf(w, "%s\n%s:[%s]", comma(i), q(n), strings.Join(parts, ","))
	}
	w.WriteString("},\n\"objects\":[")
	for i, o := range objects {
		fmt.Fprintf(w, "%s\n{\"name\":%s,\"doc\":%s,\"fields\":[", comma(i), q(o.Name), q(o.Doc))
		for j, f := range o.Fields {
			fmt.Fprintf(w, "%s\n[%s,%s,%s]", comma(j), q(f.Name), q(f.Type), q(f.Doc))
		}
		w.WriteString("]}")
	}
	w.WriteString("]}\n")
}

func comma(i int) string {
	if i == 0 {
		return ""
	}
	return ","
}

// q quotes s as a JSON string without HTML escaping.
func q(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // strings always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func report(w io.Writer, b *builder, objects []*object, events []event, left []string, size int, verbose bool) {
	nfields := 0
	for _, o := range objects {
		nfields += len(o.Fields)
	}
	minor := dedupe(b.minor)
	fmt.Fprintf(w, "gen: %d objects, %d fields, %d enums, %d Minor fields, %d timestamps, %d expandable IDs, %d events mapped, %d left out, %d bytes\n",
		len(objects), nfields, len(b.enums), len(minor), b.timestamp, len(dedupe(b.expanded)), len(events), len(left), size)
	fmt.Fprintln(w, "gen: Minor fields (review by hand; fix with moneyOverride):")
	for _, m := range minor {
		fmt.Fprintln(w, "  ", m)
	}
	fmt.Fprintln(w, "gen: events left out:")
	for _, l := range left {
		fmt.Fprintln(w, "  ", l)
	}
	if !verbose {
		return
	}
	for _, sec := range []struct {
		title string
		list  []string
	}{
		{"pointers to expandable types kept as objects", b.inline},
		{"lists of expandable IDs", b.idLists},
		{"lists of expandable types kept as objects", b.objLists},
		{"expandable IDs", b.expanded},
	} {
		fmt.Fprintf(w, "gen: %s:\n", sec.title)
		for _, s := range dedupe(sec.list) {
			fmt.Fprintln(w, "  ", s)
		}
	}
}

func dedupe(list []string) []string {
	out := slices.Clone(list)
	sort.Strings(out)
	return slices.Compact(out)
}
