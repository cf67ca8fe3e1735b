package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"go.lsp.dev/jsonrpc2"
)

// maxMessage bounds the size of one message: larger headers are a framing
// error, not an allocation.
const maxMessage = 64 << 20

// stream frames JSON-RPC messages with Content-Length headers, as LSP does.
// Unlike jsonrpc2.NewStream it survives a message that is not valid
// JSON-RPC: it answers with a parse error (id null) and reads on. A framing
// error (a bad header, a closed pipe) ends the stream.
type stream struct {
	in  *bufio.Reader
	rwc io.ReadWriteCloser
	mu  sync.Mutex // serialises writes
}

func newStream(rwc io.ReadWriteCloser) *stream {
	return &stream{in: bufio.NewReader(rwc), rwc: rwc}
}

// Read implements jsonrpc2.Stream.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, total, err
		}
		data, n, err := s.frame()
		total += n
		if err != nil {
			return nil, total, err
		}
		msg, err := jsonrpc2.DecodeMessage(data)
		if err == nil {
			return msg, total, nil
		}
		code, text := jsonrpc2.ParseError, "parse error: "+err.Error()
		if json.Valid(data) {
			code, text = jsonrpc2.InvalidRequest, "invalid request: "+err.Error()
		}
		if werr := s.writeError(code, text); werr != nil {
			return nil, total, werr
		}
	}
}

// frame reads one message's headers and body.
func (s *stream) frame() ([]byte, int64, error) {
	var total, length int64
	headers := 0
	for {
		line, err := s.in.ReadString('\n')
		total += int64(len(line))
		if err != nil {
			return nil, total, fmt.Errorf("reading a header: %w", err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			if length > 0 {
				break
			}
			if headers == 0 {
				continue // tolerate blank lines between messages
			}
			return nil, total, fmt.Errorf("message without %s", jsonrpc2.HdrContentLength)
		}
		headers++
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, total, fmt.Errorf("invalid header line %q", line)
		}
		if strings.EqualFold(strings.TrimSpace(name), jsonrpc2.HdrContentLength) {
			length, err = strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || length <= 0 || length > maxMessage {
				return nil, total, fmt.Errorf("invalid %s %q", jsonrpc2.HdrContentLength, value)
			}
		}
	}
	data := make([]byte, length)
	n, err := io.ReadFull(s.in, data)
	total += int64(n)
	if err != nil {
		return nil, total, fmt.Errorf("reading a message: %w", err)
	}
	return data, total, nil
}

// writeError sends an error response with a null id.
func (s *stream) writeError(code jsonrpc2.Code, msg string) error {
	data, err := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      nil,
		"error":   map[string]any{"code": code, "message": msg},
	})
	if err != nil {
		return err
	}
	_, err = s.write(data)
	return err
}

// Write implements jsonrpc2.Stream.
func (s *stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return 0, fmt.Errorf("marshaling a message: %w", err)
	}
	return s.write(data)
}

func (s *stream) write(data []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := fmt.Fprintf(s.rwc, "%s: %d\r\n\r\n%s", jsonrpc2.HdrContentLength, len(data), data)
	return int64(n), err
}

// Close implements jsonrpc2.Stream.
func (s *stream) Close() error { return s.rwc.Close() }
