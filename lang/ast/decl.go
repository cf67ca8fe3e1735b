package ast

// Decl is a top-level declaration: *Import, *Param, *Secret, *Table, *Env,
// *Aggregate, *Flow or *Ledger.
type Decl interface {
	Node
	decl()
}

// Import brings a connector into scope: `import "d365fo" as erp { company: "usmf" }`.
type Import struct {
	Span
	Path   *StringLit `parser:"\"import\" @@"`
	Alias  *Ident     `parser:"( \"as\" @@ )?"`
	Config *Block     `parser:"@@?"`
}

// Param is a typed value set per environment: `param company: string = "usmf"`.
type Param struct {
	Span
	Name    *Ident    `parser:"\"param\" @@"`
	Type    *TypeExpr `parser:"\":\" @@"`
	Default *Expr     `parser:"( \"=\" @@ )?"`
}

// Secret names a value resolved at run time and never logged: `secret stripe_key`.
type Secret struct {
	Span
	Name *Ident `parser:"\"secret\" @@"`
}

// Table is a static lookup table: `table account_for: map(string, string) = {...}`.
type Table struct {
	Span
	Name  *Ident    `parser:"\"table\" @@"`
	Type  *TypeExpr `parser:"\":\" @@"`
	Value *Expr     `parser:"\"=\" @@"`
}

// Env overrides params for one environment: `env prod { company: "usmf" }`.
type Env struct {
	Span
	Name   *Ident `parser:"\"env\" @@"`
	Values *Block `parser:"@@"`
}

// Aggregate declares typed records kept in flowd's store, one per key,
// which flows update once per idempotency key and read back:
//
//	aggregate customer_stats by string {
//	    total_paid: decimal,
//	    payments: int,
//	    last_payment: timestamp,
//	}
//
// A field never set reads as its type's zero value.
type Aggregate struct {
	Span
	Name   *Ident      `parser:"\"aggregate\" @@"`
	Key    *TypeExpr   `parser:"\"by\" @@ \"{\""`
	Fields []*AggField `parser:"( @@ \",\"? )* \"}\""`
}

// AggField is one typed field of an aggregate: `total_paid: decimal`.
type AggField struct {
	Span
	Name *Ident    `parser:"@@ \":\""`
	Type *TypeExpr `parser:"@@"`
}

// Flow maps events to ERP writes, one event at a time.
type Flow struct {
	Span
	Name  *Ident `parser:"\"flow\" @@ \"{\""`
	Stmts []Stmt `parser:"@@* \"}\""`
}

// Ledger aggregates the items of a list source into one balanced journal.
type Ledger struct {
	Span
	Name  *Ident `parser:"\"ledger\" @@ \"{\""`
	Stmts []Stmt `parser:"@@* \"}\""`
}

func (*Import) decl()    {}
func (*Param) decl()     {}
func (*Secret) decl()    {}
func (*Table) decl()     {}
func (*Env) decl()       {}
func (*Aggregate) decl() {}
func (*Flow) decl()      {}
func (*Ledger) decl()    {}

// Body returns the statements of a flow or ledger declaration, and its name.
func Body(d Decl) (*Ident, []Stmt, bool) {
	switch d := d.(type) {
	case *Flow:
		return d.Name, d.Stmts, true
	case *Ledger:
		return d.Name, d.Stmts, true
	}
	return nil, nil, false
}
