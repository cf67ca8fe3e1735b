package lsp

import (
	"sort"
	"unicode/utf8"

	"go.lsp.dev/protocol"

	"github.com/flowhq/flow/lang/diag"
)

// text is a document's content with a line index, converting between byte
// offsets and LSP positions (0-based lines, UTF-16 code units in a line).
type text struct {
	src   []byte
	lines []int // byte offset of the start of each line
}

func newText(src []byte) *text {
	t := &text{src: src, lines: []int{0}}
	for i, b := range src {
		if b == '\n' {
			t.lines = append(t.lines, i+1)
		}
	}
	return t
}

// position converts a byte offset (clamped into the text) to a position.
func (t *text) position(offset int) protocol.Position {
	offset = max(0, min(offset, len(t.src)))
	line := sort.Search(len(t.lines), func(i int) bool { return t.lines[i] > offset }) - 1
	col := 0
	for _, r := range string(t.src[t.lines[line]:offset]) {
		col += utf16Len(r)
	}
	return protocol.Position{Line: uint32(line), Character: uint32(col)}
}

// offset converts a position to a byte offset. A line past the end is the
// end of the text; a character past the end of its line is the line's end.
func (t *text) offset(p protocol.Position) int {
	if int(p.Line) >= len(t.lines) {
		return len(t.src)
	}
	i := t.lines[p.Line]
	end := len(t.src)
	if int(p.Line)+1 < len(t.lines) {
		end = t.lines[p.Line+1] - 1 // the newline
	}
	for col := 0; i < end && col < int(p.Character); {
		r, size := utf8.DecodeRune(t.src[i:end])
		col += utf16Len(r)
		i += size
	}
	return i
}

// rangeOf converts byte offsets [start, end) to a range.
func (t *text) rangeOf(start, end int) protocol.Range {
	if end < start {
		end = start
	}
	return protocol.Range{Start: t.position(start), End: t.position(end)}
}

// diagRange converts a diagnostic's span to a range. A point (no End) is
// widened to the word it stands on, so editors have something to underline.
func (t *text) diagRange(pos, end diag.Pos) protocol.Range {
	s, e := pos.Offset, end.Offset
	if !end.IsValid() || e < s {
		e = s
	}
	if e == s {
		for e < len(t.src) && isWordByte(t.src[e]) {
			e++
		}
	}
	return t.rangeOf(s, e)
}

func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// wordAt returns the identifier around offset, and its byte range.
func (t *text) wordAt(offset int) (string, int, int) {
	offset = max(0, min(offset, len(t.src)))
	s, e := offset, offset
	for s > 0 && isWordByte(t.src[s-1]) {
		s--
	}
	for e < len(t.src) && isWordByte(t.src[e]) {
		e++
	}
	if s == e || (t.src[s] >= '0' && t.src[s] <= '9') {
		return "", s, e
	}
	return string(t.src[s:e]), s, e
}
