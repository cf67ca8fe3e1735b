// Package plan is the execution plan the runtime runs: what the compiler
// proved about a package, lowered to plain data.
//
// A Plan is immutable once built, safe for concurrent use, serializable to
// JSON, and identified by Version, a hash of its content: two compilations of
// the same flows with the same params give the same version, and any change
// that alters what the runtime does gives a new one.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Plan is one compiled package.
type Plan struct {
	Version    string      `json:"version"` // content hash, "" while building
	Package    string      `json:"package"`
	Env        string      `json:"env,omitempty"`
	Connectors []Connector `json:"connectors"`
	Params     []Value     `json:"params,omitempty"`
	Secrets    []string    `json:"secrets,omitempty"`
	Tables     []Value     `json:"tables,omitempty"`
	// Aggregates are the package's aggregate declarations: the records
	// flowd's store keeps per key for the flows to update and read.
	Aggregates []AggregateDecl `json:"aggregates,omitempty"`
	Flows      []*Flow         `json:"flows"`
}

// AggregateDecl is a declared aggregate: its key type and typed fields. A
// stored entry is a JSON object of its fields, decimals as strings (to stay
// exact) and timestamps in RFC 3339; a field never set reads as its type's
// zero value.
type AggregateDecl struct {
	Name   string `json:"name"`
	Key    string `json:"key"`    // the key's type: string | int
	Fields []Var  `json:"fields"` // in declaration order
}

// Aggregate returns the named aggregate declaration, or nil.
func (p *Plan) Aggregate(name string) *AggregateDecl {
	for i := range p.Aggregates {
		if p.Aggregates[i].Name == name {
			return &p.Aggregates[i]
		}
	}
	return nil
}

// Connector is an import: the connector and its constant settings. Settings
// that name a secret hold "secret:NAME"; the runtime resolves them.
type Connector struct {
	Alias    string            `json:"alias"`
	Name     string            `json:"name"`
	Kind     string            `json:"kind"` // gateway | erp
	Settings map[string]string `json:"settings,omitempty"`
}

// Value is a named constant: a param's value for the env, or a table.
type Value struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value any    `json:"value"` // decimals are strings, to stay exact
}

// Var is a variable an expression of a flow may read, with its type.
type Var struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Expr is a checked CEL expression.
type Expr struct {
	Text string `json:"text"`
	Type string `json:"type"`
	At   string `json:"at"` // file:line:col, for errors at run time
}

// Flow is one flow or ledger.
type Flow struct {
	Name    string  `json:"name"`
	Kind    string  `json:"kind"` // flow | ledger
	At      string  `json:"at"`
	Trigger Trigger `json:"trigger"`
	OrderBy *Expr   `json:"order_by,omitempty"`
	Vars    []Var   `json:"vars"` // every variable of the flow, in scope order
	Steps   []*Step `json:"steps"`
	Ledger  *Ledger `json:"ledger,omitempty"`
	// Signals says the flow reads the signals variable, so the runtime
	// computes it for the event.
	Signals bool `json:"signals,omitempty"`
}

// Trigger is what starts a flow.
type Trigger struct {
	Connector string `json:"connector"`          // connector alias, or "schedule"
	Event     string `json:"event,omitempty"`    // "charge.succeeded"
	Object    string `json:"object,omitempty"`   // subject type, "stripe.Charge"
	Schedule  string `json:"schedule,omitempty"` // cron spec
	Var       string `json:"var"`                // the event variable
	Type      string `json:"type"`               // its type, "stripe.ChargeEvent"
}

// Step kinds.
const (
	StepLet    = "let"
	StepWhen   = "when"
	StepReview = "review"
	StepLookup = "lookup"
	StepWrite  = "write"
	StepFor    = "for"
	// StepIf runs Body when Expr holds, else Else.
	StepIf = "if"
	// StepAggregate updates the entry Index of Aggregate once per Key: the
	// Fields' expressions read the entry's current fields by name.
	StepAggregate = "aggregate"
	// StepRead reads the entry Index of Aggregate into Name.
	StepRead = "read"
)

// Step is one statement of a flow, in order.
type Step struct {
	Kind string `json:"kind"`
	At   string `json:"at"`
	Name string `json:"name,omitempty"` // the name bound (let, lookup, write)
	Expr *Expr  `json:"expr,omitempty"` // let value, when or review condition
	// Reason is a review's reason, shown to the person who decides.
	Reason *Expr `json:"reason,omitempty"`

	Connector string  `json:"connector,omitempty"` // lookup and write: ERP alias
	Entity    string  `json:"entity,omitempty"`
	Where     []Field `json:"where,omitempty"` // lookup: field == value, all must hold
	Miss      *Miss   `json:"miss,omitempty"`
	Op        string  `json:"op,omitempty"` // write: create | upsert | update
	Key       *Expr   `json:"key,omitempty"`
	Fields    []Field `json:"fields,omitempty"`

	// Aggregate and read: the aggregate and the key of its entry.
	Aggregate string `json:"aggregate,omitempty"`
	Index     *Expr  `json:"index,omitempty"`

	// For: Expr is the list, Name the item variable, and Body the steps
	// run once per item (a when or a lookup's `else skip` in it skips
	// that item only). A for over an ERP query has no Expr: it reads the
	// records of Connector's Entity matching Where.
	// A for over an aggregate's changes has Aggregate and Since: it reads
	// the entries updated at or after Since.
	// If: Body runs when Expr holds, Else when it does not.
	Body  []*Step `json:"body,omitempty"`
	Else  []*Step `json:"else,omitempty"`
	Since *Expr   `json:"since,omitempty"`
}

// Field is one assignment to an ERP field.
type Field struct {
	Name  string `json:"name"`
	Value *Expr  `json:"value"`
	// Op compares the field with the value in a query's where: "" (equal),
	// "!=", "<", "<=", ">" or ">=".
	Op string `json:"op,omitempty"`
}

// Miss is a lookup's policy when nothing matches.
type Miss struct {
	Policy string  `json:"policy"`         // create | skip | fail | wait
	Wait   string  `json:"wait,omitempty"` // wait: how long, e.g. "72h"
	Fields []Field `json:"fields,omitempty"`
}

// Ledger is the aggregation of a ledger flow.
type Ledger struct {
	Source     Source      `json:"source"`
	GroupBy    []GroupKey  `json:"group_by"`
	Aggregates []Aggregate `json:"aggregates"`
	Journal    Journal     `json:"journal"`
}

// Source is a gateway list the ledger iterates.
type Source struct {
	Connector string  `json:"connector"`
	List      string  `json:"list"`
	Var       string  `json:"var"`
	Type      string  `json:"type"`
	Args      []Field `json:"args"`
}

// GroupKey is one grouping expression over the item variable.
type GroupKey struct {
	Name string `json:"name"`
	Expr *Expr  `json:"expr"`
}

// Aggregate is an aggregate call in a posting, computed per group; postings
// read its result as the variable Name.
type Aggregate struct {
	Name string `json:"name"` // "_agg0"
	Func string `json:"func"` // sum | count
	Type string `json:"type"` // the result type
	Expr *Expr  `json:"expr"` // per item
}

// Journal is where a ledger posts.
type Journal struct {
	Connector    string    `json:"connector"`
	Entity       string    `json:"entity"`        // line entity
	HeaderEntity string    `json:"header_entity"` // header entity, "" when the ERP has none
	Key          *Expr     `json:"key"`
	Header       []Field   `json:"header,omitempty"`
	Lines        []Field   `json:"lines,omitempty"`
	Postings     []Posting `json:"postings"`
}

// Posting is a debit or credit rule; Amount is nil for the balancing posting.
type Posting struct {
	Side    string `json:"side"` // debit | credit
	Account *Expr  `json:"account"`
	Amount  *Expr  `json:"amount,omitempty"` // rewritten to read aggregates
}

// Seal computes Version from the content and returns the plan.
func (p *Plan) Seal() (*Plan, error) {
	p.Version = ""
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	p.Version = hex.EncodeToString(sum[:])[:16]
	return p, nil
}

// Flow returns the named flow.
func (p *Plan) Flow(name string) *Flow {
	for _, f := range p.Flows {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// WritesTo reports whether a flow writes to the connector imported as
// alias: the runtime binds a gateway's writer only then.
func (p *Plan) WritesTo(alias string) bool {
	for _, f := range p.Flows {
		if writesTo(f.Steps, alias) {
			return true
		}
	}
	return false
}

func writesTo(steps []*Step, alias string) bool {
	for _, s := range steps {
		if s.Kind == StepWrite && s.Connector == alias || writesTo(s.Body, alias) || writesTo(s.Else, alias) {
			return true
		}
	}
	return false
}
