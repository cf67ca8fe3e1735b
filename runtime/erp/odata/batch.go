package odata

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Request is one operation inside a $batch.
type Request struct {
	ContentID string
	Method    string // GET, POST, PATCH, PUT, DELETE
	URL       string // relative to the service root ("LedgerJournalLines"), or absolute
	Header    http.Header
	Body      []byte
}

// Part is one top-level part of a batch: a changeset (Changeset true, its
// requests applied all or nothing) or one independent request.
type Part struct {
	Changeset bool
	Requests  []Request
}

// Response is the answer to one Request.
type Response struct {
	ContentID string
	Status    int
	Header    http.Header
	Body      []byte
}

// ResponsePart is the answer to one Part.
type ResponsePart struct {
	Changeset bool
	Responses []Response
}

// Limits on what the readers accept.
const (
	MaxOperations = 5000     // operations in one batch (F&O's documented limit)
	maxPartBytes  = 32 << 20 // bytes in one operation
)

// ContentType returns the Content-Type of a batch with this boundary.
func ContentType(boundary string) string {
	return "multipart/mixed; boundary=" + boundary
}

// Boundary returns a fresh random multipart boundary starting with prefix.
func Boundary(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + "_" + hex.EncodeToString(b[:])
}

// WriteRequest writes parts as a multipart/mixed batch body with boundary.
func WriteRequest(w io.Writer, boundary string, parts []Part) error {
	out := make([]rawPart, len(parts))
	for i, p := range parts {
		out[i].changeset = p.Changeset
		for _, r := range p.Requests {
			var b bytes.Buffer
			fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", r.Method, r.URL)
			writeHTTPRest(&b, r.Header, r.Body)
			out[i].ops = append(out[i].ops, message{contentID: r.ContentID, data: b.Bytes()})
		}
	}
	return writeBatch(w, boundary, out)
}

// WriteResponse writes parts as a multipart/mixed batch answer with boundary.
func WriteResponse(w io.Writer, boundary string, parts []ResponsePart) error {
	out := make([]rawPart, len(parts))
	for i, p := range parts {
		out[i].changeset = p.Changeset
		for _, r := range p.Responses {
			var b bytes.Buffer
			fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", r.Status, http.StatusText(r.Status))
			writeHTTPRest(&b, r.Header, r.Body)
			out[i].ops = append(out[i].ops, message{contentID: r.ContentID, data: b.Bytes()})
		}
	}
	return writeBatch(w, boundary, out)
}

// rawPart is a batch part with its operations rendered as HTTP messages.
type rawPart struct {
	changeset bool
	ops       []message
}

func writeBatch(w io.Writer, boundary string, parts []rawPart) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return fmt.Errorf("odata: batch boundary: %w", err)
	}
	for i, p := range parts {
		if !p.changeset {
			if len(p.ops) != 1 {
				return fmt.Errorf("odata: batch part %d: a part outside a changeset holds exactly one operation, not %d", i+1, len(p.ops))
			}
			if err := writeOperation(mw, p.ops[0]); err != nil {
				return err
			}
			continue
		}
		cs := Boundary("changeset")
		pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ContentType(cs)}})
		if err != nil {
			return err
		}
		cw := multipart.NewWriter(pw)
		if err := cw.SetBoundary(cs); err != nil {
			return err
		}
		for _, op := range p.ops {
			if err := writeOperation(cw, op); err != nil {
				return err
			}
		}
		if err := cw.Close(); err != nil {
			return err
		}
	}
	return mw.Close()
}

func writeOperation(mw *multipart.Writer, op message) error {
	h := textproto.MIMEHeader{
		"Content-Type":              {"application/http"},
		"Content-Transfer-Encoding": {"binary"},
	}
	if op.contentID != "" {
		h.Set("Content-ID", op.contentID)
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = pw.Write(op.data)
	return err
}

// writeHTTPRest writes the headers, a blank line and the body of an
// embedded HTTP message.
func writeHTTPRest(b *bytes.Buffer, h http.Header, body []byte) {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(body) > 0 {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	_ = h.Write(b) // writing to a bytes.Buffer does not fail
	b.WriteString("\r\n")
	b.Write(body)
	b.WriteString("\r\n")
}

// ReadRequest parses a batch request body of the given Content-Type.
func ReadRequest(contentType string, r io.Reader) ([]Part, error) {
	var parts []Part
	ops := 0
	err := readBatch(contentType, r, func(changeset bool, msgs []message) error {
		p := Part{Changeset: changeset}
		seen := map[string]bool{}
		for _, m := range msgs {
			req, err := parseRequest(m.data)
			if err != nil {
				return err
			}
			req.ContentID = m.contentID
			if changeset {
				if req.Method == http.MethodGet {
					return errors.New("a changeset may not hold a GET request")
				}
				if req.ContentID == "" {
					return errors.New("a request inside a changeset has no Content-ID")
				}
				if seen[req.ContentID] {
					return fmt.Errorf("Content-ID %q appears twice in one changeset", req.ContentID)
				}
				seen[req.ContentID] = true
			}
			p.Requests = append(p.Requests, req)
		}
		ops += len(msgs)
		if ops > MaxOperations {
			return fmt.Errorf("the batch holds more than %d operations", MaxOperations)
		}
		parts = append(parts, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

// ReadResponse parses a batch answer body of the given Content-Type.
func ReadResponse(contentType string, r io.Reader) ([]ResponsePart, error) {
	var parts []ResponsePart
	ops := 0
	err := readBatch(contentType, r, func(changeset bool, msgs []message) error {
		p := ResponsePart{Changeset: changeset}
		for _, m := range msgs {
			resp, err := parseResponse(m.data)
			if err != nil {
				return err
			}
			resp.ContentID = m.contentID
			p.Responses = append(p.Responses, resp)
		}
		ops += len(msgs)
		if ops > MaxOperations {
			return fmt.Errorf("the batch holds more than %d operations", MaxOperations)
		}
		parts = append(parts, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

// message is one application/http part: its Content-ID and the embedded
// HTTP message.
type message struct {
	contentID string
	data      []byte
}

// readBatch walks a multipart/mixed batch and calls part for each top-level
// part with its embedded HTTP messages.
func readBatch(contentType string, r io.Reader, part func(changeset bool, msgs []message) error) error {
	boundary, err := multipartBoundary(contentType)
	if err != nil {
		return fmt.Errorf("odata: batch: %w", err)
	}
	mr := multipart.NewReader(r, boundary)
	for n := 1; ; n++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("odata: batch part %d: %w", n, err)
		}
		changeset, msgs, err := readPart(p)
		if err == nil {
			err = part(changeset, msgs)
		}
		if err != nil {
			return fmt.Errorf("odata: batch part %d: %w", n, err)
		}
	}
}

func readPart(p *multipart.Part) (changeset bool, msgs []message, err error) {
	ct := p.Header.Get("Content-Type")
	if isHTTPPart(ct) {
		m, err := readMessage(p)
		if err != nil {
			return false, nil, err
		}
		return false, []message{m}, nil
	}
	boundary, err := multipartBoundary(ct)
	if err != nil {
		return false, nil, fmt.Errorf("want application/http or a multipart/mixed changeset: %w", err)
	}
	cr := multipart.NewReader(p, boundary)
	for {
		cp, err := cr.NextRawPart()
		if err == io.EOF {
			return true, msgs, nil
		}
		if err != nil {
			return false, nil, fmt.Errorf("changeset: %w", err)
		}
		if !isHTTPPart(cp.Header.Get("Content-Type")) {
			return false, nil, fmt.Errorf("changeset part %d: Content-Type %q, want application/http", len(msgs)+1, cp.Header.Get("Content-Type"))
		}
		m, err := readMessage(cp)
		if err != nil {
			return false, nil, fmt.Errorf("changeset part %d: %w", len(msgs)+1, err)
		}
		msgs = append(msgs, m)
	}
}

func isHTTPPart(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/http"
}

func multipartBoundary(ct string) (string, error) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("Content-Type %q: %w", ct, err)
	}
	if mt != "multipart/mixed" || params["boundary"] == "" {
		return "", fmt.Errorf("Content-Type %q, want multipart/mixed with a boundary", ct)
	}
	return params["boundary"], nil
}

func readMessage(p *multipart.Part) (message, error) {
	if enc := p.Header.Get("Content-Transfer-Encoding"); enc != "" && !strings.EqualFold(enc, "binary") {
		return message{}, fmt.Errorf("Content-Transfer-Encoding %q, want binary", enc)
	}
	data, err := io.ReadAll(io.LimitReader(p, maxPartBytes+1))
	if err != nil {
		return message{}, err
	}
	if len(data) > maxPartBytes {
		return message{}, fmt.Errorf("operation larger than %d bytes", maxPartBytes)
	}
	return message{contentID: p.Header.Get("Content-ID"), data: data}, nil
}

// parseRequest parses an embedded "METHOD url HTTP/1.1" message.
func parseRequest(data []byte) (Request, error) {
	line, h, body, err := parseHTTP(data)
	if err != nil {
		return Request{}, err
	}
	f := strings.Fields(line)
	if len(f) != 3 || !strings.HasPrefix(f[2], "HTTP/") {
		return Request{}, fmt.Errorf("malformed request line %q", line)
	}
	switch f[0] {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		return Request{}, fmt.Errorf("unsupported method %q", f[0])
	}
	return Request{Method: f[0], URL: f[1], Header: h, Body: body}, nil
}

// parseResponse parses an embedded "HTTP/1.1 201 Created" message.
func parseResponse(data []byte) (Response, error) {
	line, h, body, err := parseHTTP(data)
	if err != nil {
		return Response{}, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/") || err != nil || len(code) != 3 || status < 100 || status > 599 {
		return Response{}, fmt.Errorf("malformed status line %q", line)
	}
	return Response{Status: status, Header: h, Body: body}, nil
}

// parseHTTP splits an embedded HTTP message into its first line, headers and
// body. The body is Content-Length bytes when the header is present, else
// the rest without the line break that precedes the next boundary.
func parseHTTP(data []byte) (line string, h http.Header, body []byte, err error) {
	br := bufio.NewReader(bytes.NewReader(data))
	tr := textproto.NewReader(br)
	for line == "" {
		if line, err = tr.ReadLine(); err != nil {
			return "", nil, nil, errors.New("empty operation")
		}
		line = strings.TrimSpace(line)
	}
	mh, err := tr.ReadMIMEHeader()
	if err != nil && err != io.EOF { // EOF: headers end the message, no body
		return "", nil, nil, fmt.Errorf("operation headers: %w", err)
	}
	rest, _ := io.ReadAll(br) // reading from memory does not fail
	h = http.Header(mh)
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > len(rest) {
			return "", nil, nil, fmt.Errorf("Content-Length %q does not match a %d-byte body", cl, len(rest))
		}
		return line, h, rest[:n], nil
	}
	return line, h, bytes.TrimRight(rest, "\r\n"), nil
}
