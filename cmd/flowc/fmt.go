package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/format"
)

func cmdFmt(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fmt", `Usage: flowc fmt [-w] [-l] [-d] [PATH...]

Formats .flow files in the canonical layout, keeping comments. Without
flags, prints the formatted source of each file. With no PATH, reads
standard input and writes the result to standard output.`, stderr)
	write := fs.Bool("w", false, "write the result to the file instead of printing it")
	list := fs.Bool("l", false, "list files whose formatting differs")
	showDiff := fs.Bool("d", false, "print a diff of the changes")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() == 0 {
		src, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintf(stderr, "flowc fmt: %v\n", err)
			return 2
		}
		out, diags := format.Source("<stdin>", src)
		if diags.HasErrors() {
			diags.WriteText(stderr, func(string) *diag.Source { return diag.NewSource("<stdin>", src) })
			return 1
		}
		stdout.Write(out)
		return 0
	}
	files, err := compiler.FindFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "flowc fmt: %v\n", err)
		return 2
	}
	code := 0
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "flowc fmt: %v\n", err)
			return 2
		}
		out, diags := format.Source(name, src)
		if diags.HasErrors() {
			diags.WriteText(stderr, func(string) *diag.Source { return diag.NewSource(name, src) })
			code = 1
			continue
		}
		changed := !bytes.Equal(src, out)
		if *list && changed {
			fmt.Fprintln(stdout, name)
		}
		if *showDiff && changed {
			d, err := diff(name, src, out)
			if err != nil {
				fmt.Fprintf(stderr, "flowc fmt: %v\n", err)
				return 2
			}
			stdout.Write(d)
		}
		if *write && changed {
			if err := writeFileAtomic(name, out); err != nil {
				fmt.Fprintf(stderr, "flowc fmt: %v\n", err)
				return 2
			}
		}
		if !*write && !*list && !*showDiff {
			stdout.Write(out)
		}
	}
	return code
}

// writeFileAtomic replaces a file through a temporary file in its directory,
// keeping its permissions, so an interrupted write never truncates a flow.
func writeFileAtomic(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".flowfmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), st.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// diff returns a unified diff using the system diff tool.
func diff(name string, a, b []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "flowfmt")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fa, fb := filepath.Join(dir, "orig"), filepath.Join(dir, "formatted")
	if err := os.WriteFile(fa, a, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(fb, b, 0o600); err != nil {
		return nil, err
	}
	out, err := exec.Command("diff", "-u", "--label", name+".orig", "--label", name, fa, fb).Output()
	if len(out) > 0 {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return nil, nil
}
