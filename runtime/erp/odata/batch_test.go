package odata

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestRequestRoundTrip(t *testing.T) {
	parts := []Part{
		{Changeset: true, Requests: []Request{
			{ContentID: "1", Method: "POST", URL: "LedgerJournalLines", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"LineNumber":1}`)},
			{ContentID: "2", Method: "PATCH", URL: "LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='GJ-1',LineNumber=1)", Body: []byte("{\"Text\":\"two\r\n\r\nlines\"}\r\n")},
		}},
		{Requests: []Request{{ContentID: "3", Method: "GET", URL: "Currencies?$top=1"}}},
	}
	var b bytes.Buffer
	if err := WriteRequest(&b, "batch_x", parts); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRequest(ContentType("batch_x"), &b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Changeset || len(got[0].Requests) != 2 || got[1].Changeset {
		t.Fatalf("parts %+v", got)
	}
	for i, p := range parts {
		for j, want := range p.Requests {
			r := got[i].Requests[j]
			if r.ContentID != want.ContentID || r.Method != want.Method || r.URL != want.URL || !bytes.Equal(r.Body, want.Body) {
				t.Errorf("part %d request %d: got %s %s %s %q, want %s %s %s %q", i, j,
					r.ContentID, r.Method, r.URL, r.Body, want.ContentID, want.Method, want.URL, want.Body)
			}
		}
	}
}

// TestReadSample reads the reference $batch sample (LF line ends, a blank
// line after each body, no Content-Length).
func TestReadSample(t *testing.T) {
	data, err := os.ReadFile("testdata/changeset_sample.http")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(data), "Content-Type: multipart/mixed; boundary=batch_b1\n\n")
	body, _, _ = strings.Cut(body, "\n# Response")
	parts, err := ReadRequest("multipart/mixed; boundary=batch_b1", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || !parts[0].Changeset || len(parts[0].Requests) != 2 {
		t.Fatalf("parts %+v", parts)
	}
	r := parts[0].Requests[1]
	if r.ContentID != "2" || r.Method != "POST" || r.URL != "LedgerJournalLines" ||
		!strings.HasPrefix(string(r.Body), `{"dataAreaId":"usmf","JournalBatchNumber"`) || !strings.HasSuffix(string(r.Body), `"Text":"payout 123"}`) {
		t.Errorf("second request: %s %s %s %q", r.ContentID, r.Method, r.URL, r.Body)
	}
	if r.Header.Get("Content-Type") != "application/json;odata.metadata=minimal" {
		t.Errorf("header %v", r.Header)
	}
}

func TestResponseRoundTrip(t *testing.T) {
	parts := []ResponsePart{
		{Changeset: true, Responses: []Response{
			{ContentID: "1", Status: 424},
			{ContentID: "2", Status: 500, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"error":{"code":"","message":"An error has occurred."}}`)},
		}},
		{Responses: []Response{{ContentID: "3", Status: 204}}},
	}
	var b bytes.Buffer
	if err := WriteResponse(&b, "batchresponse_1", parts); err != nil {
		t.Fatal(err)
	}
	got, err := ReadResponse(ContentType("batchresponse_1"), &b)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(summary(got)) != "[[1:424 2:500] [3:204]]" {
		t.Errorf("got %v", summary(got))
	}
	if d, ok := ParseError(got[0].Responses[1].Body); !ok || d.Text() != "An error has occurred." {
		t.Errorf("error body %q", got[0].Responses[1].Body)
	}
}

func summary(parts []ResponsePart) [][]string {
	var out [][]string
	for _, p := range parts {
		var s []string
		for _, r := range p.Responses {
			s = append(s, fmt.Sprintf("%s:%d", r.ContentID, r.Status))
		}
		out = append(out, s)
	}
	return out
}

func TestReadResponseRejects(t *testing.T) {
	tests := map[string]string{
		"bad status line":       "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 2O1 Created\r\n\r\n--b--\r\n",
		"status out of range":   "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 999 Odd\r\n\r\n--b--\r\n",
		"not http":              "--b\r\nContent-Type: application/http\r\n\r\n<html>oops</html>\r\n--b--\r\n",
		"short body":            "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 99\r\n\r\n{}\r\n--b--\r\n",
		"truncated":             "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 201 Created\r\n\r\n{\"a\":",
		"nested changeset":      "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n--d--\r\n--c--\r\n--b--\r\n",
		"quoted-printable part": "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHTTP/1.1 200 OK\r\n\r\n--b--\r\n",
	}
	for name, body := range tests {
		if got, err := ReadResponse("multipart/mixed; boundary=b", strings.NewReader(body)); err == nil {
			t.Errorf("%s: got %v, want an error", name, summary(got))
		}
	}
	if _, err := ReadResponse("text/html", strings.NewReader("<html></html>")); err == nil {
		t.Error("an HTML answer parsed as a batch")
	}
}

func TestQuoteAndErrorText(t *testing.T) {
	if got := Quote("O'Brien's"); got != "'O''Brien''s'" {
		t.Errorf("Quote = %s", got)
	}
	body := []byte(`{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for table row of type 'X'.","type":"` + WriteException + `","stacktrace":""}}}`)
	d, ok := ParseError(body)
	if !ok || d.Text() != "Write failed for table row of type 'X'." || d.InnerError.Type != WriteException {
		t.Errorf("ParseError = %+v, %v", d, ok)
	}
	if _, ok := ParseError([]byte(`{"value":[]}`)); ok {
		t.Error("a collection parsed as an error")
	}
}

// FuzzReadResponse checks that the $batch answer parser never panics and
// that whatever it accepts writes back and parses to the same answers.
func FuzzReadResponse(f *testing.F) {
	var b bytes.Buffer
	_ = WriteResponse(&b, "batchresponse_s", []ResponsePart{
		{Changeset: true, Responses: []Response{{ContentID: "1", Status: 201, Body: []byte(`{"LineNumber":1}`)}, {ContentID: "2", Status: 424}}},
		{Responses: []Response{{ContentID: "3", Status: 200, Body: []byte(`{"value":[]}`)}}},
	})
	f.Add("multipart/mixed; boundary=batchresponse_s", b.String())
	f.Add("multipart/mixed; boundary=b", "--b\nContent-Type: application/http\n\nHTTP/1.1 500 Internal Server Error\nContent-Type: application/json\n\n{\"error\":{}}\n--b--\n")
	f.Add("text/html", "<html>503</html>")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		parts, err := ReadResponse(contentType, strings.NewReader(body))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteResponse(&out, "batchresponse_f", parts); err != nil {
			return // e.g. a part outside a changeset that held no operation
		}
		again, err := ReadResponse(ContentType("batchresponse_f"), &out)
		if err != nil {
			t.Fatalf("accepted answer does not survive a rewrite: %v", err)
		}
		if fmt.Sprint(summary(again)) != fmt.Sprint(summary(parts)) {
			t.Fatalf("rewrite changed the answers: %v -> %v", summary(parts), summary(again))
		}
	})
}

// FuzzReadRequest does the same for the request parser the sandbox uses.
func FuzzReadRequest(f *testing.F) {
	var b bytes.Buffer
	_ = WriteRequest(&b, "batch_s", []Part{{Changeset: true, Requests: []Request{{ContentID: "1", Method: "POST", URL: "LedgerJournalLines", Body: []byte(`{}`)}}}})
	f.Add("multipart/mixed; boundary=batch_s", b.String())
	f.Fuzz(func(t *testing.T, contentType, body string) {
		parts, err := ReadRequest(contentType, strings.NewReader(body))
		if err != nil {
			return
		}
		for _, p := range parts {
			for _, r := range p.Requests {
				if r.Method == "" || (p.Changeset && r.ContentID == "") {
					t.Fatalf("accepted a request without method or Content-ID: %+v", r)
				}
			}
		}
	})
}
