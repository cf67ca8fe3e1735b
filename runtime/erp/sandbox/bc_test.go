package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// bcClient talks to the BC dialect over loopback with a token.
type bcClient struct {
	t       *testing.T
	s       *Server
	base    string // .../api/v2.0
	company string // .../api/v2.0/companies(<id>)
	token   string
}

func startBC(t *testing.T, cfg Config) *bcClient {
	t.Helper()
	cfg.Dialect, cfg.Tenant, cfg.ClientID, cfg.ClientSecret = "bc", "t1", "app", "pw"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	root, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(root+"/t1/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"},
		"client_secret": {"pw"}, "scope": {"https://api.businesscentral.dynamics.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("token: %v %+v", err, tok)
	}
	resp.Body.Close()
	c := &bcClient{t: t, s: s, base: root + "/api/v2.0", token: tok.AccessToken}
	var companies struct {
		Value []struct{ ID, Name string } `json:"value"`
	}
	c.json(c.do("GET", c.base+"/companies?$filter="+url.QueryEscape("name eq 'CRONUS USA, Inc.'"), "", nil, 200), &companies)
	if len(companies.Value) != 1 {
		t.Fatalf("companies = %+v", companies)
	}
	c.company = c.base + "/companies(" + companies.Value[0].ID + ")"
	return c
}

func (c *bcClient) do(method, u, body string, h map[string]string, want int) []byte {
	c.t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: HTTP %d %s, want %d", method, u, resp.StatusCode, b, want)
	}
	return b
}

func (c *bcClient) json(b []byte, v any) {
	c.t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatalf("%v: %s", err, b)
	}
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || !strings.Contains(e.Error.Message, "CorrelationId") {
		t.Fatalf("not a BC error: %s", b)
	}
	return e.Error.Code
}

func TestBCIfMatchAndEntityChanged(t *testing.T) {
	c := startBC(t, Config{})
	var cust map[string]any
	c.json(c.do("POST", c.company+"/customers", `{"number":"C1","displayName":"Ada"}`, nil, 201), &cust)
	id, tag := cust["id"].(string), cust["@odata.etag"].(string)
	b := c.do("PATCH", c.company+"/customers("+id+")", `{"displayName":"B"}`, nil, 400)
	if code := errorCode(t, b); code != "BadRequest_InvalidToken" {
		t.Fatalf("no If-Match: %s", code)
	}
	var upd map[string]any
	c.json(c.do("PATCH", c.company+"/customers("+id+")", `{"displayName":"B"}`, map[string]string{"If-Match": tag}, 200), &upd)
	if upd["displayName"] != "B" || upd["@odata.etag"] == tag {
		t.Fatalf("patched = %v", upd)
	}
	b = c.do("PATCH", c.company+"/customers("+id+")", `{"displayName":"C"}`, map[string]string{"If-Match": tag}, 409)
	if code := errorCode(t, b); code != "Request_EntityChanged" {
		t.Fatalf("stale ETag: %s", code)
	}
	b = c.do("POST", c.company+"/customers", `{"number":"C1"}`, nil, 400)
	if code := errorCode(t, b); code != "Internal_EntityWithSameKeyExists" {
		t.Fatalf("duplicate number: %s", code)
	}
	b = c.do("POST", c.company+"/customers", `{"number":"C2","balanceDue":1,"id":"x"}`, nil, 400)
	if code := errorCode(t, b); code != "BadRequest_InvalidOperation" && code != "BadRequest" {
		t.Fatalf("read-only id: %s", code)
	}
	b = c.do("POST", c.company+"/generalLedgerEntries", `{}`, nil, 405)
	if code := errorCode(t, b); code != "BadRequest_MethodNotAllowed" {
		t.Fatalf("read-only set: %s", code)
	}
	c.do("GET", c.company+"/customers?$filter="+url.QueryEscape("id eq "+id), "", nil, 200) // bare GUID literal
}

// A snapshot batch is all or nothing; a batch without it is not.
func TestBCBatchSnapshotIsAllOrNothing(t *testing.T) {
	c := startBC(t, Config{})
	var j map[string]any
	c.json(c.do("POST", c.company+"/journals", `{"code":"J1","displayName":"payout"}`, nil, 201), &j)
	rel := strings.TrimPrefix(c.company, c.base+"/") + "/journals(" + j["id"].(string) + ")/journalLines"
	batch := func(isolation string, amounts ...string) []byte {
		var reqs []string
		for i, a := range amounts {
			reqs = append(reqs, fmt.Sprintf(`{"id":"%d","method":"POST","url":%q,"headers":{"Content-Type":"application/json"},"body":{"accountNumber":"10100","amount":%s,"lineNumber":%d,"documentNumber":"D1","postingDate":"2024-01-31"}}`, i+1, rel, a, i+1))
		}
		h := map[string]string{}
		if isolation != "" {
			h["Isolation"] = isolation
		}
		b := c.do("POST", c.base+"/$batch", `{"requests":[`+strings.Join(reqs, ",")+`]}`, h, 200)
		return b
	}
	b := batch("snapshot", "5", `"oops"`)
	if !strings.Contains(string(b), `"status":201`) || !strings.Contains(string(b), `"status":400`) {
		t.Fatalf("answers: %s", b)
	}
	if n, _ := c.s.Count("journalLines"); n != 0 {
		t.Fatalf("a failed snapshot batch left %d lines", n)
	}
	batch("", "5", `"oops"`)
	if n, _ := c.s.Count("journalLines"); n != 1 {
		t.Fatalf("a batch without isolation applied %d lines, want 1", n)
	}
	// Unbalanced: the post fails and keeps the lines.
	b = c.do("POST", c.company+"/journals("+j["id"].(string)+")/Microsoft.NAV.post", "", nil, 400)
	if !strings.Contains(string(b), "out of balance by 5.00") {
		t.Fatalf("post: %s", b)
	}
	b = batch("snapshot", "5", "-5") // line 1 exists: the batch fails as a whole
	if !strings.Contains(string(b), "Internal_EntityWithSameKeyExists") {
		t.Fatalf("answers: %s", b)
	}
	c.do("DELETE", c.company+"/journals("+j["id"].(string)+")/journalLines("+firstID(c, rel)+")", "", map[string]string{"If-Match": "*"}, 204)
	batch("snapshot", "5", "-5")
	c.do("POST", c.company+"/journals("+j["id"].(string)+")/Microsoft.NAV.post", "", nil, 204)
	if n, _ := c.s.Count("generalLedgerEntries"); n != 2 {
		t.Fatalf("%d G/L entries", n)
	}
	if n, _ := c.s.Count("journalLines"); n != 0 {
		t.Fatalf("posting left %d lines", n)
	}
	var big []string
	for range bcMaxBatch + 1 {
		big = append(big, `{"id":"1","method":"GET","url":"companies"}`)
	}
	c.do("POST", c.base+"/$batch", `{"requests":[`+strings.Join(big, ",")+`]}`, nil, 400)
}

func firstID(c *bcClient, rel string) string {
	var page struct {
		Value []map[string]any `json:"value"`
	}
	c.json(c.do("GET", c.base+"/"+rel+"?$filter="+url.QueryEscape("amount eq 5"), "", nil, 200), &page)
	if len(page.Value) == 0 {
		c.t.Fatal("no line")
	}
	return page.Value[0]["id"].(string)
}

func TestBCPagesWithNextLink(t *testing.T) {
	c := startBC(t, Config{PageSize: 2})
	for i := range 5 {
		c.do("POST", c.company+"/customers", fmt.Sprintf(`{"number":"C%d"}`, i), nil, 201)
	}
	next, n := c.company+"/customers", 0
	for next != "" {
		var page struct {
			Value []map[string]any `json:"value"`
			Next  string           `json:"@odata.nextLink"`
		}
		c.json(c.do("GET", next, "", nil, 200), &page)
		n += len(page.Value)
		next = page.Next
	}
	if n != 5 {
		t.Fatalf("%d customers over the pages", n)
	}
}

func TestBCRefusesBadTokensAndGarbage(t *testing.T) {
	c := startBC(t, Config{})
	c.token = "nope"
	b := c.do("GET", c.company+"/customers", "", nil, 401)
	if code := errorCode(t, b); code != "Authentication_InvalidCredentials" {
		t.Fatal(code)
	}
	c.s.mu.Lock()
	for tok := range c.s.tokens {
		c.token = tok
	}
	c.s.mu.Unlock()
	for _, body := range []string{`{`, `null`, `[]`, `{"number":5}`, `{"nope":1}`, `{"number":"` + strings.Repeat("x", 21) + `"}`} {
		b := c.do("POST", c.company+"/customers", body, nil, 400)
		errorCode(t, b)
	}
	c.do("POST", c.base+"/$batch", `{"requests":`, nil, 400)
	c.do("GET", c.company+"/nothing", "", nil, 404)
	c.do("GET", c.base+"/companies(00000000-0000-0000-0000-000000000000)/customers", "", nil, 404)
}
