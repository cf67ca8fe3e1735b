package ax2012_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012"
)

// Answers that break the protocol are clear errors, never panics.
func TestGarbageAnswers(t *testing.T) {
	const env11 = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>%s</s:Body></s:Envelope>`
	cases := []struct {
		name, ctype string
		status      int
		body        string
		kind, want  string
	}{
		{"html 200", "text/html", 200, "<html><body>Login</body></html>", "permanent", "not a SOAP envelope"},
		{"truncated", "text/xml", 200, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><CustomerServiceFindResp`, "permanent", "malformed XML"},
		{"empty", "text/xml", 200, "", "permanent", "no root element"},
		{"wrong wrapper", "text/xml", 200, strings.Replace(env11, "%s", "<Other/>", 1), "permanent", "want <CustomerServiceFindResponse>"},
		{"no body", "text/xml", 200, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>`, "permanent", "without a Body"},
		{"bad decimal", "text/xml", 200, strings.Replace(env11, "%s", `<CustomerServiceFindResponse xmlns="http://schemas.microsoft.com/dynamics/2008/01/services"><Customer xmlns="http://schemas.microsoft.com/dynamics/2008/01/documents/Customer"><CustTable class="entity"><AccountNum>a</AccountNum><CreditMax>lots</CreditMax></CustTable></Customer></CustomerServiceFindResponse>`, 1), "permanent", "not a decimal"},
		{"server fault", "text/xml", 500, strings.Replace(env11, "%s", `<s:Fault><faultcode>s:Server</faultcode><faultstring>boom</faultstring></s:Fault>`, 1), "transient", "boom"},
		{"client fault", "text/xml", 500, strings.Replace(env11, "%s", `<s:Fault><faultcode>s:Client</faultcode><faultstring>bad</faultstring></s:Fault>`, 1), "permanent", "bad"},
		{"fault 1.2 numeric exception", "application/soap+xml", 500, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text>x</s:Text></s:Reason><s:Detail><AifFault xmlns="http://schemas.microsoft.com/dynamics/2008/01/documents/Fault"><InfologMessageList/><XppExceptionType>11</XppExceptionType></AifFault></s:Detail></s:Fault></s:Body></s:Envelope>`, "transient", "UpdateConflict"},
		{"502 html", "text/html", 502, "<html>Bad Gateway</html>", "transient", "HTTP 502"},
		{"401", "text/plain", 401, "", "permanent", "HTTP 401"},
		{"deep", "text/xml", 200, strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100), "permanent", "deeper than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			drv, err := ax2012.New(ax2012.Config{BaseURL: srv.URL, Port: "p", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = drv.Lookup(context.Background(), "CustTable", erp.Record{"AccountNum": "a"})
			if kindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (%s); want %s with %q", err, kindOf(err), tc.kind, tc.want)
			}
		})
	}
}
