package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLSPUsage(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"lsp", "--help"}, &out, &errs); code != 0 || !strings.Contains(errs.String(), "Usage: flowc lsp") {
		t.Errorf("lsp --help: exit %d, %q", code, errs.String())
	}
	errs.Reset()
	if code := run([]string{"lsp", "extra"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), `unexpected argument "extra"`) {
		t.Errorf("lsp extra: exit %d, %q", code, errs.String())
	}
}

// nvimScript attaches `flowc lsp` to the file named by $FLOW_FILE with
// Neovim's own LSP client and writes the diagnostics it receives to
// $FLOW_OUT, one per line: line:col: code: message.
const nvimScript = `
local file, out = os.getenv("FLOW_FILE"), os.getenv("FLOW_OUT")
vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = "flowc",
  cmd = { os.getenv("FLOWC"), "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
})
vim.lsp.buf_attach_client(buf, id)
vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local lines = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code
  if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
  table.insert(lines, string.format("%d:%d: %s: %s", d.lnum + 1, d.col + 1, tostring(code), (d.message:gsub("\n", " | "))))
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(id)
vim.wait(2000, function() return vim.lsp.get_client_by_id(id) == nil end, 50)
vim.cmd("qall!")
`

// TestLSPNeovim runs Neovim headless as the editor: its LSP client starts
// `flowc lsp` on a broken flow and reports the diagnostics. It skips when
// nvim is not installed, unless FLOW_REQUIRE_NVIM=1.
func TestLSPNeovim(t *testing.T) {
	nvim, err := exec.LookPath("nvim")
	if err != nil {
		if os.Getenv("FLOW_REQUIRE_NVIM") == "1" {
			t.Fatal("FLOW_REQUIRE_NVIM=1, but nvim is not installed")
		}
		t.Skip("nvim is not installed")
	}
	dir := t.TempDir()
	flowc := filepath.Join(dir, "flowc")
	if out, err := exec.Command("go", "build", "-o", flowc, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pkg := filepath.Join(dir, "shop")
	os.Mkdir(pkg, 0o755)
	files := map[string]string{
		"package.flow": "package shop\n\nimport \"stripe\"\n\nimport \"d365fo\" as erp\n",
		"orders.flow": `package shop

flow charge_to_order {
    on stripe.charge.succeeded as ev
    let ch = ev.data.object
    upsert erp.SalesOrderHeadersV2 key "stripe:" + ch.id {
        SalesOrderNumber: ch.id,
        OrderingCustomerAccountNumber: ch.customer,
        CurrencyCode: upper(ch.curency),
    }
}
`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(pkg, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "attach.lua")
	os.WriteFile(script, []byte(nvimScript), 0o644)
	out := filepath.Join(dir, "diagnostics.txt")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--clean", "-n", "-c", "luafile "+script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FLOWC="+flowc, "FLOW_FILE="+filepath.Join(pkg, "orders.flow"), "FLOW_OUT="+out, "XDG_STATE_HOME="+dir, "XDG_DATA_HOME="+dir)
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nvim: %v\n%s", err, o)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("nvim wrote no diagnostics: %v", err)
	}
	want := `9:32: F0106: unknown field "curency" on stripe.Charge | help: did you mean "currency"?`
	if lines := strings.TrimSpace(string(got)); !strings.Contains(lines, want) {
		t.Errorf("diagnostics in nvim:\n%s\nwant a line\n%s", lines, want)
	}
}
