package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sources finds the text of a file by the name diagnostics carry; it returns
// nil when the text is not available (the snippet is then left out).
type Sources func(file string) *Source

// WriteText prints diagnostics the way a person reads them:
//
//	flows/orders.flow:12:11: error[F0106]: unknown field "amout" on stripe.Charge
//	  12 |     TotalAmount: money(ch.amout, ch.currency),
//	     |                           ^^^^^
//	     = help: did you mean "amount"?
func (l List) WriteText(w io.Writer, src Sources) error {
	var b strings.Builder
	for _, d := range l {
		fmt.Fprintf(&b, "%s\n", d)
		var s *Source
		if src != nil && d.Pos.IsValid() {
			s = src(d.Pos.File)
		}
		gutter := len(fmt.Sprint(d.Pos.Line))
		if s != nil {
			line := s.Line(d.Pos.Line)
			text := strings.ReplaceAll(line, "\t", "    ")
			fmt.Fprintf(&b, "  %d | %s\n", d.Pos.Line, text)
			col := displayCol(line, d.Pos.Col)
			width := 1
			if d.End.IsValid() && d.End.Line == d.Pos.Line && d.End.Col > d.Pos.Col {
				width = displayCol(line, d.End.Col) - col
			} else if d.End.IsValid() && d.End.Line > d.Pos.Line {
				width = max(1, utf8.RuneCountInString(text)-col+1)
			}
			fmt.Fprintf(&b, "  %s | %s%s\n", strings.Repeat(" ", gutter), strings.Repeat(" ", col-1), strings.Repeat("^", width))
		}
		if d.Suggestion != "" {
			fmt.Fprintf(&b, "  %s = help: %s\n", strings.Repeat(" ", gutter), d.Suggestion)
		}
		for _, n := range d.Related {
			fmt.Fprintf(&b, "  %s = note: %s:%d:%d: %s\n", strings.Repeat(" ", gutter), n.Pos.File, n.Pos.Line, n.Pos.Col, n.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayCol converts a 1-based rune column into a display column with tabs
// expanded to four spaces, matching the snippet line WriteText prints.
func displayCol(line string, col int) int {
	c := 1
	for i, r := range []rune(line) {
		if i+1 >= col {
			break
		}
		if r == '\t' {
			c += 4
		} else {
			c++
		}
	}
	return c
}

// jsonDiagnostic is the stable machine form of a Diagnostic.
type jsonDiagnostic struct {
	File       string `json:"file"`
	Line       int    `json:"line"`
	Col        int    `json:"col"`
	EndLine    int    `json:"end_line"`
	EndCol     int    `json:"end_col"`
	Severity   string `json:"severity"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion,omitempty"`
}

func toJSON(d Diagnostic) jsonDiagnostic {
	end := d.End
	if !end.IsValid() {
		end = d.Pos
	}
	return jsonDiagnostic{File: d.Pos.File, Line: d.Pos.Line, Col: d.Pos.Col, EndLine: end.Line, EndCol: end.Col,
		Severity: d.Severity.String(), Code: string(d.Code), Message: d.Message, Suggestion: d.Suggestion}
}

// WriteJSON prints one JSON array of diagnostics (never null).
func (l List) WriteJSON(w io.Writer) error {
	out := make([]jsonDiagnostic, 0, len(l))
	for _, d := range l {
		out = append(out, toJSON(d))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteGitHub prints GitHub Actions workflow commands, one per diagnostic.
func (l List) WriteGitHub(w io.Writer) error {
	var b strings.Builder
	for _, d := range l {
		level := "error"
		switch d.Severity {
		case Warning:
			level = "warning"
		case Info:
			level = "notice"
		}
		end := d.End
		if !end.IsValid() {
			end = d.Pos
		}
		msg := d.Message
		if d.Suggestion != "" {
			msg += " (" + d.Suggestion + ")"
		}
		fmt.Fprintf(&b, "::%s file=%s,line=%d,col=%d,endLine=%d,endColumn=%d,title=%s::%s\n",
			level, ghProperty(d.Pos.File), d.Pos.Line, d.Pos.Col, end.Line, end.Col, d.Code, ghData(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
