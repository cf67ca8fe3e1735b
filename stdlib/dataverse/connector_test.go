package dataverse

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

func TestDefault(t *testing.T) {
	s := DefaultSchema()
	c := s.Connector
	if c.Name != "dataverse" || c.Kind != schema.ERP {
		t.Fatalf("connector %s kind %v", c.Name, c.Kind)
	}
	for _, set := range []string{"accounts", "contacts", "salesorders", "invoices", "new_stripepayments"} {
		o, ok := c.Entities[set]
		if !ok {
			t.Fatalf("no entity set %s (have %v)", set, c.EntityNames())
		}
		if o.Name != "dataverse."+set || len(o.Keys) != 1 {
			t.Errorf("%s: object %s keys %v", set, o.Name, o.Keys)
		}
	}
	acct := c.Entities["accounts"]
	if f, ok := acct.Field("name"); !ok || f.MaxLength != 160 || f.Type.Kind != schema.String {
		t.Errorf("accounts.name = %+v", f)
	}
	if f, ok := acct.Field("creditlimit"); !ok || f.Type.Kind != schema.Decimal {
		t.Errorf("accounts.creditlimit = %+v", f)
	}
	if f, ok := c.Entities["invoices"].Field("statecode"); !ok || f.Type.Kind != schema.Int {
		t.Errorf("invoices.statecode = %+v", f)
	}
	if got := fmt.Sprint(s.AlternateKeys["accounts"]); got != "[[new_stripecustomerid]]" {
		t.Errorf("accounts alternate keys %s", got)
	}
	if b, ok := s.IsBind("invoices", "customerid_account"); !ok || b.Target != "accounts" || b.Value != "_customerid_value" {
		t.Errorf("invoices.customerid_account bind = %+v %v", b, ok)
	}
	if b, ok := s.IsBind("invoices", "salesorderid"); !ok || b.Target != "salesorders" || b.Value != "_salesorderid_value" {
		t.Errorf("invoices.salesorderid bind = %+v %v", b, ok)
	}
	if _, ok := c.Entities["invoices"].Field("customerid_account"); !ok {
		t.Error("the lookup is not a field")
	}
	if !s.Guids["accounts"]["accountid"] || !s.Guids["invoices"]["_customerid_value"] || s.Guids["accounts"]["name"] {
		t.Errorf("guids %v", s.Guids["accounts"])
	}
	if !s.Dates["salesorders"]["requestdeliveryby"] {
		t.Error("requestdeliveryby is an Edm.Date")
	}
	if k, ok := s.AlternateKeyOf("accounts", map[string]any{"new_stripecustomerid": "cus_1"}); !ok || k[0] != "new_stripecustomerid" {
		t.Errorf("AlternateKeyOf = %v %v", k, ok)
	}
	if _, ok := s.AlternateKeyOf("accounts", map[string]any{"new_stripecustomerid": ""}); ok {
		t.Error("an empty alternate key value names nothing")
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadTenantMetadata(t *testing.T) {
	doc := strings.Replace(string(defaultMetadata), `<Property Name="new_stripecustomerid" Type="Edm.String" MaxLength="100"/>`,
		`<Property Name="new_stripecustomerid" Type="Edm.String" MaxLength="100"/><Property Name="cr5f2_loyaltytier" Type="Edm.Int32"/>`, 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "org.edmx"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(map[string]string{"metadata": "org.edmx"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := c.Entities["contacts"].Field("cr5f2_loyaltytier"); !ok || f.Type.Kind != schema.Int {
		t.Errorf("custom column: %+v", f)
	}
	if _, err := Load(map[string]string{"metadata": "missing.edmx"}, dir); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestLoadRejectsGarbage(t *testing.T) {
	for name, doc := range map[string]string{
		"not xml":     "{}",
		"html":        "<html><body>503</body></html>",
		"bad alt key": strings.Replace(string(defaultMetadata), `PropertyPath="new_stripechargeid"`, `PropertyPath="nope"`, 1),
		"truncated":   string(defaultMetadata[:len(defaultMetadata)/2]),
	} {
		if _, err := LoadCSDL([]byte(doc), name); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func FuzzLoadCSDL(f *testing.F) {
	f.Add(defaultMetadata)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = LoadCSDL(data, "fuzz") // must not panic
	})
}
