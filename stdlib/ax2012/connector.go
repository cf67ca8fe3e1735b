package ax2012

import (
	"sync"

	"github.com/flowhq/flow/stdlib/schema"
)

// Name is the connector's import path.
const Name = "ax2012"

// GeneralJournal is how the general journal posts: one LedgerGeneralJournal
// document holds the header and its lines, and AX assigns the JournalNum;
// each line carries its account (LedgerDimension, typed by AccountType), a
// debit or a credit in the line's currency and a LineNum.
var GeneralJournal = schema.Journal{
	Lines: "LedgerJournalTrans", Header: "LedgerJournalTable", Link: "JournalNum", HeaderLink: "JournalNum",
	Account: "LedgerDimension", AccountType: "AccountType", Debit: "AmountCurDebit", Credit: "AmountCurCredit", LineNumber: "LineNum",
}

// Connector returns the connector schema; built once, immutable.
func Connector() *schema.Connector { return connector() }

var connector = sync.OnceValue(func() *schema.Connector {
	c, err := build()
	if err != nil {
		panic("ax2012: the built-in tables do not build: " + err.Error()) // guarded by tests
	}
	return c
})

func build() (*schema.Connector, error) {
	c := &schema.Connector{
		Name:     Name,
		Kind:     schema.ERP,
		Doc:      "Dynamics AX 2012 (R2/R3) through its AIF document services over SOAP: customers, sales orders and general journals.",
		Objects:  map[string]*schema.Object{},
		Entities: map[string]*schema.Object{},
		Config:   configFields(),
		Journals: map[string]*schema.Journal{},
	}
	for i := range tables {
		t := &tables[i]
		fields := make([]*schema.Field, len(t.Fields))
		for j, f := range t.Fields {
			fields[j] = &schema.Field{Name: f.Name, Type: f.Type, Doc: f.Doc, Required: f.Required, MaxLength: f.MaxLength}
		}
		keys := []string{t.Key}
		if t.Parent != "" {
			keys = []string{t.Link, t.Key}
		}
		o, err := schema.NewObject(Name+"."+t.Name, t.Doc, fields, keys)
		if err != nil {
			return nil, err
		}
		o.Anchor = t.Anchor
		c.Objects[o.Name] = o
		c.Entities[t.Name] = o
	}
	j := GeneralJournal
	c.Journals[j.Lines] = &j
	return c, c.Validate()
}

// configFields is what an `import "ax2012"` may configure. None is required
// by the schema: the runtime reports missing connection settings when it
// starts.
func configFields() []*schema.Field {
	return []*schema.Field{
		{Name: "company", Type: schema.StringType, MaxLength: 4,
			Doc: `The company (dataAreaId, e.g. "dat") sent in every call's CallContext; AX uses the user's default company when unset.`},
		{Name: "url", Type: schema.StringType,
			Doc: "Base URL of the AIF HTTP adapter, e.g. http://aos/MicrosoftDynamicsAXAif60; each service is at <url>/<port>/xppservice.svc."},
		{Name: "port", Type: schema.StringType,
			Doc: "Name of the enhanced inbound port that exposes the three services; the runtime's settings may name one port per service instead."},
		{Name: "logon_as_user", Type: schema.StringType,
			Doc: `The AX user the calls run as (domain\user), sent as CallContext LogonAsUser; the calling user when unset.`},
		{Name: "language", Type: schema.StringType,
			Doc: `Language of AX's messages (CallContext Language), "en-us" when unset.`},
		{Name: "username", Type: schema.StringType,
			Doc: "Name of the flow secret holding the Windows user the HTTP adapter authenticates (Basic over TLS)."},
		{Name: "password", Type: schema.StringType,
			Doc: "Name of the flow secret holding that user's password (never the password itself)."},
	}
}
