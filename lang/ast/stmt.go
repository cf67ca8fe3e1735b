package ast

// Stmt is a statement of a flow or ledger body.
type Stmt interface {
	Node
	stmt()
}

// On is the trigger: `on stripe.charge.succeeded as ev`, or
// `on schedule "0 2 * * *" as tick`.
type On struct {
	Span
	Event    *Path      `parser:"\"on\" @@"`
	Schedule *StringLit `parser:"@@?"`
	Alias    *Ident     `parser:"( \"as\" @@ )?"`
}

// OrderBy declares the ordering key: events with equal keys run one at a time.
type OrderBy struct {
	Span
	Key *Expr `parser:"\"order\" \"by\" @@"`
}

// Let binds a name to a value: `let ch = ev.data.object`.
type Let struct {
	Span
	Name  *Ident `parser:"\"let\" @@ \"=\""`
	Value *Expr  `parser:"@@"`
}

// When is a guard: the event is skipped (not an error) when it is false.
type When struct {
	Span
	Cond *Expr `parser:"\"when\" @@"`
}

// Review holds the event for a person when Cond is true: it waits in the
// review queue with Reason until someone approves it (it then runs on past
// this statement) or rejects it (it ends there, written as rejected):
// `review when signals.flagged because signals.reason`.
type Review struct {
	Span
	Cond   *ReviewExpr `parser:"\"review\" \"when\" @@"`
	Reason *Expr       `parser:"\"because\" @@"`
}

// Lookup finds one ERP record by field equality, with a policy for a miss:
// `lookup cust = erp.CustomersV3 where CustomerAccount == x else create {...}`;
// or reads the entry of an aggregate (Index; no where, no miss policy):
// `lookup stats = customer_stats[ch.customer]`.
type Lookup struct {
	Span
	Name   *Ident  `parser:"\"lookup\" @@ \"=\""`
	Entity *Path   `parser:"@@"`
	Index  *Expr   `parser:"( \"[\" @@ \"]\""`
	Where  []*Cond `parser:"| \"where\" @@ ( \"and\" @@ )* )"`
	Miss   *Miss   `parser:"( \"else\" @@ )?"`
}

// Cond is one `Field == value` of a lookup or a query; a query's may
// also compare: `DueDate <= tick.time` (!=, <, <=, >, >=).
type Cond struct {
	Span
	Field *Ident    `parser:"@@"`
	Op    string    `parser:"@( \"==\" | \"!=\" | \"<=\" | \">=\" | \"<\" | \">\" )"`
	Value *CondExpr `parser:"@@"`
}

// Miss says what a lookup does when no record matches.
type Miss struct {
	Span
	Policy string `parser:"@( \"create\" | \"skip\" | \"fail\" | \"wait\" )"`
	Wait   string `parser:"( \"for\" @Duration )?"`
	Create *Block `parser:"@@?"`
}

// Write creates, upserts or updates one ERP record, once per key:
// `upsert order = erp.SalesOrderHeadersV2 key "stripe:" + ch.id { ... }`.
// With Index it updates the entry of an aggregate, once per key; its fields'
// expressions read the entry's current fields by name:
// `update customer_stats[ch.customer] key "agg:" + ev.id { payments: payments + 1 }`.
type Write struct {
	Span
	Op     string `parser:"@( \"create\" | \"upsert\" | \"update\" )"`
	Target *Path  `parser:"@@"`
	Bound  *Path  `parser:"( \"=\" @@ )?"`
	Index  *Expr  `parser:"( \"[\" @@ \"]\" )?"`
	Key    *Expr  `parser:"( \"key\" @@ )?"`
	Body   *Block `parser:"@@"`
}

// Entity returns the written entity: the path after "=" when the write binds a
// name, else the only path.
func (w *Write) Entity() *Path {
	if w.Bound != nil {
		return w.Bound
	}
	return w.Target
}

// Name returns the bound name, or nil when the write binds none. A bound name
// written as a dotted path is reported by the checker.
func (w *Write) Name() *Ident {
	if w.Bound == nil || w.Target == nil || len(w.Target.Parts) == 0 {
		return nil
	}
	return w.Target.Parts[0]
}

// For iterates. In a ledger it reads a gateway list source, named
// `connector.list(arg: value, ...)`:
// `for bt in stripe.balance_transactions(payout: po.id)`. In a flow it runs
// its body once per item of a list expression (Items), such as a list the
// event holds: `for line in inv.lines.data { create ... }`, or once per
// record of an ERP query, an entity with optional conditions (Where):
// `for open in erp.CustTransOpens where AccountNum == acct { ... }`.
type For struct {
	Span
	Var *Ident `parser:"\"for\" @@ \"in\""`
	// A list source is told from an expression by its shape: two names,
	// "(", then a named argument or ")".
	Source *Path    `parser:"( (?= Ident \".\" Ident \"(\" ( Ident \":\" | \")\" ) ) @@ \"(\""`
	Args   []*Arg   `parser:"  ( @@ \",\"? )* \")\""`
	Items  *ForExpr `parser:"| @@ )"`
	Where  []*Cond  `parser:"( \"where\" @@ ( \"and\" @@ )* )?"`
	Body   *Stmts   `parser:"@@?"`
}

// If runs Then when Cond holds and Else, when there is one, when it does
// not: `if sale.approved { create ... } else { create ... }`.
type If struct {
	Span
	Cond *Expr  `parser:"\"if\" @@"`
	Then *Stmts `parser:"@@"`
	Else *Stmts `parser:"( \"else\" @@ )?"`
}

// Stmts is the braced statements a flow's for runs per item.
type Stmts struct {
	Span
	Stmts []Stmt `parser:"\"{\" @@* \"}\""`
}

// Arg is a named argument of a list source.
type Arg struct {
	Span
	Name  *Ident `parser:"@@ \":\""`
	Value *Expr  `parser:"@@"`
}

// GroupBy groups the items of a ledger's list source:
// `group by bt.reporting_category as category, bt.currency as currency`.
type GroupBy struct {
	Span
	Keys []*GroupKey `parser:"\"group\" \"by\" @@ ( \",\" @@ )*"`
}

// GroupKey is one grouping expression and the name the postings see it by.
type GroupKey struct {
	Span
	Value *GroupExpr `parser:"@@"`
	Name  *Ident     `parser:"\"as\" @@"`
}

// Journal posts the groups of a ledger as one journal:
//
//	journal erp.LedgerJournalLines key "payout:" + po.id {
//	    header { JournalName: journal_name }
//	    CurrencyCode: upper(currency),
//	    debit account_for[category] amount money(sum(bt.net), currency)
//	    credit clearing_account
//	}
type Journal struct {
	Span
	Entity *Path         `parser:"\"journal\" @@"`
	Key    *Expr         `parser:"( \"key\" @@ )?"`
	Items  []JournalItem `parser:"\"{\" @@* \"}\""`
}

// JournalItem is an entry of a journal body: *Header, *Posting or *LineField.
type JournalItem interface {
	Node
	journalItem()
}

// Header sets the fields of the journal's header record.
type Header struct {
	Span
	Fields *Block `parser:"\"header\" @@"`
}

// LineField is a field every journal line gets: `CurrencyCode: upper(currency),`.
type LineField struct {
	Span
	Field *Field `parser:"@@ \",\"?"`
}

func (*Header) journalItem()    {}
func (*Posting) journalItem()   {}
func (*LineField) journalItem() {}

// Posting is a debit or credit rule. A posting without an amount takes the
// balance of the others.
type Posting struct {
	Span
	Side    string       `parser:"@( \"debit\" | \"credit\" )"`
	Account *PostingExpr `parser:"@@"`
	Amount  *Expr        `parser:"( \"amount\" @@ )?"`
}

func (*On) stmt()      {}
func (*OrderBy) stmt() {}
func (*Let) stmt()     {}
func (*When) stmt()    {}
func (*Review) stmt()  {}
func (*Lookup) stmt()  {}
func (*Write) stmt()   {}
func (*For) stmt()     {}
func (*If) stmt()      {}
func (*GroupBy) stmt() {}
func (*Journal) stmt() {}
