package ax2012

import (
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

func TestConnectorBuilds(t *testing.T) {
	c, err := build()
	if err != nil {
		t.Fatal(err)
	}
	j := c.Journals["LedgerJournalTrans"]
	lines, header := c.Entities[j.Lines], c.Entities[j.Header]
	for _, f := range []string{j.Link, j.Account, j.AccountType, j.Debit, j.Credit, j.LineNumber, "CurrencyCode"} {
		if _, ok := lines.Field(f); !ok {
			t.Errorf("journal line field %s missing", f)
		}
	}
	if _, ok := header.Field(j.HeaderLink); !ok || header.Anchor != "Name" {
		t.Errorf("journal header: link %s, anchor %q", j.HeaderLink, header.Anchor)
	}
	for name, tb := range Tables() {
		if _, ok := tb.Field(tb.Key); !ok {
			t.Errorf("%s: key %s is not a field", name, tb.Key)
		}
		if tb.Anchor != "" {
			if f, ok := tb.Field(tb.Anchor); !ok || f.MaxLength == 0 || f.Type.Kind != schema.String {
				t.Errorf("%s: anchor %s must be a string field with a length", name, tb.Anchor)
			}
		}
		if tb.Parent != "" {
			if _, ok := tb.Field(tb.Link); !ok || Tables()[tb.Parent] == nil {
				t.Errorf("%s: link %s or parent %s missing", name, tb.Link, tb.Parent)
			}
		}
		seen := map[string]bool{}
		last := ""
		for _, f := range tb.Fields {
			p := f.ElementPath()
			if len(p) == 2 {
				if _, ok := tb.Wrappers[p[0]]; !ok {
					t.Errorf("%s.%s: wrapper %s undeclared", name, f.Name, p[0])
				}
				if seen[p[0]] && last != p[0] {
					t.Errorf("%s.%s: fields of wrapper %s must be adjacent", name, f.Name, p[0])
				}
				seen[p[0]] = true
			}
			last = ""
			if len(p) == 2 {
				last = p[0]
			}
		}
	}
}
