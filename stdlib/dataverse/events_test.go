package dataverse

import (
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

func TestEvents(t *testing.T) {
	s := DefaultSchema()
	c := s.Connector
	if got := s.LogicalName("accounts"); got != "account" {
		t.Errorf("LogicalName(accounts) = %q", got)
	}
	if got := s.EntitySet("new_stripepayment"); got != "new_stripepayments" {
		t.Errorf("EntitySet(new_stripepayment) = %q", got)
	}
	for _, set := range c.EntityNames() {
		logical := s.LogicalName(set)
		for _, m := range Messages {
			ev, ok := c.Events[logical+"."+m]
			if !ok {
				t.Errorf("no event %s.%s (have %v)", logical, m, c.EventNames())
				continue
			}
			if ev.Object != "dataverse."+set || ev.Envelope != EventObject(logical) {
				t.Errorf("%s: object %s envelope %s", ev.Name, ev.Object, ev.Envelope)
			}
		}
	}
	if len(c.Events) != 3*len(c.Entities) {
		t.Errorf("%d events for %d tables", len(c.Events), len(c.Entities))
	}
	env, ok := c.Object("dataverse.accountEvent")
	if !ok {
		t.Fatal("no dataverse.accountEvent")
	}
	for name, want := range map[string]string{
		"target": "dataverse.accounts", "pre": "dataverse.accounts", "post": "dataverse.accounts",
	} {
		f, ok := env.Field(name)
		if !ok || f.Type.Kind != schema.Struct || f.Type.Object != want {
			t.Errorf("accountEvent.%s = %+v", name, f)
		}
	}
	for name, kind := range map[string]schema.Kind{
		"PrimaryEntityId": schema.String, "OperationCreatedOn": schema.Timestamp, "Depth": schema.Int, "MessageSizeExceeded": schema.Bool,
	} {
		if f, ok := env.Field(name); !ok || f.Type.Kind != kind {
			t.Errorf("accountEvent.%s = %+v", name, f)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// A tenant table gets events too; an object already named like an
// envelope keeps its meaning and the table has none.
func TestEventsOfTenantTables(t *testing.T) {
	doc := strings.Replace(string(defaultMetadata), `<EntitySet Name="pricelevels" EntityType="Microsoft.Dynamics.CRM.pricelevel"/>`,
		`<EntitySet Name="pricelevels" EntityType="Microsoft.Dynamics.CRM.pricelevel"/><EntitySet Name="pricelevelEvent" EntityType="Microsoft.Dynamics.CRM.pricelevel"/>`, 1)
	s, err := LoadCSDL([]byte(doc), "tenant")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Connector.Events["pricelevel.Create"]; ok {
		t.Error("the table whose envelope name is an entity set's object has events")
	}
	if _, ok := s.Connector.Events["account.Update"]; !ok {
		t.Error("account lost its events")
	}
}
