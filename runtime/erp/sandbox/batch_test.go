package sandbox

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/flowhq/flow/runtime/erp/odata"
)

// postBatch sends parts as a $batch and returns the parsed answer.
func (c *client) postBatch(parts []odata.Part) []odata.ResponsePart {
	c.t.Helper()
	var b bytes.Buffer
	boundary := odata.Boundary("batch")
	if err := odata.WriteRequest(&b, boundary, parts); err != nil {
		c.t.Fatal(err)
	}
	status, h, body := c.do("POST", "$batch", b.String(), "Content-Type", odata.ContentType(boundary))
	if status != http.StatusOK {
		c.t.Fatalf("$batch: %d %s", status, body)
	}
	resps, err := odata.ReadResponse(h.Get("Content-Type"), strings.NewReader(body))
	if err != nil {
		c.t.Fatalf("$batch answer: %v\n%s", err, body)
	}
	return resps
}

func lineOp(id, batch, account string) odata.Request {
	return odata.Request{ContentID: id, Method: "POST", URL: "LedgerJournalLines",
		Header: http.Header{"Content-Type": {"application/json"}},
		Body: fmt.Appendf(nil, `{"JournalBatchNumber":%q,"AccountDisplayValue":%q,"DebitAmount":10,"CurrencyCode":"USD","TransDate":"2024-07-03T00:00:00Z"}`,
			batch, account)}
}

func statuses(parts []odata.ResponsePart) string {
	var out []string
	for _, p := range parts {
		var s []string
		for _, r := range p.Responses {
			s = append(s, fmt.Sprintf("%s:%d", r.ContentID, r.Status))
		}
		if p.Changeset {
			out = append(out, "["+strings.Join(s, " ")+"]")
		} else {
			out = append(out, strings.Join(s, " "))
		}
	}
	return strings.Join(out, " ")
}

func TestBatchChangesetIsAtomic(t *testing.T) {
	c := start(t, Config{})
	c.mustCreate("LedgerJournalHeaders", `{"JournalName":"GenJrn"}`)

	bad := lineOp("2", "GJ-000001", "")
	resps := c.postBatch([]odata.Part{{Changeset: true, Requests: []odata.Request{lineOp("1", "GJ-000001", "110180-"), bad, lineOp("3", "GJ-000001", "211100-")}}})
	if got := statuses(resps); got != "[1:424 2:500 3:424]" {
		t.Errorf("failed changeset answered %s, want [1:424 2:500 3:424]", got)
	}
	if detail, ok := odata.ParseError(resps[0].Responses[1].Body); !ok || !strings.Contains(detail.Text(), "Field 'AccountDisplayValue' must be filled in.") {
		t.Errorf("failing operation's body: %s", resps[0].Responses[1].Body)
	}
	if n, _ := c.s.Count("LedgerJournalLines"); n != 0 {
		t.Fatalf("a failed changeset left %d lines", n)
	}

	resps = c.postBatch([]odata.Part{
		{Changeset: true, Requests: []odata.Request{lineOp("1", "GJ-000001", "110180-"), lineOp("2", "GJ-000001", "211100-")}},
		{Requests: []odata.Request{{ContentID: "3", Method: "GET", URL: "LedgerJournalLines?$count=true"}}},
		{Requests: []odata.Request{lineOp("4", "GJ-000404", "110180-")}},
	})
	if got := statuses(resps); got != "[1:201 2:201] 3:200 4:500" {
		t.Errorf("batch answered %s, want [1:201 2:201] 3:200 4:500", got)
	}
	if !bytes.Contains(resps[1].Responses[0].Body, []byte(`"@odata.count":2`)) {
		t.Errorf("GET inside the batch did not see the changeset: %s", resps[1].Responses[0].Body)
	}
	if got := c.s.Requests(); got["batch POST collection"] != 5 || got["batch GET collection"] != 1 || got["POST $batch"] != 2 {
		t.Errorf("request counts %v", got)
	}
}

// TestBatchSampleShape posts the reference sample's shape (LF line ends, an
// absolute URL, a blank line after each body).
func TestBatchSampleShape(t *testing.T) {
	c := start(t, Config{})
	body := strings.ReplaceAll(`--batch_b1
Content-Type: multipart/mixed; boundary=changeset_c1

--changeset_c1
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST BASE/data/LedgerJournalHeaders HTTP/1.1
Content-Type: application/json;odata.metadata=minimal
Accept: application/json;odata.metadata=minimal

{"dataAreaId":"usmf","JournalName":"GenJrn","Description":"PSP settlement 2024-07-03"}

--changeset_c1--
--batch_b1--
`, "BASE", c.base)
	status, h, resp := c.do("POST", "$batch", body, "Content-Type", "multipart/mixed; boundary=batch_b1")
	if status != 200 {
		t.Fatalf("%d %s", status, resp)
	}
	parts, err := odata.ReadResponse(h.Get("Content-Type"), strings.NewReader(resp))
	if err != nil || statuses(parts) != "[1:201]" {
		t.Fatalf("answer %q: %v\n%s", statuses(parts), err, resp)
	}
	if !bytes.Contains(parts[0].Responses[0].Body, []byte(`"JournalBatchNumber":"GJ-000001"`)) {
		t.Errorf("created header: %s", parts[0].Responses[0].Body)
	}
}

func TestBatchMalformed(t *testing.T) {
	c := start(t, Config{})
	valid := "--b\r\nContent-Type: application/http\r\n\r\nGET Currencies HTTP/1.1\r\n\r\n\r\n--b--\r\n"
	tests := []struct{ name, contentType, body string }{
		{"not multipart", "application/json", `{}`},
		{"no boundary", "multipart/mixed", valid},
		{"unterminated", "multipart/mixed; boundary=b", strings.TrimSuffix(valid, "--b--\r\n")},
		{"no request line", "multipart/mixed; boundary=b", "--b\r\nContent-Type: application/http\r\n\r\n\r\n--b--\r\n"},
		{"bad method", "multipart/mixed; boundary=b", "--b\r\nContent-Type: application/http\r\n\r\nBREW Currencies HTTP/1.1\r\n\r\n--b--\r\n"},
		{"GET in changeset", "multipart/mixed; boundary=b", "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nGET Currencies HTTP/1.1\r\n\r\n--c--\r\n--b--\r\n"},
		{"changeset without Content-ID", "multipart/mixed; boundary=b", "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\n\r\nPOST Currencies HTTP/1.1\r\n\r\n{}\r\n--c--\r\n--b--\r\n"},
		{"wrong part type", "multipart/mixed; boundary=b", "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := c.do("POST", "$batch", tc.body, "Content-Type", tc.contentType)
			if status != 400 || !strings.Contains(body, "The batch request is not valid") {
				t.Errorf("got %d %s, want 400", status, body)
			}
		})
	}
	if status, _, body := c.do("POST", "$batch", valid, "Content-Type", "multipart/mixed; boundary=b"); status != 200 {
		t.Errorf("the valid control batch: %d %s", status, body)
	}
}
