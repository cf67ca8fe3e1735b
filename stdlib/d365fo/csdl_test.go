package d365fo_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib/d365fo"
	"github.com/flowhq/flow/stdlib/schema"
)

// testdata is the repository's shared fixture folder for this connector.
var testdata = filepath.Join("..", "..", "testdata", "d365fo")

func loadFile(t *testing.T, name string) *schema.Connector {
	t.Helper()
	path := filepath.Join(testdata, name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := d365fo.LoadCSDL(f, path)
	if err != nil {
		t.Fatalf("LoadCSDL(%s): %v", path, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return c
}

func load(t *testing.T, src string) (*schema.Connector, error) {
	t.Helper()
	return d365fo.LoadCSDL(strings.NewReader(src), "tenant.xml")
}

func entity(t *testing.T, c *schema.Connector, set string) *schema.Object {
	t.Helper()
	o, ok := c.Entities[set]
	if !ok {
		t.Fatalf("no entity %s; have %v", set, c.EntityNames())
	}
	if c.Objects[o.Name] != o {
		t.Fatalf("entity %s: object %s is not in Objects", set, o.Name)
	}
	return o
}

func field(t *testing.T, o *schema.Object, name string) *schema.Field {
	t.Helper()
	f, ok := o.Field(name)
	if !ok {
		t.Fatalf("%s has no field %s", o.Name, name)
	}
	return f
}

func TestLoadRealCustomersV3Excerpt(t *testing.T) {
	c := loadFile(t, "CustomersV3_metadata_trimmed.edmx.xml")
	if c.Name != "d365fo" || c.Kind != schema.ERP {
		t.Errorf("connector = %s/%v, want d365fo/erp", c.Name, c.Kind)
	}
	if got := c.EntityNames(); !reflect.DeepEqual(got, []string{"CustomersV3"}) {
		t.Errorf("entities = %v", got)
	}
	o := entity(t, c, "CustomersV3")
	if o.Name != "d365fo.CustomersV3" {
		t.Errorf("object name = %s", o.Name)
	}
	if len(o.Fields) != 305 {
		t.Errorf("CustomersV3 has %d fields, want 305", len(o.Fields))
	}
	if want := []string{"dataAreaId", "CustomerAccount"}; !reflect.DeepEqual(o.Keys, want) {
		t.Errorf("keys = %v, want %v", o.Keys, want)
	}
	var required []string
	for _, f := range o.Fields {
		if f.Required {
			required = append(required, f.Name)
		}
	}
	if want := []string{"SalesCurrencyCode", "CustomerGroupId"}; !reflect.DeepEqual(required, want) {
		t.Errorf("required = %v, want %v", required, want)
	}
	if f := field(t, o, "dataAreaId"); !f.Key || f.Required || f.Type.Kind != schema.String {
		t.Errorf("dataAreaId = %+v, want a string key part that is not required", f)
	}

	tests := []struct {
		field string
		kind  schema.Kind
		enum  []string
	}{
		{"CustomerAccount", schema.String, nil},
		{"CreditLimit", schema.Decimal, nil},
		{"PersonAnniversaryYear", schema.Int, nil},
		{"AddressRecordId", schema.Int, nil},
		{"AddressValidFrom", schema.Timestamp, nil},
		{"IsOneTimeCustomer", schema.String, []string{"No", "Yes"}},
		{"OnHoldStatus", schema.String, []string{"All", "Invoice", "Never", "No", "Payment", "PurchOrder", "Requisition"}},
		{"OrganizationABCCode", schema.String, []string{"A", "B", "C", "None"}},
	}
	for _, tc := range tests {
		f := field(t, o, tc.field)
		if f.Type.Kind != tc.kind || !reflect.DeepEqual(f.Type.Enum, tc.enum) {
			t.Errorf("%s: type %s enum %v, want %s enum %v", tc.field, f.Type, f.Type.Enum, tc.kind, tc.enum)
		}
	}
	if !field(t, o, "OnHoldStatus").Type.HasEnumValue("Invoice") || field(t, o, "OnHoldStatus").Type.HasEnumValue("Blocked") {
		t.Error("OnHoldStatus enum check is wrong")
	}
	// Label references are not documentation; resolved label text is.
	if d := field(t, o, "CustomerGroupId").Doc; d != "" {
		t.Errorf("CustomerGroupId doc = %q, want none for @SYS11904", d)
	}
	var texts int
	for _, f := range o.Fields {
		if strings.HasPrefix(f.Doc, "@") {
			t.Errorf("%s doc is a label reference %q", f.Name, f.Doc)
		}
		if f.Doc != "" {
			texts++
		}
	}
	if texts == 0 {
		t.Error("no field has doc text (the excerpt has LabelId text such as \"Record-ID\")")
	}
}

func TestLoadTenantCustomField(t *testing.T) {
	c := loadFile(t, "tenant_custom_field.edmx.xml")
	cust := entity(t, c, "CustomersV3")
	if want := []string{"dataAreaId", "CustomerAccount"}; !reflect.DeepEqual(cust.Keys, want) {
		t.Errorf("keys (inherited from the base type) = %v, want %v", cust.Keys, want)
	}
	wantNames := []string{"dataAreaId", "CustomerAccount", "CustomerGroupId", "SalesCurrencyCode", "OrganizationName",
		"CreditLimit", "IsOneTimeCustomer", "ZZStripeCustomerId", "ZZStripeTags", "ZZBillingAddress", "ZZLastSynced"}
	if got := cust.FieldNames(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("fields = %v\nwant %v (base first, no navigation properties)", got, wantNames)
	}

	zz := field(t, cust, "ZZStripeCustomerId")
	if zz.Type.Kind != schema.String || zz.MaxLength != 255 || zz.Required {
		t.Errorf("ZZStripeCustomerId = %s max %d required %v, want string max 255 (from the type definition), optional", zz.Type, zz.MaxLength, zz.Required)
	}
	if !strings.HasPrefix(zz.Doc, "Stripe customer id") {
		t.Errorf("ZZStripeCustomerId doc = %q (Core.Description through an include alias)", zz.Doc)
	}
	if f := field(t, cust, "SalesCurrencyCode"); !f.Required || f.MaxLength != 3 {
		t.Errorf("SalesCurrencyCode required %v max %d, want required (element form) max 3", f.Required, f.MaxLength)
	}
	if f := field(t, cust, "OrganizationName"); f.Doc != "Organization name" || f.Required {
		t.Errorf("OrganizationName doc %q required %v", f.Doc, f.Required)
	}
	if f := field(t, cust, "IsOneTimeCustomer"); !reflect.DeepEqual(f.Type.Enum, []string{"No", "Yes"}) {
		t.Errorf("IsOneTimeCustomer (mde.NoYes via alias) = %s %v", f.Type, f.Type.Enum)
	}
	if f := field(t, cust, "ZZStripeTags"); f.Type.String() != "list(string)" {
		t.Errorf("ZZStripeTags = %s, want list(string)", f.Type)
	}
	if f := field(t, cust, "ZZLastSynced"); f.Type.Kind != schema.Timestamp {
		t.Errorf("ZZLastSynced = %s, want timestamp", f.Type)
	}
	addr := field(t, cust, "ZZBillingAddress")
	if addr.Type.Kind != schema.Struct || addr.Type.Object != "d365fo.ZZAddress" {
		t.Fatalf("ZZBillingAddress = %s, want d365fo.ZZAddress", addr.Type)
	}
	if street := field(t, c.Objects["d365fo.ZZAddress"], "Street"); street.MaxLength != 250 {
		t.Errorf("ZZAddress.Street max = %d", street.MaxLength)
	}

	so := entity(t, c, "SalesOrderHeadersV2")
	f := field(t, so, "OrderingCustomerAccountNumber")
	if !f.Required || f.Doc != "The customer who places the order." {
		t.Errorf("out-of-line annotations not applied: required %v doc %q", f.Required, f.Doc)
	}
	field(t, so, "ZZStripeChargeId")
	if !strings.Contains(so.Doc, "Microsoft.Dynamics.DataEntities.SalesOrderHeaderV2") {
		t.Errorf("entity doc %q does not name the entity type", so.Doc)
	}
}

func TestLoadMapsTypes(t *testing.T) {
	const doc = `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
<edmx:DataServices><Schema Namespace="NS" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EnumType Name="Flags" IsFlags="true"><Member Name="A" Value="1"/><Member Name="B" Value="2"/></EnumType>
<EnumType Name="Empty"/>
<EntityType Name="T"><Key><PropertyRef Name="Id"/></Key>
<Property Name="Id" Type="Edm.Guid" Nullable="false"/>
<Property Name="S" Type="Edm.String" MaxLength="max"/>
<Property Name="Bin" Type="Edm.Binary" MaxLength="16"/>
<Property Name="I16" Type="Edm.Int16"/><Property Name="I32" Type="Edm.Int32"/><Property Name="I64" Type="Edm.Int64"/><Property Name="B8" Type="Edm.Byte"/>
<Property Name="Dec" Type="Edm.Decimal" Precision="32" Scale="6"/>
<Property Name="Dbl" Type="Edm.Double"/><Property Name="Sgl" Type="Edm.Single"/>
<Property Name="Bool" Type="Edm.Boolean"/>
<Property Name="DTO" Type="Edm.DateTimeOffset"/><Property Name="D" Type="Edm.Date"/>
<Property Name="TOD" Type="Edm.TimeOfDay"/><Property Name="Geo" Type="Edm.GeographyPoint"/>
<Property Name="Untyped" Type="Edm.Untyped"/><Property Name="Unknown" Type="Other.Thing"/>
<Property Name="Ints" Type="Collection(Edm.Int32)"/>
<Property Name="F" Type="NS.Flags"/><Property Name="E" Type="NS.Empty"/>
<Property Name="NumMax" Type="Edm.Int32" MaxLength="10"/>
</EntityType>
<EntityContainer Name="C"><EntitySet Name="Ts" EntityType="NS.T"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>`
	c, err := load(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o := entity(t, c, "Ts")
	want := map[string]string{
		"Id": "string", "S": "string", "Bin": "string",
		"I16": "int", "I32": "int", "I64": "int", "B8": "int",
		"Dec": "decimal", "Dbl": "double", "Sgl": "double", "Bool": "bool",
		"DTO": "timestamp", "D": "timestamp",
		"TOD": "dyn", "Geo": "dyn", "Untyped": "dyn", "Unknown": "dyn",
		"Ints": "list(int)", "F": "string", "E": "string", "NumMax": "int",
	}
	for _, f := range o.Fields {
		if got := f.Type.String(); got != want[f.Name] {
			t.Errorf("%s: %s, want %s", f.Name, got, want[f.Name])
		}
		if f.Type.Enum != nil {
			t.Errorf("%s: enum %v, want none (flags and empty enums are plain strings)", f.Name, f.Type.Enum)
		}
	}
	if n := field(t, o, "S").MaxLength; n != 0 {
		t.Errorf(`MaxLength="max" gave %d, want 0`, n)
	}
	if n := field(t, o, "Bin").MaxLength; n != 16 {
		t.Errorf("Bin MaxLength = %d, want 16", n)
	}
	if n := field(t, o, "NumMax").MaxLength; n != 0 {
		t.Errorf("MaxLength on an int gave %d, want 0", n)
	}
}

func TestLoadErrors(t *testing.T) {
	const head = `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
<edmx:DataServices><Schema Namespace="NS" xmlns="http://docs.oasis-open.org/odata/ns/edm">
`
	const tail = "\n</Schema></edmx:DataServices></edmx:Edmx>"
	tests := []struct {
		name, src, want string
	}{
		{"mismatched tag", head + "<EntityType Name=\"T\">\n<Key></EntityType>" + tail,
			"tenant.xml:4: malformed XML: element <Key> closed by </EntityType>"},
		{"bad attribute", head + "\n\n<EntityType Name=T>" + tail,
			"tenant.xml:5: malformed XML: unquoted or missing attribute value in element"},
		{"truncated", head + "<EntityType Name=\"T\">",
			"tenant.xml:3: malformed XML: unexpected EOF"},
		{"not CSDL", `<?xml version="1.0"?>` + "\n<html><body/></html>",
			"tenant.xml:2: not a CSDL document: root element is html"},
		{"empty", "", "tenant.xml: not a CSDL document: no edmx:Edmx element"},
		{"key not a field", head + "<EntityType Name=\"T\"><Key><PropertyRef Name=\"Id\"/></Key>\n<Property Name=\"X\" Type=\"Edm.String\"/></EntityType>\n" +
			"<EntityContainer Name=\"C\"><EntitySet Name=\"Ts\" EntityType=\"NS.T\"/></EntityContainer>" + tail,
			`tenant.xml:3: schema: object d365fo.Ts: key "Id" is not a field`},
		{"unknown entity type", head + "<EntityContainer Name=\"C\">\n<EntitySet Name=\"Ts\" EntityType=\"NS.Nope\"/></EntityContainer>" + tail,
			`tenant.xml:4: entity set Ts: unknown entity type "NS.Nope"`},
		{"duplicate property", head + "<EntityType Name=\"T\"><Property Name=\"X\" Type=\"Edm.String\"/>\n<Property Name=\"X\" Type=\"Edm.Int32\"/></EntityType>\n" +
			"<EntityContainer Name=\"C\"><EntitySet Name=\"Ts\" EntityType=\"NS.T\"/></EntityContainer>" + tail,
			`tenant.xml:3: schema: object d365fo.Ts: duplicate field "X"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.src)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant prefix %q", err, tc.want)
			}
		})
	}
}

func TestConfigFields(t *testing.T) {
	c := d365fo.Default()
	var names []string
	for _, f := range c.Config {
		names = append(names, f.Name)
		if f.Type.Kind != schema.String || f.Doc == "" {
			t.Errorf("config %s: type %s doc %q", f.Name, f.Type, f.Doc)
		}
	}
	want := []string{"company", "metadata", "url", "tenant_id", "client_id", "client_secret"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("config = %v, want %v", names, want)
	}
}

func FuzzLoadCSDL(f *testing.F) {
	for _, name := range []string{"tenant_custom_field.edmx.xml"} {
		b, err := os.ReadFile(filepath.Join(testdata, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"/>`)
	f.Fuzz(func(t *testing.T, src string) {
		c, err := d365fo.LoadCSDL(strings.NewReader(src), "fuzz.xml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.xml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("loaded connector does not validate: %v", err)
		}
	})
}
