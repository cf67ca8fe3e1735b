package bc

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/flowhq/flow/stdlib/schema"
)

//go:embed resources.json
var resourcesJSON []byte

// Name is the connector's import path.
const Name = "bc"

// resources is the shape of resources.json.
type resources struct {
	Resources map[string]struct {
		Source       string   `json:"source"`
		BoundActions []string `json:"boundActions"`
		Properties   []struct {
			Name        string `json:"name"`
			Type        string `json:"type"`
			Description string `json:"description"`
			MaxLength   int    `json:"maxLength"`
		} `json:"properties"`
	} `json:"resources"`
}

// enums are the members of the NAV enum types the resources use, as the
// resource pages list them. (The invoice line type page writes
// `"Resource" Value"`: two members, Resource and Value.)
var enums = map[string][]string{
	"NAV.contactType":                   {"Company", "Person"},
	"NAV.customerBlocked":               {" ", "Ship", "Invoice", "All"},
	"NAV.salesOrderEntityBufferStatus":  {"Draft", "In Review", "Open"},
	"NAV.invoiceEntityAggregateStatus":  {" ", "Draft", "In Review", "Open", "Paid", "Canceled", "Corrective"},
	"NAV.salesCrMemoEntityBufferStatus": {"Draft", "In Review", "Open", "Canceled", "Corrective", "Paid"},
	"NAV.invoiceLineAggLineType":        {"Comment", "Account", "Item", "Resource", "Value", "Fixed Asset", "Charge"},
	"NAV.genJournalAccountType":         {"G/L Account", "Customer", "Vendor", "Bank Account", "Fixed Asset", "IC Partner", "Employee"},
}

// Anchors names, per entity set, the field where the runtime keeps a
// write's idempotency key (Code[35] externalDocumentNumber): BC assigns ids
// and document numbers, so the key in the record is how a retry after a
// crash finds what an earlier attempt wrote.
var Anchors = map[string]string{
	"salesOrders":      "externalDocumentNumber",
	"salesInvoices":    "externalDocumentNumber",
	"salesCreditMemos": "externalDocumentNumber",
	"customerPayments": "externalDocumentNumber",
	"journalLines":     "externalDocumentNumber",
}

// Identities names, per entity set, the field that identifies a record as
// well as its id when a write sets it: a customer's number, a journal's
// code. Find settles a write that sets it by it.
var Identities = map[string]string{
	"customers":               "number",
	"salesOrders":             "number",
	"salesInvoices":           "number",
	"salesCreditMemos":        "number",
	"customerPaymentJournals": "code",
	"journals":                "code",
}

// Parents names the parent of the entity sets that live under one, and
// the field of the child that holds the parent's id: journalLines are
// posted to journals({journalId})/journalLines.
var Parents = map[string]Parent{
	"journalLines":         {Set: "journals", Field: "journalId"},
	"customerPayments":     {Set: "customerPaymentJournals", Field: "journalId"},
	"salesOrderLines":      {Set: "salesOrders", Field: "documentId"},
	"salesInvoiceLines":    {Set: "salesInvoices", Field: "documentId"},
	"salesCreditMemoLines": {Set: "salesCreditMemos", Field: "documentId"},
}

// Parent is where a child entity set lives.
type Parent struct {
	Set   string // the parent entity set, "journals"
	Field string // the child's field holding the parent's id, "journalId"
}

// ReadOnlySets are entity sets the API only reads.
var ReadOnlySets = map[string]bool{"generalLedgerEntries": true}

// Journals is how Business Central posts a general journal through the
// API: a journals record (a batch; its code is Code[10]) holds
// journalLines, each on an account (accountNumber, typed "G/L Account")
// with one signed amount, numbered by lineNumber; Microsoft.NAV.post on
// the journal posts them to generalLedgerEntries and deletes the lines.
var Journals = schema.Journal{
	Lines: "journalLines", Header: "journals", Link: "journalId", HeaderLink: "id",
	Account: "accountNumber", AccountType: "accountType", Amount: "amount", LineNumber: "lineNumber",
	LedgerType: "G/L Account",
}

// Default returns the built-in connector; built once, immutable.
func Default() *schema.Connector { return builtin().c }

// built is the connector and, per entity set, the fields BC computes.
type built struct {
	c        *schema.Connector
	readOnly map[string]map[string]bool
	wire     map[string]map[string]string
}

var builtin = sync.OnceValue(func() built {
	b, err := build(resourcesJSON)
	if err != nil {
		panic("bc: embedded resources.json does not load: " + err.Error()) // guarded by tests
	}
	return b
})

// ReadOnly reports whether a field of an entity set is one BC computes
// (the documentation says Read-Only or Non-editable): a write must not set
// it.
func ReadOnly(set, field string) bool {
	return builtin().readOnly[set][field]
}

// WireType returns the resource table's type of a field ("GUID", "date",
// "datetime", "decimal", "NAV.genJournalAccountType", ...), "" when the
// entity set or field is unknown. The schema maps GUIDs and strings alike,
// and dates and instants alike; the wire tells them apart: a GUID literal
// is unquoted in a $filter, a date is written 2024-01-31.
func WireType(set, field string) string {
	return builtin().wire[set][field]
}

func build(data []byte) (built, error) {
	var r resources
	if err := json.Unmarshal(data, &r); err != nil {
		return built{}, fmt.Errorf("resources: %w", err)
	}
	readOnly := map[string]map[string]bool{}
	wire := map[string]map[string]string{}
	c := &schema.Connector{
		Name:     Name,
		Kind:     schema.ERP,
		Doc:      "Dynamics 365 Business Central, API v2.0 (/api/v2.0/companies({id})/...).",
		Objects:  map[string]*schema.Object{},
		Events:   map[string]*schema.Event{},
		Lists:    map[string]*schema.ListSource{},
		Entities: map[string]*schema.Object{},
		Config:   configFields(),
		Journals: map[string]*schema.Journal{},
	}
	sets := make([]string, 0, len(r.Resources))
	for set := range r.Resources {
		sets = append(sets, set)
	}
	sort.Strings(sets)
	for _, set := range sets {
		res := r.Resources[set]
		ro, wt := map[string]bool{}, map[string]string{}
		var fields []*schema.Field
		for _, p := range res.Properties {
			t, err := fieldType(p.Type)
			if err != nil {
				return built{}, fmt.Errorf("%s.%s: %w", set, p.Name, err)
			}
			wt[p.Name] = p.Type
			doc := strings.TrimSpace(p.Description)
			if p.Name == "id" || strings.Contains(strings.ToLower(doc), "read-only") || strings.Contains(strings.ToLower(doc), "non-editable") || ReadOnlySets[set] {
				ro[p.Name] = true
			}
			max := p.MaxLength
			if p.Type == "GUID" {
				max = 36
			}
			fields = append(fields, &schema.Field{Name: p.Name, Type: t, Doc: doc, MaxLength: max})
		}
		doc := "Business Central API v2.0 resource " + set + "."
		if len(res.BoundActions) > 0 {
			doc += " Bound actions: " + strings.Join(res.BoundActions, ", ") + "."
		}
		if ReadOnlySets[set] {
			doc += " Read-only."
		}
		o, err := schema.NewObject(Name+"."+set, doc, fields, []string{"id"})
		if err != nil {
			return built{}, err
		}
		if a, ok := Anchors[set]; ok {
			if _, has := o.Field(a); !has {
				return built{}, fmt.Errorf("%s: anchor field %s is not a field", set, a)
			}
			o.Anchor = a
		}
		c.Objects[o.Name] = o
		c.Entities[set] = o
		readOnly[set], wire[set] = ro, wt
	}
	j := Journals
	for _, set := range []string{j.Lines, j.Header} {
		if c.Entities[set] == nil {
			return built{}, fmt.Errorf("journal entity set %s is missing", set)
		}
	}
	c.Journals[j.Lines] = &j
	if err := addEvents(c); err != nil {
		return built{}, err
	}
	if err := c.Validate(); err != nil {
		return built{}, err
	}
	return built{c: c, readOnly: readOnly, wire: wire}, nil
}

// fieldType maps a resource table's type to a schema type.
func fieldType(t string) (*schema.Type, error) {
	switch t {
	case "GUID", "string":
		return schema.StringType, nil
	case "decimal":
		return schema.DecimalType, nil
	case "date", "datetime":
		return schema.TimestampType, nil
	case "integer", "int64":
		return schema.IntType, nil
	case "boolean":
		return schema.BoolType, nil
	}
	if members, ok := enums[t]; ok {
		return schema.EnumOf(members...), nil
	}
	return nil, fmt.Errorf("unknown type %q", t)
}

// configFields is what an `import "bc"` may configure. None is required by
// the schema: the runtime reports missing connection settings when it
// starts.
func configFields() []*schema.Field {
	return []*schema.Field{
		{Name: "company", Type: schema.StringType,
			Doc: `The company to write to, by name ("CRONUS USA, Inc.") or id (a GUID); the driver resolves it with GET /companies.`},
		{Name: "url", Type: schema.StringType,
			Doc: "API root without a trailing slash, e.g. https://api.businesscentral.dynamics.com/v2.0/<tenant>/Production/api/v2.0."},
		{Name: "tenant_id", Type: schema.StringType,
			Doc: "Microsoft Entra ID tenant (directory) id used to get tokens."},
		{Name: "client_id", Type: schema.StringType,
			Doc: "Application (client) id of the Entra app registered in Business Central (Microsoft Entra Applications page) with API.ReadWrite.All."},
		{Name: "client_secret", Type: schema.StringType,
			Doc: "Name of the flow secret that holds the client secret (never the secret itself)."},
	}
}
