package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Severity ranks a diagnostic.
type Severity int

const (
	Error Severity = iota
	Warning
	Info
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Info:
		return "info"
	}
	return "error"
}

// Note is a secondary position that explains a diagnostic.
type Note struct {
	Pos     Pos
	Message string
}

// Diagnostic is one problem in the user's source.
type Diagnostic struct {
	Pos, End   Pos // End is exclusive; a zero End marks a point
	Severity   Severity
	Code       Code
	Message    string // lower-case, one line, no trailing period
	Suggestion string // optional, e.g. `did you mean "amount"?`
	Related    []Note
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s[%s]: %s", d.Pos.File, d.Pos.Line, d.Pos.Col, d.Severity, d.Code, d.Message)
}

// List is an ordered set of diagnostics.
type List []Diagnostic

// Add appends a diagnostic.
func (l *List) Add(d Diagnostic) { *l = append(*l, d) }

// Errorf appends an error at [pos, end).
func (l *List) Errorf(pos, end Pos, code Code, format string, args ...any) *Diagnostic {
	*l = append(*l, Diagnostic{Pos: pos, End: end, Severity: Error, Code: code, Message: fmt.Sprintf(format, args...)})
	return &(*l)[len(*l)-1]
}

// Warnf appends a warning at [pos, end).
func (l *List) Warnf(pos, end Pos, code Code, format string, args ...any) *Diagnostic {
	*l = append(*l, Diagnostic{Pos: pos, End: end, Severity: Warning, Code: code, Message: fmt.Sprintf(format, args...)})
	return &(*l)[len(*l)-1]
}

// Sort orders diagnostics by file, then position, then code, and drops exact
// duplicates (the same code and message at the same place).
func (l List) Sort() List {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Offset != b.Pos.Offset {
			return a.Pos.Offset < b.Pos.Offset
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Message < b.Message
	})
	out := l[:0]
	for i, d := range l {
		if i > 0 {
			p := out[len(out)-1]
			if p.Pos == d.Pos && p.Code == d.Code && p.Message == d.Message {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns the number of errors and warnings.
func (l List) Count() (errors, warnings int) {
	for _, d := range l {
		switch d.Severity {
		case Error:
			errors++
		case Warning:
			warnings++
		}
	}
	return
}

// Limit keeps every warning but at most max errors per file, in position
// order, and adds one note per file that was cut short. max <= 0 keeps all.
func (l List) Limit(max int) List {
	if max <= 0 {
		return l
	}
	l = l.Sort()
	perFile := map[string]int{}
	cut := map[string]Pos{}
	var out List
	for _, d := range l {
		if d.Severity == Error {
			perFile[d.Pos.File]++
			if perFile[d.Pos.File] > max {
				if _, ok := cut[d.Pos.File]; !ok {
					cut[d.Pos.File] = d.Pos
				}
				continue
			}
		}
		out = append(out, d)
	}
	for file, pos := range cut {
		out = append(out, Diagnostic{Pos: pos, Severity: Info, Code: TooManyErrors,
			Message:    fmt.Sprintf("too many errors in %s: %d more not shown", file, perFile[file]-max),
			Suggestion: "run with --all-errors to see them all"})
	}
	return out.Sort()
}

// Err returns the list as an error when it has errors, else nil.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	var b strings.Builder
	for i, d := range l {
		if d.Severity != Error {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(d.String())
		if i >= 9 {
			break
		}
	}
	return listError{b.String()}
}

type listError struct{ s string }

func (e listError) Error() string { return e.s }
