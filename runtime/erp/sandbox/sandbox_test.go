package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/d365fo"
)

// client talks raw HTTP to a sandbox started on loopback.
type client struct {
	t     *testing.T
	s     *Server
	base  string
	token string
}

func start(t *testing.T, cfg Config) *client {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &client{t: t, s: s, base: base}
	status, body := c.tokenRequest(cfg.Tenant, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {cfg.ClientID},
		"client_secret": {cfg.ClientSecret}, "resource": {base},
	})
	if status != http.StatusOK {
		t.Fatalf("token: %d %s", status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   string `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn == "" {
		t.Fatalf("token answer %s: %v", body, err)
	}
	c.token = tok.AccessToken
	return c
}

func (c *client) tokenRequest(tenant string, form url.Values) (int, []byte) {
	c.t.Helper()
	if tenant == "" {
		tenant = "common"
	}
	resp, err := http.PostForm(c.base+"/"+tenant+"/oauth2/token", form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// do sends a request to /data/<path> and returns the status, headers and body.
func (c *client) do(method, path, body string, header ...string) (int, http.Header, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+"/data/"+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

// get GETs a collection and returns its records.
func (c *client) get(path string) []map[string]any {
	c.t.Helper()
	status, _, body := c.do("GET", path, "")
	if status != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	var page struct{ Value []map[string]any }
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	return page.Value
}

func (c *client) mustCreate(set, body string) map[string]any {
	c.t.Helper()
	status, _, resp := c.do("POST", set, body)
	if status != http.StatusCreated {
		c.t.Fatalf("POST %s %s: %d %s", set, body, status, resp)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(resp), &rec); err != nil {
		c.t.Fatal(err)
	}
	return rec
}

func TestTokenEndpoint(t *testing.T) {
	cfg := Config{Tenant: "contoso", ClientID: "app", ClientSecret: "s3cret"}
	c := start(t, cfg)
	form := func(secret, resource string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {secret}, "resource": {resource}}
	}
	tests := []struct {
		name, tenant string
		form         url.Values
		status       int
		code         string
	}{
		{"wrong secret", "contoso", form("nope", c.base), 401, "AADSTS7000215"},
		{"wrong tenant", "fabrikam", form("s3cret", c.base), 400, "AADSTS90002"},
		{"wrong resource", "contoso", form("s3cret", "https://other.operations.dynamics.com"), 400, "AADSTS500011"},
		{"no resource", "contoso", form("s3cret", ""), 400, "AADSTS900144"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.tokenRequest(tc.tenant, tc.form)
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("answer is not AAD JSON: %s", body)
			}
			if status != tc.status || e.Error == "" || !strings.HasPrefix(e.Description, tc.code+":") {
				t.Errorf("got %d %s, want %d with %s", status, body, tc.status, tc.code)
			}
		})
	}

	if status, h, _ := (&client{t: t, base: c.base, token: "forged"}).do("GET", "CustomersV3", ""); status != 401 || h.Get("WWW-Authenticate") == "" {
		t.Errorf("forged token: got %d, want 401 with WWW-Authenticate", status)
	}
	if status, _, body := c.do("GET", "CustomersV3", ""); status != 200 {
		t.Errorf("valid token: got %d %s", status, body)
	}
	c.s.ExpireTokens()
	if status, _, _ := c.do("GET", "CustomersV3", ""); status != 401 {
		t.Errorf("expired token: got %d, want 401", status)
	}
}

func TestTokenExpiresByClock(t *testing.T) {
	now := time.Date(2024, 7, 3, 9, 0, 0, 0, time.UTC)
	c := start(t, Config{TokenTTL: time.Minute, Now: func() time.Time { return now }})
	if status, _, _ := c.do("GET", "Currencies", ""); status != 200 {
		t.Fatalf("fresh token refused: %d", status)
	}
	now = now.Add(61 * time.Second)
	if status, _, _ := c.do("GET", "Currencies", ""); status != 401 {
		t.Errorf("token past its lifetime: got %d, want 401", status)
	}
}

func TestCreateNumbersAndReadsBack(t *testing.T) {
	c := start(t, Config{})
	h1 := c.mustCreate("LedgerJournalHeaders", `{"JournalName":"GenJrn","Description":"payout po_1"}`)
	h2 := c.mustCreate("LedgerJournalHeaders", `{"@odata.type":"#Microsoft.Dynamics.DataEntities.LedgerJournalHeader","dataAreaId":"USRT","JournalName":"GenJrn"}`)
	if h1["JournalBatchNumber"] != "GJ-000001" || h2["JournalBatchNumber"] != "GJ-000002" {
		t.Errorf("batch numbers %v, %v; want GJ-000001, GJ-000002", h1["JournalBatchNumber"], h2["JournalBatchNumber"])
	}
	if h1["dataAreaId"] != "usmf" || h2["dataAreaId"] != "usrt" {
		t.Errorf("companies %v, %v; want the default usmf and usrt lower-cased", h1["dataAreaId"], h2["dataAreaId"])
	}
	if h1["@odata.etag"] == nil || h1["IsPosted"] != "No" || h1["JournalTotalDebit"] != 0.0 {
		t.Errorf("created record lacks F&O's etag or defaults: %v", h1)
	}

	line := c.mustCreate("LedgerJournalLines", `{"JournalBatchNumber":"gj-000001","AccountDisplayValue":"110180-","AccountType":"Ledger",
		"DebitAmount":100.10,"CurrencyCode":"USD","TransDate":"2024-07-03T00:00:00Z"}`)
	line2 := c.mustCreate("LedgerJournalLines", `{"JournalBatchNumber":"GJ-000001","AccountDisplayValue":"211100-","AccountType":"Ledger",
		"CreditAmount":"100.10","CurrencyCode":"USD","TransDate":"2024-07-03T00:00:00Z"}`)
	if line["LineNumber"] != 1.0 || line2["LineNumber"] != 2.0 {
		t.Errorf("line numbers %v, %v; want 1, 2", line["LineNumber"], line2["LineNumber"])
	}

	status, h, body := c.do("GET", "LedgerJournalHeaders(dataAreaId='usmf',JournalBatchNumber='GJ-000001')", "")
	if status != 200 || !strings.Contains(body, `"Description":"payout po_1"`) || h.Get("ETag") == "" {
		t.Errorf("GET by key: %d %s", status, body)
	}
	if status, _, _ := c.do("GET", "LedgerJournalHeaders(dataAreaId='usmf',JournalBatchNumber='GJ-999999')", ""); status != 404 {
		t.Errorf("GET of a missing key: got %d, want 404", status)
	}
	if status, _, _ := c.do("GET", "LedgerJournalHeaders(JournalBatchNumber='GJ-000001')", ""); status != 400 {
		t.Errorf("GET by a partial key: got %d, want 400", status)
	}

	recs, err := c.s.Records("LedgerJournalLines")
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := recs[0]["DebitAmount"].(decimal.Decimal); !ok || d.String() != "100.1" {
		t.Errorf("stored DebitAmount %#v, want decimal 100.1", recs[0]["DebitAmount"])
	}
	if ts, ok := recs[0]["TransDate"].(time.Time); !ok || !ts.Equal(time.Date(2024, 7, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("stored TransDate %#v", recs[0]["TransDate"])
	}
}

func TestUpdateAndDelete(t *testing.T) {
	c := start(t, Config{})
	c.mustCreate("CustomersV3", `{"CustomerAccount":"US-001","CustomerGroupId":"10","SalesCurrencyCode":"USD"}`)
	path := "CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"
	_, h, _ := c.do("GET", path, "")
	tag := h.Get("ETag")

	if status, _, body := c.do("PATCH", path, `{"CreditLimit":2500.5}`, "If-Match", tag); status != 204 {
		t.Fatalf("PATCH with the current ETag: %d %s", status, body)
	}
	if status, _, _ := c.do("PATCH", path, `{"CreditLimit":1}`, "If-Match", tag); status != 412 {
		t.Errorf("PATCH with a stale ETag: got %d, want 412", status)
	}
	if status, _, _ := c.do("PATCH", path, `{"CustomerAccount":"US-002"}`); status != 400 {
		t.Errorf("PATCH changing the key: got %d, want 400", status)
	}
	status, _, body := c.do("PATCH", "CustomersV3(dataAreaId='USMF',CustomerAccount='us-001')", `{"NameAlias":"Acme"}`, "Prefer", "return=representation")
	if status != 200 || !strings.Contains(body, `"CreditLimit":2500.5`) || !strings.Contains(body, `"NameAlias":"Acme"`) {
		t.Errorf("PATCH by a key in other case with return=representation: %d %s", status, body)
	}
	if status, _, _ := c.do("DELETE", path, ""); status != 204 {
		t.Errorf("DELETE: got %d", status)
	}
	if n, _ := c.s.Count("CustomersV3"); n != 0 {
		t.Errorf("after DELETE %d customers remain", n)
	}
}

// TestValidation checks the answers of F&O's OData layer (400) and of
// validateWrite (500 with an AxODataWriteException), in F&O's body shape.
func TestValidation(t *testing.T) {
	c := start(t, Config{})
	c.mustCreate("CustomersV3", `{"CustomerAccount":"US-001","CustomerGroupId":"10","SalesCurrencyCode":"USD"}`)
	tests := []struct {
		name, set, body string
		status          int
		innerType       string
		message         string
	}{
		{"unknown field", "CustomersV3", `{"CustomerAccount":"X","Colour":"red"}`, 400, "Microsoft.OData.ODataException",
			"The property 'Colour' does not exist on type 'Microsoft.Dynamics.DataEntities.CustomerV3'."},
		{"wrong type", "CustomersV3", `{"CustomerAccount":"X","CreditLimit":"lots"}`, 400, "Microsoft.OData.ODataException",
			"Cannot convert the literal 'lots' to the expected type 'Edm.Decimal' of property 'CreditLimit'."},
		{"unknown enum member", "CustomersV3", `{"CustomerAccount":"X","IsOneTimeCustomer":"Maybe"}`, 400, "Microsoft.OData.ODataException",
			"The string 'Maybe' is not a valid enumeration type constant of 'Microsoft.Dynamics.DataEntities.NoYes'."},
		{"not JSON", "CustomersV3", `{"CustomerAccount":`, 400, "Microsoft.OData.ODataException", "The request body is not a valid JSON object"},
		{"too long", "CustomersV3", `{"CustomerAccount":"X","CustomerGroupId":"10","SalesCurrencyCode":"USDX"}`, 500,
			"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
			"Write failed for table row of type 'CustomerV3Entity'. Infolog: Error: The value 'USDX' of field 'SalesCurrencyCode' is too long: the field holds at most 3 characters."},
		{"missing required", "CustomersV3", `{"CustomerAccount":"X","SalesCurrencyCode":"USD"}`, 500,
			"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
			"Write failed for table row of type 'CustomerV3Entity'. Infolog: Error: Field 'CustomerGroupId' must be filled in."},
		{"duplicate key in other case", "CustomersV3", `{"CustomerAccount":"us-001","CustomerGroupId":"10","SalesCurrencyCode":"USD"}`, 500,
			"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException", "The record already exists."},
		{"line without header", "LedgerJournalLines", `{"JournalBatchNumber":"GJ-000404","AccountDisplayValue":"110180-","CurrencyCode":"USD","TransDate":"2024-07-03T00:00:00Z"}`, 500,
			"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
			"Write failed for table row of type 'LedgerJournalLineEntity'. Infolog: Error: The value 'GJ-000404' in field 'JournalBatchNumber' is not found in the relating table 'LedgerJournalHeaderEntity'."},
		{"key not numbered by F&O", "CustomersV3", `{"CustomerGroupId":"10","SalesCurrencyCode":"USD"}`, 500,
			"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException", "Field 'CustomerAccount' must be filled in."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := c.do("POST", tc.set, tc.body)
			var e map[string]map[string]any
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("%d %s: not JSON", status, body)
			}
			inner, _ := e["error"]["innererror"].(map[string]any)
			if _, ok := e["error"]["code"].(string); !ok || e["error"]["message"] == nil || inner == nil || inner["stacktrace"] == nil {
				t.Fatalf("body %s is not in F&O's error shape", body)
			}
			if status != tc.status || inner["type"] != tc.innerType || !strings.Contains(inner["message"].(string), tc.message) {
				t.Errorf("got %d %s\nwant %d %s containing %q", status, body, tc.status, tc.innerType, tc.message)
			}
		})
	}
	if n, _ := c.s.Count("CustomersV3"); n != 1 {
		t.Errorf("failed writes left %d customers, want 1", n)
	}
}

func TestQuery(t *testing.T) {
	c := start(t, Config{PageSize: 2})
	for _, body := range []string{
		`{"CustomerAccount":"US-001","CustomerGroupId":"10","SalesCurrencyCode":"USD","OrganizationName":"O'Brien & Sons","CreditLimit":100}`,
		`{"CustomerAccount":"US-002","CustomerGroupId":"20","SalesCurrencyCode":"USD","OrganizationName":"Acme","CreditLimit":250.5,"IsOneTimeCustomer":"Yes"}`,
		`{"CustomerAccount":"US-003","CustomerGroupId":"10","SalesCurrencyCode":"EUR","OrganizationName":"Acme Europe","CreditLimit":1000}`,
		`{"dataAreaId":"usrt","CustomerAccount":"US-001","CustomerGroupId":"10","SalesCurrencyCode":"USD","OrganizationName":"Retail"}`,
	} {
		c.mustCreate("CustomersV3", body)
	}
	accounts := func(recs []map[string]any) string {
		var out []string
		for _, r := range recs {
			out = append(out, fmt.Sprint(r["dataAreaId"], "/", r["CustomerAccount"]))
		}
		return strings.Join(out, " ")
	}
	tests := []struct{ filter, extra, want string }{
		{"OrganizationName eq 'O''Brien & Sons'", "", "usmf/US-001"},
		{"organizationname eq 'x'", "", "400"},
		{"OrganizationName eq 'ACME'", "", "usmf/US-002"},
		{"OrganizationName eq 'Acme*'", "", "usmf/US-002 usmf/US-003"},
		{"CustomerGroupId eq '10' and SalesCurrencyCode ne 'EUR'", "", "usmf/US-001"},
		{"(CustomerGroupId eq '20' or SalesCurrencyCode eq 'EUR') and not (CreditLimit gt 500)", "", "usmf/US-002"},
		{"CreditLimit ge 250.5", "", "usmf/US-002 usmf/US-003"},
		{"250.5 lt CreditLimit", "", "usmf/US-003"},
		{"IsOneTimeCustomer eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", "", "usmf/US-002"},
		{"IsOneTimeCustomer eq 'No' and CustomerGroupId eq '10'", "", "usmf/US-001 usmf/US-003"},
		{"IsOneTimeCustomer eq Microsoft.Dynamics.DataEntities.NoYes'Perhaps'", "", "400"},
		{"IsOneTimeCustomer gt 'No'", "", "400"},
		{"CreditLimit eq 'x'", "", "400"},
		{"CustomerAccount eq 'US-001'", "", "usmf/US-001"},
		{"CustomerAccount eq 'US-001'", "&cross-company=true", "usmf/US-001 usrt/US-001"},
		{"dataAreaId eq 'usrt'", "", ""},
		{"dataAreaId eq 'usrt'", "&cross-company=true", "usrt/US-001"},
		{"CustomerAccount eq 'US-001' and", "", "400"},
		{"CustomerAccount eq 'US-001", "", "400"},
		{"CreditLimit add 1 eq 2", "", "400"},
		{"contains(OrganizationName,'Acme')", "", "400"},
	}
	for _, tc := range tests {
		t.Run(tc.filter+tc.extra, func(t *testing.T) {
			path := "CustomersV3?$filter=" + url.QueryEscape(tc.filter) + tc.extra
			status, _, body := c.do("GET", path, "")
			if tc.want == "400" {
				if status != 400 || !strings.Contains(body, "innererror") {
					t.Errorf("got %d %s, want 400 in F&O's shape", status, body)
				}
				return
			}
			if status != 200 {
				t.Fatalf("got %d %s", status, body)
			}
			var page struct{ Value []map[string]any }
			_ = json.Unmarshal([]byte(body), &page)
			if got := accounts(page.Value); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("select top skip count", func(t *testing.T) {
		status, _, body := c.do("GET", "CustomersV3?$select=CustomerAccount,CreditLimit&$top=1&$skip=1&$count=true&$orderby=CreditLimit%20desc", "")
		want := `"@odata.count":3,"value":[{"@odata.etag":`
		if status != 200 || !strings.Contains(body, want) || !strings.Contains(body, `"CustomerAccount":"US-002","CreditLimit":250.5}]`) {
			t.Errorf("got %d %s", status, body)
		}
	})
	t.Run("server paging", func(t *testing.T) {
		var got []string
		next := c.base + "/data/CustomersV3?cross-company=true"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("nextLink does not end")
			}
			status, _, body := c.do("GET", strings.TrimPrefix(next, c.base+"/data/"), "")
			var page struct {
				Value []map[string]any
				Next  string `json:"@odata.nextLink"`
			}
			if status != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page.Value) > 2 {
				t.Fatalf("page %d: %d %s", pages, status, body)
			}
			got = append(got, accounts(page.Value))
			next = page.Next
		}
		if strings.Join(got, " | ") != "usmf/US-001 usmf/US-002 | usmf/US-003 usrt/US-001" {
			t.Errorf("pages %q", got)
		}
	})
}

func TestMetadataRoundTrips(t *testing.T) {
	c := start(t, Config{})
	status, h, body := c.do("GET", "$metadata", "")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/xml") {
		t.Fatalf("$metadata: %d %s", status, h.Get("Content-Type"))
	}
	got, err := d365fo.LoadCSDL(strings.NewReader(body), "$metadata")
	if err != nil {
		t.Fatal(err)
	}
	want := d365fo.Default()
	if len(got.Entities) != len(want.Entities) {
		t.Fatalf("%d entity sets, want %d", len(got.Entities), len(want.Entities))
	}
	for set, w := range want.Entities {
		g, ok := got.Entities[set]
		if !ok {
			t.Errorf("entity set %s missing", set)
			continue
		}
		if fmt.Sprint(g.Keys) != fmt.Sprint(w.Keys) || len(g.Fields) != len(w.Fields) {
			t.Errorf("%s: keys %v with %d fields, want %v with %d", set, g.Keys, len(g.Fields), w.Keys, len(w.Fields))
			continue
		}
		for i, wf := range w.Fields {
			gf := g.Fields[i]
			if gf.Name != wf.Name || !gf.Type.Equal(wf.Type) || fmt.Sprint(gf.Type.Enum) != fmt.Sprint(wf.Type.Enum) ||
				gf.Required != wf.Required || gf.MaxLength != wf.MaxLength {
				t.Errorf("%s.%s: got %s %v req=%v max=%d, want %s %s %v req=%v max=%d", set, wf.Name,
					gf.Type, gf.Type.Enum, gf.Required, gf.MaxLength, wf.Name, wf.Type, wf.Type.Enum, wf.Required, wf.MaxLength)
			}
		}
	}
}

func TestPersistsAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erp.db")
	c := start(t, Config{Path: path})
	c.mustCreate("LedgerJournalHeaders", `{"JournalName":"GenJrn"}`)
	if err := c.s.Close(); err != nil {
		t.Fatal(err)
	}
	c = start(t, Config{Path: path})
	recs, err := c.s.Records("LedgerJournalHeaders")
	if err != nil || len(recs) != 1 || recs[0]["JournalBatchNumber"] != "GJ-000001" {
		t.Fatalf("after restart: %v %v", recs, err)
	}
	if h := c.mustCreate("LedgerJournalHeaders", `{"JournalName":"GenJrn"}`); h["JournalBatchNumber"] != "GJ-000002" {
		t.Errorf("number sequence restarted: %v", h["JournalBatchNumber"])
	}
}

func TestFaults(t *testing.T) {
	statuses := func(seed uint64) string {
		c := start(t, Config{Seed: seed, Faults: Faults{RateLimit: 0.3, ServerError: 0.3, RetryAfter: 1500 * time.Millisecond}})
		var out []string
		for range 30 {
			status, h, body := c.do("GET", "Currencies", "")
			if status == 429 && (h.Get("Retry-After") != "2" || !strings.Contains(body, "exeeded the limit of 6000")) {
				t.Errorf("429 without Retry-After 2 or F&O's message: %v %s", h, body)
			}
			out = append(out, fmt.Sprint(status))
		}
		return strings.Join(out, " ")
	}
	a, b := statuses(7), statuses(7)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	for _, want := range []string{"200", "429", "500", "503"} {
		if !strings.Contains(a, want) {
			t.Errorf("30 requests at 30%% faults never answered %s: %s", want, a)
		}
	}

	t.Run("lost reply applies the write", func(t *testing.T) {
		c := start(t, Config{Faults: Faults{LostReply: 1}})
		req, _ := http.NewRequest("POST", c.base+"/data/LedgerJournalHeaders", strings.NewReader(`{"JournalName":"GenJrn"}`))
		req.Header.Set("Authorization", "Bearer "+c.token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("got an answer %d, want a dropped connection", resp.StatusCode)
		}
		if n, _ := c.s.Count("LedgerJournalHeaders"); n != 1 {
			t.Errorf("%d headers stored, want the lost write applied", n)
		}
	})
	t.Run("timeout holds until the client gives up", func(t *testing.T) {
		c := start(t, Config{Faults: Faults{Timeout: 1}})
		cl := &http.Client{Timeout: 100 * time.Millisecond}
		req, _ := http.NewRequest("POST", c.base+"/data/LedgerJournalHeaders", strings.NewReader(`{"JournalName":"GenJrn"}`))
		req.Header.Set("Authorization", "Bearer "+c.token)
		if resp, err := cl.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("got an answer %d, want a client timeout", resp.StatusCode)
		}
		c.s.SetFaults(Faults{})
		if n, _ := c.s.Count("LedgerJournalHeaders"); n != 0 {
			t.Errorf("a held request was applied")
		}
	})
}
