package dynsl

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"github.com/flowhq/flow/stdlib/schema"
)

// Name is the connector's import path.
const Name = "dynsl"

//go:embed sl_tables.json
var tablesJSON []byte

// Column is one column of an SL table, typed as the reference types it.
type Column struct {
	Name string
	Type string // "Text", "Integer", "Decimal", "DateTime" (Date is read as DateTime)
	Size int    // characters of a Text column; 0 otherwise
}

// Table is one SL table: its columns in reference order and its key.
type Table struct {
	Name    string
	Source  string // where the reference took it from
	Key     []string
	Columns []Column
}

// EntityNames are the tables flows write, in the order the schema lists them.
var EntityNames = []string{"Customer", "ARDoc", "SOHeader", "SOLine", "Batch", "GLTran"}

// SetupTables are the tables the driver reads and numbers from; flows do not
// see them.
var SetupTables = []string{"ARSetup", "GLSetup", "Account"}

// Anchors names, per table whose key SL (here: the driver) numbers, the
// column where the runtime stores a write's idempotency key. SL has a free
// "user field" set (User1..User8, User1 char(30)) on every table, reserved
// for site customizations and not read by SL's own business logic; User1 is
// the one text field of the same length on all of them. The reference
// fields are taken: ARDoc.RefNbr and Batch.BatNbr are SL's own document and
// batch numbers (10 characters), and CustOrdNbr is what a flow fills with
// the customer's order number. A site that uses User1 itself overrides the
// anchor in the driver's Config.
var Anchors = map[string]string{
	"ARDoc":    "User1",
	"SOHeader": "User1",
	"SOLine":   "User1",
	"Batch":    "User1",
	"GLTran":   "User1",
}

// Journal is how SL posts a general journal: a Batch (Module GL) numbered
// from GLSetup.LastBatNbr, then GLTran lines carrying its BatNbr, an account
// (Acct; the subaccount Sub is a line field the flow sets), a debit DrAmt or
// a credit CrAmt, and LineNbr 1, 2, ...
var Journal = schema.Journal{
	Lines: "GLTran", Header: "Batch", Link: "BatNbr", HeaderLink: "BatNbr",
	Account: "Acct", Debit: "DrAmt", Credit: "CrAmt", LineNumber: "LineNbr",
}

// DocTypes are the ARDoc.DocType codes SL uses (labels of
// SLCustomerMigrator.Codeunit.al in the reference).
var DocTypes = map[string]string{
	"IN": "invoice",
	"DM": "debit memo",
	"CM": "credit memo",
	"PA": "payment",
	"PP": "payment prepayment",
	"FI": "finance charge",
	"SB": "small balance",
	"SC": "small credit",
	"CS": "cash sale",
	"NC": "NSF charge",
	"NS": "NSF reversal",
}

// required lists, per entity, the fields a create must set: what SL's entry
// screens require and the driver cannot default.
var required = map[string][]string{
	"Customer": {"CustId", "Name"},
	"ARDoc":    {"CustId", "DocType", "DocDate", "OrigDocAmt"},
	"SOHeader": {"OrdNbr", "CustID"},
	"SOLine":   {"OrdNbr", "InvtID", "QtyOrd", "SlsPrice"},
	"GLTran":   {"Acct", "Sub"},
}

// docs are the field docs flows see on hover; the reference has none.
var docs = map[string]string{
	"CustId":      "Customer ID, char(15). SL keeps IDs upper case by convention.",
	"CustID":      "Customer ID, char(15); the customer must exist.",
	"CpnyID":      "Company ID; the driver fills it from the import's company setting.",
	"DocType":     "IN invoice, DM debit memo, CM credit memo, PA payment, PP prepayment, FI finance charge, SB small balance, SC small credit, CS cash sale, NC NSF charge, NS NSF reversal.",
	"RefNbr":      "Document reference number, char(10); numbered from ARSetup when the flow leaves it out.",
	"BatNbr":      "Batch number, char(10); numbered from ARSetup/GLSetup LastBatNbr.",
	"PerPost":     "Period to post, YYYYMM; the driver derives it from the document date when unset.",
	"PerEnt":      "Period entered: the module's current period (ARSetup/GLSetup PerNbr).",
	"CuryId":      "Transaction currency; the base currency (GLSetup.BaseCuryId) when unset.",
	"CuryID":      "Transaction currency; the base currency (GLSetup.BaseCuryId) when unset.",
	"CuryRate":    "Exchange rate to the base currency; 1 for the base currency; required for another currency.",
	"CuryMultDiv": "M: base = amount * CuryRate; D: base = amount / CuryRate.",
	"OrigDocAmt":  "Document amount, positive, in the document currency (CuryId); the driver fills the Cury* twin and converts.",
	"CustOrdNbr":  "Customer's order number, char(25): free for the flow (e.g. the web shop's order number; a Stripe charge id, 27 characters, does not fit).",
	"User1":       "SL user field; on tables whose key SL numbers, the runtime keeps the idempotency key here.",
	"DrAmt":       "Debit amount in the transaction currency.",
	"CrAmt":       "Credit amount in the transaction currency.",
	"Acct":        "GL account; must exist in Account and be active.",
	"Sub":         "GL subaccount.",
	"CtrlTot":     "Batch control total: the sum of the debits (GL) or documents (AR).",
	"Status":      "Record status. Batch: B balanced (ready to release), H hold; SOHeader: O open.",
	"Rlsed":       "1 once SL released the document or batch; the driver writes 0 and leaves release to SL.",
}

var textType = regexp.MustCompile(`^Text\[(\d+)\]$`)

var tables = sync.OnceValue(func() map[string]*Table {
	var raw map[string]struct {
		Source string      `json:"source"`
		Keys   [][]string  `json:"keys"`
		Fields [][2]string `json:"fields"`
	}
	dec := json.NewDecoder(bytes.NewReader(tablesJSON))
	if err := dec.Decode(&raw); err != nil {
		panic("dynsl: embedded sl_tables.json: " + err.Error()) // guarded by tests
	}
	out := map[string]*Table{}
	for name, t := range raw {
		tb := &Table{Name: name, Source: t.Source}
		if len(t.Keys) > 0 {
			tb.Key = t.Keys[0]
		}
		for _, f := range t.Fields {
			c := Column{Name: f[0], Type: f[1]}
			if m := textType.FindStringSubmatch(f[1]); m != nil {
				c.Type = "Text"
				c.Size, _ = strconv.Atoi(m[1])
			} else if f[1] == "Date" {
				c.Type = "DateTime"
			}
			tb.Columns = append(tb.Columns, c)
		}
		out[name] = tb
	}
	return out
})

// Tables returns the SL tables the connector and its driver use: the
// entities, then the setup tables. The result is shared; do not modify it.
func Tables() []*Table {
	var out []*Table
	for _, n := range append(append([]string{}, EntityNames...), SetupTables...) {
		out = append(out, tables()[n])
	}
	return out
}

// TableOf returns one SL table by name.
func TableOf(name string) (*Table, bool) {
	t, ok := tables()[name]
	return t, ok
}

// Connector returns the SL connector; built once, immutable.
func Connector() *schema.Connector { return connector() }

var connector = sync.OnceValue(func() *schema.Connector {
	c, err := build()
	if err != nil {
		panic("dynsl: " + err.Error()) // guarded by tests
	}
	return c
})

func build() (*schema.Connector, error) {
	c := &schema.Connector{
		Name:     Name,
		Kind:     schema.ERP,
		Doc:      "Microsoft Dynamics SL, written through its SQL database with the rules of SL's entry screens.",
		Objects:  map[string]*schema.Object{},
		Entities: map[string]*schema.Object{},
		Journals: map[string]*schema.Journal{},
		Config:   configFields(),
	}
	docTypes := make([]string, 0, len(DocTypes))
	for k := range DocTypes {
		docTypes = append(docTypes, k)
	}
	for _, name := range EntityNames {
		t, ok := tables()[name]
		if !ok {
			return nil, fmt.Errorf("table %s missing from sl_tables.json", name)
		}
		req := map[string]bool{}
		for _, f := range required[name] {
			req[f] = true
		}
		var fields []*schema.Field
		for _, col := range t.Columns {
			f := &schema.Field{Name: col.Name, Doc: docs[col.Name], Required: req[col.Name]}
			switch col.Type {
			case "Text":
				f.Type, f.MaxLength = schema.StringType, col.Size
			case "Integer":
				f.Type = schema.IntType
			case "Decimal":
				f.Type = schema.DecimalType
			case "DateTime":
				f.Type = schema.TimestampType
			default:
				return nil, fmt.Errorf("%s.%s: unknown type %q", name, col.Name, col.Type)
			}
			switch {
			case name == "ARDoc" && col.Name == "DocType":
				f.Type = schema.EnumOf(docTypes...)
			case col.Name == "CuryMultDiv":
				f.Type = schema.EnumOf("M", "D")
			}
			fields = append(fields, f)
		}
		for f := range req {
			if _, ok := fieldIndex(t, f); !ok {
				return nil, fmt.Errorf("%s: required field %s is not a column", name, f)
			}
		}
		o, err := schema.NewObject(Name+"."+name, "SL table "+name+" ("+t.Source+")", fields, t.Key)
		if err != nil {
			return nil, err
		}
		if a, ok := Anchors[name]; ok {
			if _, ok := o.Field(a); !ok {
				return nil, fmt.Errorf("%s: anchor %s is not a column", name, a)
			}
			o.Anchor = a
		}
		c.Objects[o.Name] = o
		c.Entities[name] = o
	}
	j := Journal
	c.Journals[j.Lines] = &j
	return c, c.Validate()
}

func fieldIndex(t *Table, name string) (int, bool) {
	for i, c := range t.Columns {
		if c.Name == name {
			return i, true
		}
	}
	return 0, false
}

// configFields is what an `import "dynsl"` may configure. None is required
// by the schema: the runtime reports missing connection settings at start.
func configFields() []*schema.Field {
	return []*schema.Field{
		{Name: "company", Type: schema.StringType, MaxLength: 10,
			Doc: "The SL company (CpnyID) written on documents and batches and looked up; GLSetup.CpnyId when unset."},
		{Name: "dsn", Type: schema.StringType,
			Doc: "Name of the flow secret that holds the SQL Server connection string of the SL application database (never the DSN itself)."},
	}
}
