package dynsl

import (
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

func TestConnector(t *testing.T) {
	c := Connector()
	if c.Name != "dynsl" || c.Kind != schema.ERP {
		t.Fatalf("connector %s %v", c.Name, c.Kind)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.EntityNames(); len(got) != 6 {
		t.Fatalf("entities %v", got)
	}
	for _, tc := range []struct {
		entity, field string
		kind          schema.Kind
		max           int
		required, key bool
	}{
		{"Customer", "CustId", schema.String, 15, true, true},
		{"Customer", "Name", schema.String, 60, true, false},
		{"Customer", "CrLmt", schema.Decimal, 0, false, false},
		{"ARDoc", "RefNbr", schema.String, 10, false, true},
		{"ARDoc", "DocDate", schema.Timestamp, 0, true, false},
		{"ARDoc", "OrigDocAmt", schema.Decimal, 0, true, false},
		{"ARDoc", "BatSeq", schema.Int, 0, false, true},
		{"SOHeader", "OrdNbr", schema.String, 15, true, true},
		{"SOHeader", "CpnyID", schema.String, 10, false, true},
		{"SOLine", "LineRef", schema.String, 5, false, true},
		{"Batch", "BatNbr", schema.String, 10, false, true},
		{"GLTran", "LineNbr", schema.Int, 0, false, true},
		{"GLTran", "Sub", schema.String, 24, true, false},
	} {
		o := c.Entities[tc.entity]
		f, ok := o.Field(tc.field)
		if !ok {
			t.Errorf("%s.%s missing", tc.entity, tc.field)
			continue
		}
		if f.Type.Kind != tc.kind || f.MaxLength != tc.max || f.Required != tc.required || f.Key != tc.key {
			t.Errorf("%s.%s = %v max %d required %v key %v", tc.entity, tc.field, f.Type, f.MaxLength, f.Required, f.Key)
		}
	}
	dt, _ := c.Entities["ARDoc"].Field("DocType")
	if !dt.Type.HasEnumValue("CM") || dt.Type.HasEnumValue("XX") {
		t.Errorf("DocType enum %v", dt.Type.Enum)
	}
	j := c.Journals["GLTran"]
	if j == nil || j.Header != "Batch" || j.Link != "BatNbr" || j.Debit != "DrAmt" || j.Credit != "CrAmt" || j.Account != "Acct" || j.LineNumber != "LineNbr" {
		t.Errorf("journal %+v", j)
	}
	for name, a := range Anchors {
		if c.Entities[name].Anchor != a {
			t.Errorf("%s anchor %q", name, c.Entities[name].Anchor)
		}
	}
	if c.Entities["Customer"].Anchor != "" {
		t.Error("Customer has an anchor; its key is the flow's")
	}
}

func TestTables(t *testing.T) {
	for _, tb := range Tables() {
		if tb == nil || len(tb.Columns) == 0 || len(tb.Key) == 0 {
			t.Fatalf("table %v", tb)
		}
		for _, c := range tb.Columns {
			if c.Type == "Text" && c.Size == 0 {
				t.Errorf("%s.%s: text without size", tb.Name, c.Name)
			}
		}
	}
	if g, ok := TableOf("GLSetup"); !ok || len(g.Key) != 1 || g.Key[0] != "SetupId" {
		t.Errorf("GLSetup %v", g)
	}
}
