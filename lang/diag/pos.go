package diag

import (
	"sort"
	"unicode/utf8"
)

// Pos is a position in a source file. Offset is 0-based in bytes; Line and Col
// are 1-based, Col counted in runes. The zero Pos means "no position".
type Pos struct {
	File   string
	Offset int
	Line   int
	Col    int
}

// IsValid reports whether p names a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Before reports whether p comes before q in the same file.
func (p Pos) Before(q Pos) bool { return p.Offset < q.Offset }

// Source is a file's text with a line index, for turning offsets into Pos.
type Source struct {
	Name  string
	Text  []byte
	lines []int // byte offset of the start of each line
}

// NewSource indexes text for position lookups.
func NewSource(name string, text []byte) *Source {
	s := &Source{Name: name, Text: text, lines: []int{0}}
	for i, b := range text {
		if b == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// Pos returns the position of a byte offset, clamped into the file.
func (s *Source) Pos(offset int) Pos {
	if offset < 0 {
		offset = 0
	}
	if offset > len(s.Text) {
		offset = len(s.Text)
	}
	line := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > offset }) - 1
	start := s.lines[line]
	col := utf8.RuneCount(s.Text[start:offset]) + 1
	return Pos{File: s.Name, Offset: offset, Line: line + 1, Col: col}
}

// Line returns the text of 1-based line n without its newline.
func (s *Source) Line(n int) string {
	if n < 1 || n > len(s.lines) {
		return ""
	}
	start := s.lines[n-1]
	end := len(s.Text)
	if n < len(s.lines) {
		end = s.lines[n] - 1
	}
	if end > start && s.Text[end-1] == '\r' {
		end--
	}
	return string(s.Text[start:end])
}

// LineCount returns the number of lines.
func (s *Source) LineCount() int { return len(s.lines) }
