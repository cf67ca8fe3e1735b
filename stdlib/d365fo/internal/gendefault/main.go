// Command gendefault writes the d365fo connector's built-in CSDL document.
//
//	go run ./internal/gendefault -ref ../../testdata/d365fo -out default_metadata.xml
//
// -ref is a folder holding entities_fields_raw.json, enums.json and
// CustomersV3_metadata_trimmed.edmx.xml (the repository keeps copies in
// testdata/d365fo); -out is the file to write. The merge rules and the
// overlay of documented facts live in package gen.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flowhq/flow/stdlib/d365fo/internal/gendefault/gen"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gendefault", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ref := fs.String("ref", "", "reference folder with the input files (required)")
	out := fs.String("out", "", "output CSDL file (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *ref == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: gendefault -ref DIR -out FILE")
		return 2
	}
	b, err := gen.Generate(os.DirFS(*ref))
	if err != nil {
		fmt.Fprintln(stderr, "gendefault:", err)
		return 1
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(stderr, "gendefault:", err)
		return 1
	}
	return 0
}
