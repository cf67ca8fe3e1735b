package aif

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Node is one element of a parsed message.
type Node struct {
	Name     xml.Name
	Attr     []xml.Attr
	Text     string // character data directly inside, trimmed
	Children []*Node
}

// Limits of Parse.
const (
	MaxDepth    = 64
	MaxElements = 1 << 20
)

// Parse reads one XML document into a tree. It fails on malformed XML,
// trailing content, more than MaxDepth levels or MaxElements elements.
func Parse(data []byte) (*Node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *Node
	var stack []*Node
	var text []*strings.Builder
	count := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errors.New("malformed XML: more than one root element")
			}
			if count++; count > MaxElements {
				return nil, fmt.Errorf("XML has more than %d elements", MaxElements)
			}
			if len(stack) >= MaxDepth {
				return nil, fmt.Errorf("XML nests deeper than %d elements", MaxDepth)
			}
			n := &Node{Name: t.Name, Attr: append([]xml.Attr(nil), t.Attr...)}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			text = append(text, &strings.Builder{})
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.Text = strings.TrimSpace(text[len(text)-1].String())
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("malformed XML: text outside the root element")
				}
				continue
			}
			text[len(text)-1].Write(t)
		}
	}
	if root == nil {
		return nil, errors.New("malformed XML: no root element")
	}
	return root, nil
}

// Value returns the element's text; "" for a missing element.
func (n *Node) Value() string {
	if n == nil {
		return ""
	}
	return n.Text
}

// Child returns the first child element with the local name, or nil.
func (n *Node) Child(local string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name.Local == local {
			return c
		}
	}
	return nil
}

// All returns the child elements with the local name.
func (n *Node) All(local string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Name.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// Path follows child elements by local name; nil when one is missing.
func (n *Node) Path(locals ...string) *Node {
	for _, l := range locals {
		n = n.Child(l)
	}
	return n
}

// Find returns the first element with the local name in n's subtree
// (n included), depth first, or nil.
func (n *Node) Find(local string) *Node {
	if n == nil {
		return nil
	}
	if n.Name.Local == local {
		return n
	}
	for _, c := range n.Children {
		if f := c.Find(local); f != nil {
			return f
		}
	}
	return nil
}

// AttrValue returns the value of the attribute with the local name.
func (n *Node) AttrValue(local string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// Nil reports xsi:nil="true".
func (n *Node) Nil() bool {
	if n == nil {
		return true
	}
	for _, a := range n.Attr {
		if a.Name.Local == "nil" && a.Name.Space == xsiNS && (a.Value == "true" || a.Value == "1") {
			return true
		}
	}
	return false
}

const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// Writer writes XML tokens, declaring a default namespace only where it
// changes. The first error sticks; Err reports it.
type Writer struct {
	enc *xml.Encoder
	ns  []string // default namespace per open element
	err error
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{enc: xml.NewEncoder(w)} }

func (w *Writer) current() string {
	if len(w.ns) == 0 {
		return ""
	}
	return w.ns[len(w.ns)-1]
}

// Start opens an element in namespace ns ("" keeps the current default).
func (w *Writer) Start(ns, local string, attrs ...xml.Attr) {
	if w.err != nil {
		return
	}
	if ns == "" {
		ns = w.current()
	}
	name := xml.Name{Local: local}
	if ns != w.current() {
		name.Space = ns
	}
	w.ns = append(w.ns, ns)
	w.err = w.enc.EncodeToken(xml.StartElement{Name: name, Attr: attrs})
}

// End closes the innermost open element.
func (w *Writer) End(local string) {
	if w.err != nil {
		return
	}
	if len(w.ns) == 0 {
		w.err = errors.New("aif: End without Start")
		return
	}
	name := xml.Name{Local: local}
	ns := w.ns[len(w.ns)-1]
	w.ns = w.ns[:len(w.ns)-1]
	if ns != w.current() {
		name.Space = ns
	}
	w.err = w.enc.EncodeToken(xml.EndElement{Name: name})
}

// Text writes an element holding text.
func (w *Writer) Text(ns, local, value string, attrs ...xml.Attr) {
	w.Start(ns, local, attrs...)
	if w.err == nil && value != "" {
		w.err = w.enc.EncodeToken(xml.CharData(value))
	}
	w.End(local)
}

// Flush writes out what is buffered and returns the first error.
func (w *Writer) Flush() error {
	if w.err == nil {
		w.err = w.enc.Flush()
	}
	return w.err
}

// Err returns the first error.
func (w *Writer) Err() error { return w.err }
