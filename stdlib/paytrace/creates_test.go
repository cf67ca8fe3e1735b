package paytrace

import (
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

// Flows create sales against a stored customer profile, with typed
// parameters; a create binds paytrace.Sale.
func TestCreatables(t *testing.T) {
	c := Connector()
	if got := c.EntityNames(); len(got) != 1 || got[0] != "Sale" {
		t.Fatalf("entities %v, want Sale", got)
	}
	o := c.Entities["Sale"]
	if o == nil || c.Objects[o.Name] != o || o.Name != "paytrace.SaleCreateParams" {
		t.Fatalf("params object %v", o)
	}
	var required []string
	for _, f := range o.Fields {
		if f.Required {
			required = append(required, f.Name)
		}
		if f.Doc == "" {
			t.Errorf("%s.%s has no doc", o.Name, f.Name)
		}
	}
	if strings.Join(required, ",") != "customer_id,amount,invoice_id" {
		t.Errorf("required %v, want customer_id, amount and invoice_id (a sale in doubt is found by it)", required)
	}
	for name, kind := range map[string]schema.Kind{"customer_id": schema.String, "amount": schema.Decimal, "invoice_id": schema.String,
		"description": schema.String, "customer_reference_id": schema.String, "email": schema.String} {
		if f, ok := o.Field(name); !ok || f.Type.Kind != kind {
			t.Errorf("%s.%s: %+v, want %v", o.Name, name, f, kind)
		}
	}
	for name, max := range map[string]int{"customer_id": 50, "invoice_id": 50, "customer_reference_id": 17} {
		if f, _ := o.Field(name); f.MaxLength != max {
			t.Errorf("%s.%s: MaxLength %d, want %d", o.Name, name, f.MaxLength, max)
		}
	}
	sale := c.Objects["paytrace.Sale"]
	if sale == nil {
		t.Fatal("no paytrace.Sale for a create to bind")
	}
	for name, kind := range map[string]schema.Kind{"approved": schema.Bool, "transaction_id": schema.String, "response_code": schema.Int,
		"status_message": schema.String, "approval_code": schema.String, "approval_message": schema.String, "avs_response": schema.String,
		"csc_response": schema.String, "masked_card_number": schema.String, "amount": schema.Decimal, "invoice_id": schema.String,
		"customer_id": schema.String} {
		if f, ok := sale.Field(name); !ok || f.Type.Kind != kind {
			t.Errorf("paytrace.Sale.%s: %+v, want %v", name, f, kind)
		}
	}
	if len(sale.Fields) != 12 {
		t.Errorf("paytrace.Sale has %d fields, want 12", len(sale.Fields))
	}
}
