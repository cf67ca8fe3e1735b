package main

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	mdLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	spaces = regexp.MustCompile(`\s+`)
)

// firstParagraph returns the first paragraph of a doc comment on one line.
func firstParagraph(doc string) string {
	doc = strings.TrimSpace(doc)
	if i := strings.Index(doc, "\n\n"); i >= 0 {
		doc = doc[:i]
	}
	return strings.TrimSpace(spaces.ReplaceAllString(doc, " "))
}

// maxDoc is the length a generated doc is trimmed to.
const maxDoc = 200

// cleanDoc returns the first sentences of a doc comment's first paragraph,
// without markdown links, within about maxDoc bytes.
func cleanDoc(doc string) string {
	p := mdLink.ReplaceAllString(firstParagraph(doc), "$1")
	if len(p) <= maxDoc {
		return p
	}
	end := 0
	for i := 0; i+1 < len(p) && i < maxDoc; i++ {
		if (p[i] == '.' || p[i] == '!' || p[i] == '?') && p[i+1] == ' ' && !abbrev(p[:i+1]) {
			end = i + 1
		}
	}
	if end > 0 {
		return p[:end]
	}
	cut := strings.LastIndexByte(p[:maxDoc-3], ' ')
	if cut < maxDoc/2 { // one long word: cut at a rune boundary
		cut = maxDoc - 3
		for cut > 0 && !utf8.RuneStart(p[cut]) {
			cut--
		}
	}
	return strings.TrimRight(p[:cut], " ,;:") + "..."
}

// abbrev reports whether s ends with an abbreviation rather than a sentence.
func abbrev(s string) bool {
	for _, a := range []string{"e.g.", "i.e.", "etc.", "vs.", "approx."} {
		if strings.HasSuffix(strings.ToLower(s), a) {
			return true
		}
	}
	return false
}
