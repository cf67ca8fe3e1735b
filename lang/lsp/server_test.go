package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/flowhq/flow/lang/format"
)

func hoverText(t *testing.T, c *client, u protocol.DocumentURI, pos protocol.Position) string {
	t.Helper()
	var h *protocol.Hover
	if e := c.call(protocol.MethodTextDocumentHover, protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: pos}}, &h); e != "" {
		t.Fatalf("hover: %s", e)
	}
	if h == nil {
		return ""
	}
	return h.Contents.Value
}

func complete(t *testing.T, c *client, u protocol.DocumentURI, pos protocol.Position) map[string]protocol.CompletionItem {
	t.Helper()
	var list protocol.CompletionList
	if e := c.call(protocol.MethodTextDocumentCompletion, protocol.CompletionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: pos}}, &list); e != "" {
		t.Fatalf("completion: %s", e)
	}
	out := map[string]protocol.CompletionItem{}
	for _, it := range list.Items {
		out[it.Label] = it
	}
	return out
}

func definition(t *testing.T, c *client, u protocol.DocumentURI, pos protocol.Position) []protocol.Location {
	t.Helper()
	var locs []protocol.Location
	if e := c.call(protocol.MethodTextDocumentDefinition, protocol.DefinitionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: pos}}, &locs); e != "" {
		t.Fatalf("definition: %s", e)
	}
	return locs
}

// TestSession drives a whole session: initialize, open, change, the
// requests an editor sends, shutdown and exit.
func TestSession(t *testing.T) {
	dir := copyPackage(t, "shop")
	ordersPath := filepath.Join(dir, "orders.flow")
	orders := fileURI(ordersPath)
	pkgURI := fileURI(filepath.Join(dir, "package.flow"))
	src, err := os.ReadFile(ordersPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)

	c := startServer(t, Config{Debounce: 5 * time.Millisecond})
	var res protocol.InitializeResult
	if e := c.call(protocol.MethodInitialize, protocol.InitializeParams{ProcessID: 1}, &res); e != "" {
		t.Fatal(e)
	}
	if res.Capabilities.HoverProvider != true || res.Capabilities.CompletionProvider == nil || res.ServerInfo.Name != "flowc lsp" {
		t.Errorf("capabilities: %+v", res)
	}
	c.notify(protocol.MethodInitialized, struct{}{})

	// A clean package publishes an empty list for the open document.
	c.open(orders, text)
	if d := c.diagnostics(orders, 1); len(d) != 0 {
		t.Fatalf("clean file has diagnostics: %+v", d)
	}

	// A typo gets the checker's diagnostic, at the name, with its help.
	broken := strings.Replace(text, "CurrencyCode: upper(ch.currency),\n        Customers", "CurrencyCode: upper(ch.curency),\n        Customers", 1)
	c.change(orders, 2, broken)
	diags := c.diagnostics(orders, 2)
	if len(diags) != 1 {
		t.Fatalf("want 1 diagnostic, got %+v", diags)
	}
	d := diags[0]
	want := at(t, broken, "curency", 0, 0)
	if d.Range.Start != want || d.Range.End.Character != want.Character+7 || d.Severity != protocol.DiagnosticSeverityError || d.Code != "F0106" {
		t.Errorf("diagnostic: %+v, want at %+v", d, want)
	}
	if !strings.Contains(d.Message, `unknown field "curency" on stripe.Charge`) || !strings.Contains(d.Message, `help: did you mean "currency"?`) {
		t.Errorf("message: %q", d.Message)
	}

	// The quick fix replaces the name.
	var actions []protocol.CodeAction
	if e := c.call(protocol.MethodTextDocumentCodeAction, protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: orders},
		Range: d.Range}, &actions); e != "" {
		t.Fatal(e)
	}
	if len(actions) != 1 || actions[0].Title != "Change to currency" || actions[0].Edit == nil {
		t.Fatalf("code actions: %+v", actions)
	}
	edits := actions[0].Edit.Changes[orders]
	if len(edits) != 1 || edits[0].NewText != "currency" || edits[0].Range != d.Range {
		t.Errorf("edit: %+v", edits)
	}

	// Back to the clean text: hover, completion, definition on it.
	c.change(orders, 3, text)
	if d := c.diagnostics(orders, 3); len(d) != 0 {
		t.Fatalf("diagnostics after the fix: %+v", d)
	}

	for _, tc := range []struct {
		name string
		pos  protocol.Position
		want []string
	}{
		{"a field's type and schema doc", at(t, text, "ch.currency", 0, 4), []string{"Charge.currency: string", "currency"}},
		{"a let", at(t, text, "let ch", 0, 4), []string{"let ch: stripe.Charge"}},
		{"the whole of an expression", at(t, text, " + ch.id", 0, 1), []string{`"stripe:" + ch.id: string`}},
		{"a function's signature", at(t, text, "truncate(", 0, 2), []string{"truncate(ch.billing_details.name, 100): string", "truncate(string, int) -> string"}},
		{"a table lookup", at(t, text, "account_for[", 0, 3), []string{"account_for: map(string, string)"}},
		{"an entity field being set", at(t, text, "SalesOrderNumber", 0, 2), []string{"SalesOrderHeadersV2.SalesOrderNumber: string"}},
		{"a lookup condition's field", at(t, text, "CustomerAccount ==", 0, 2), []string{"CustomersV3.CustomerAccount: string", "key"}},
		{"an entity", at(t, text, "erp.SalesOrderHeadersV2", 0, 6), []string{"d365fo.SalesOrderHeadersV2"}},
		{"an event", at(t, text, "charge.succeeded", 0, 3), []string{"ev: stripe.ChargeEvent", "stripe.Charge"}},
	} {
		t.Run("hover/"+tc.name, func(t *testing.T) {
			h := hoverText(t, c, orders, tc.pos)
			for _, w := range tc.want {
				if !strings.Contains(h, w) {
					t.Errorf("hover at %+v = %q, want it to contain %q", tc.pos, h, w)
				}
			}
		})
	}

	// Completion: fields of a typed path, entity fields, table keys,
	// names and functions.
	typing := strings.Replace(text, "        CustomersOrderReference: account_for[\"charge\"],\n", "        CustomersOrderReference: account_for[\"charge\"],\n        Cust\n        DeliveryAddressDescription: ch.billing_details.\n        InvoiceAccount: account_for[\n", 1)
	c.change(orders, 4, typing)
	items := complete(t, c, orders, at(t, typing, "ch.billing_details.\n", 0, len("ch.billing_details.")))
	if it, ok := items["name"]; !ok || it.Detail != "string" {
		t.Errorf("completion after ch.billing_details.: want name (string), got %v", keys(items))
	}
	items = complete(t, c, orders, at(t, typing, "        Cust\n", 0, len("        Cust")))
	if it, ok := items["SalesOrderName"]; !ok || it.InsertText != "SalesOrderName: " {
		t.Errorf("completion of an entity field: got %v", keys(items))
	}
	if _, ok := items["OrganizationName"]; ok {
		t.Errorf("completion in SalesOrderHeadersV2 offers a CustomersV3 field")
	}
	items = complete(t, c, orders, at(t, typing, "account_for[\n", 0, len("account_for[")))
	if it, ok := items[`"fee"`]; !ok || it.Detail != `"618100"` {
		t.Errorf("completion of table keys: got %v", keys(items))
	}
	items = complete(t, c, orders, at(t, typing, "upper(ch.currency)", 1, 0))
	for _, w := range []string{"ch", "cust", "ev", "customer_group", "account_for", "money", "upper", "erp"} {
		if _, ok := items[w]; !ok {
			t.Errorf("completion of a name: %s missing from %v", w, keys(items))
		}
	}
	if _, ok := items["rf"]; ok {
		t.Errorf("completion offers rf, a let of another flow")
	}
	items = complete(t, c, orders, at(t, typing, "erp.SalesOrderHeadersV2", 0, 4))
	if _, ok := items["CustomersV3"]; !ok {
		t.Errorf("completion of an entity after erp.: got %v", keys(items))
	}

	// Definition: a let, a lookup, a param in another file, a table.
	c.change(orders, 5, text)
	c.diagnostics(orders, 5)
	for _, tc := range []struct {
		name     string
		pos      protocol.Position
		uri      protocol.DocumentURI
		line     uint32
		col, end uint32
	}{
		{"let", at(t, text, "ch.paid", 0, 1), orders, 4, 8, 10},
		{"lookup", at(t, text, "cust.CustomerAccount", 0, 2), orders, 7, 11, 15},
		{"param in another file", at(t, text, "customer_group,", 0, 3), pkgURI, 9, 6, 20},
		{"table", at(t, text, "account_for[", 0, 0), pkgURI, 12, 6, 17},
		{"event variable", at(t, text, "ev.data", 0, 0), orders, 3, 34, 36},
	} {
		t.Run("definition/"+tc.name, func(t *testing.T) {
			locs := definition(t, c, orders, tc.pos)
			if len(locs) != 1 {
				t.Fatalf("got %+v", locs)
			}
			l := locs[0]
			if l.URI != tc.uri || l.Range.Start.Line != tc.line || l.Range.Start.Character != tc.col || l.Range.End.Character != tc.end {
				t.Errorf("got %s %+v, want %s %d:%d-%d", l.URI, l.Range, tc.uri, tc.line, tc.col, tc.end)
				t.Logf("%v", string(mustRead(t, l.URI)))
			}
		})
	}
	if locs := definition(t, c, orders, at(t, text, "ch.currency", 0, 4)); len(locs) != 0 {
		t.Errorf("definition of a field: %+v", locs)
	}

	// Document symbols outline flows and what they declare.
	var syms []protocol.DocumentSymbol
	if e := c.call(protocol.MethodTextDocumentDocumentSymbol, protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: orders}}, &syms); e != "" {
		t.Fatal(e)
	}
	var outline []string
	for _, s := range syms {
		var kids []string
		for _, k := range s.Children {
			kids = append(kids, k.Name)
		}
		outline = append(outline, s.Name+"("+strings.Join(kids, " ")+")")
	}
	if got := strings.Join(outline, " "); got != "charge_to_order(ev ch cust) refund_to_credit(ev rf)" {
		t.Errorf("symbols: %s", got)
	}
	if syms[0].SelectionRange.Start != (protocol.Position{Line: 2, Character: 5}) {
		t.Errorf("flow symbol at %+v", syms[0].SelectionRange)
	}

	// Formatting gives what flowc fmt gives.
	messy := strings.Replace(text, "    let ch = ev.data.object", "  let   ch=ev.data.object", 1)
	c.change(orders, 6, messy)
	var edits2 []protocol.TextEdit
	if e := c.call(protocol.MethodTextDocumentFormatting, protocol.DocumentFormattingParams{TextDocument: protocol.TextDocumentIdentifier{URI: orders}}, &edits2); e != "" {
		t.Fatal(e)
	}
	want2, _ := format.Source(ordersPath, []byte(messy))
	if len(edits2) != 1 || edits2[0].NewText != string(want2) || edits2[0].NewText != text || edits2[0].Range.Start != (protocol.Position{}) {
		t.Errorf("formatting: %+v", edits2)
	}

	if e := c.call(protocol.MethodShutdown, nil, nil); e != "" {
		t.Fatal(e)
	}
	c.notify(protocol.MethodExit, nil)
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("Serve after shutdown and exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not exit")
	}
}

func keys(m map[string]protocol.CompletionItem) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mustRead(t *testing.T, u protocol.DocumentURI) []byte {
	data, _ := os.ReadFile(pathOf(u))
	return data
}

// The outline of a flow holds what its for and if bodies declare: a for's
// under the for, an if's with the statements around it.
func TestSymbolsOfBodies(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "due.flow")
	src := `package due

import "d365fo" as erp {
    company: "usmf",
}

flow charge {
    on schedule "0 7 * * *" as tick
    for open in erp.CustTransOpens {
        let owed = open.AmountCur
        if owed > decimal("0") {
            lookup cust = erp.CustomersV3 where CustomerAccount == open.AccountNum else skip
            upsert erp.SalesOrderHeadersV2 key "due:" + string(open.SysRecId) {
                OrderingCustomerAccountNumber: cust.CustomerAccount,
            }
        } else {
            let credit = -owed
        }
    }
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	u := fileURI(path)
	c := startServer(t, Config{Debounce: time.Millisecond})
	var res protocol.InitializeResult
	if e := c.call(protocol.MethodInitialize, protocol.InitializeParams{ProcessID: 1}, &res); e != "" {
		t.Fatal(e)
	}
	c.notify(protocol.MethodInitialized, struct{}{})
	c.open(u, src)
	var syms []protocol.DocumentSymbol
	if e := c.call(protocol.MethodTextDocumentDocumentSymbol, protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}}, &syms); e != "" {
		t.Fatal(e)
	}
	var outline func(ss []protocol.DocumentSymbol) string
	outline = func(ss []protocol.DocumentSymbol) string {
		var out []string
		for _, s := range ss {
			if len(s.Children) > 0 {
				out = append(out, s.Name+"("+outline(s.Children)+")")
			} else {
				out = append(out, s.Name)
			}
		}
		return strings.Join(out, " ")
	}
	if got := outline(syms); got != "erp charge(tick open(owed cust credit))" {
		t.Errorf("outline: %s", got)
	}
}
