package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// dvClient is the Dataverse dialect over HTTP with a token.
type dvClient struct {
	t   *testing.T
	url string
	tok string
}

func startDV(t *testing.T) dvClient {
	t.Helper()
	sb, err := New(Config{Dialect: "dataverse"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.PostForm(srv.URL+"/t/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"a"}, "client_secret": {"b"}, "scope": {srv.URL + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	return dvClient{t, srv.URL + "/api/data/v9.2/", tok.AccessToken}
}

func (c dvClient) do(method, path, body string, h map[string]string) (int, http.Header, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.tok)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, resp.Header, out
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestDataverseUpsertAndConcurrency(t *testing.T) {
	c := startDV(t)
	rep := map[string]string{"Prefer": "return=representation"}
	st, _, acct := c.do("PATCH", "accounts(new_stripecustomerid='cus_1')", `{"name":"Ada"}`, rep)
	if st != http.StatusCreated || acct["new_stripecustomerid"] != "cus_1" || acct["accountid"] == nil {
		t.Fatalf("upsert create: %d %v", st, acct)
	}
	st, h, _ := c.do("PATCH", "accounts(new_stripecustomerid='cus_1')", `{"name":"Ada L"}`, nil)
	if st != http.StatusNoContent || !strings.Contains(h.Get("OData-EntityId"), "accounts(") {
		t.Fatalf("upsert update: %d %v", st, h)
	}
	if st, _, body := c.do("PATCH", "accounts(new_stripecustomerid='cus_1')", `{"name":"x"}`, map[string]string{"If-None-Match": "*"}); st != http.StatusPreconditionFailed || errCode(body) != dvDuplicate {
		t.Fatalf("If-None-Match on an existing row: %d %v", st, body)
	}
	if st, _, body := c.do("PATCH", "accounts(new_stripecustomerid='cus_2')", `{"name":"x"}`, map[string]string{"If-Match": "*"}); st != http.StatusNotFound || errCode(body) != dvNotFound {
		t.Fatalf("If-Match on a missing row: %d %v", st, body)
	}
	id := acct["accountid"].(string)
	_, _, cur := c.do("GET", "accounts("+id+")", "", nil)
	etag := cur["@odata.etag"].(string)
	if cur["name"] != "Ada L" || etag == acct["@odata.etag"] {
		t.Fatalf("row %v", cur)
	}
	if st, _, body := c.do("PATCH", "accounts("+id+")", `{"name":"stale"}`, map[string]string{"If-Match": acct["@odata.etag"].(string)}); st != http.StatusPreconditionFailed || errCode(body) != dvVersionMismatch {
		t.Fatalf("stale ETag: %d %v", st, body)
	}
	if st, _, _ := c.do("PATCH", "accounts("+id+")", `{"name":"fresh"}`, map[string]string{"If-Match": etag}); st != http.StatusNoContent {
		t.Fatalf("current ETag: %d", st)
	}
	// A second row may not take the alternate key.
	if st, _, body := c.do("POST", "accounts", `{"name":"dup","new_stripecustomerid":"CUS_1"}`, nil); st != http.StatusPreconditionFailed || errCode(body) != dvDuplicateKey {
		t.Fatalf("duplicate alternate key: %d %v", st, body)
	}
	for _, tc := range []struct{ method, path, body, code string }{
		{"PATCH", "accounts(name='x')", `{}`, dvBadKey},
		{"PATCH", "accounts(new_stripecustomerid='x)", `{}`, dvBadKey},
		{"POST", "accounts", `{"nope":1}`, dvPropertyNotFound},
		{"POST", "accounts", `{"creditlimit":"abc"}`, dvPayload},
		{"POST", "accounts", `{"name":"` + strings.Repeat("x", 161) + `"}`, dvLength},
		{"POST", "invoices", `{"name":"i","customerid_account@odata.bind":"/accounts(00000000-0000-4000-a000-000000000000)"}`, dvNotFound},
		{"POST", "accounts", `[1]`, dvPayload},
		{"GET", "nosuch", ``, dvPropertyNotFound},
	} {
		if _, _, body := c.do(tc.method, tc.path, tc.body, nil); errCode(body) != tc.code {
			t.Errorf("%s %s %s: %v, want %s", tc.method, tc.path, tc.body, body, tc.code)
		}
	}
	st, _, list := c.do("GET", "accounts?$select=name&$filter=new_stripecustomerid%20eq%20'cus_1'", "", nil)
	if v, _ := list["value"].([]any); st != http.StatusOK || len(v) != 1 {
		t.Fatalf("list: %d %v", st, list)
	}
}
