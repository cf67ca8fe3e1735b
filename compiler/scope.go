package compiler

import (
	"sort"
	"sync"

	"github.com/google/cel-go/cel"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/stdlib/schema"
)

// SymbolKind says what a name refers to.
type SymbolKind int

const (
	ParamSym     SymbolKind = iota // a param
	SecretSym                      // a secret (connector configuration only)
	TableSym                       // a static table
	EventSym                       // the trigger's event variable
	LetSym                         // a let
	LookupSym                      // the record a lookup found or created
	WriteSym                       // the record a write produced
	ItemSym                        // a ledger's list item variable
	GroupSym                       // a ledger's grouping key
	ConnectorSym                   // an imported connector
	SignalsSym                     // the built-in signals of a gateway-triggered flow
	AggregateSym                   // an aggregate (entries are read with lookup)
	AggFieldSym                    // a field of an aggregate entry, inside its update
)

var symbolKindNames = [...]string{"param", "secret", "table", "event", "let", "lookup", "record", "item", "group key", "connector", "signals", "aggregate", "aggregate field"}

func (k SymbolKind) String() string { return symbolKindNames[k] }

// Symbol is a declared name.
type Symbol struct {
	Name string
	Kind SymbolKind
	Type *schema.Type
	Decl *ast.Ident // where it is declared (nil for built-ins)
	File string

	// FromEvent is true when the value is derived from the event being
	// processed: an idempotency key must use at least one such value.
	FromEvent bool
	// Expr is the expression a let or group key stands for (nil otherwise).
	Expr *ast.Expr

	mu   sync.Mutex
	used bool
}

func (s *Symbol) markUsed() {
	s.mu.Lock()
	s.used = true
	s.mu.Unlock()
}

// Used reports whether anything reads the symbol.
func (s *Symbol) Used() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// scope is a chain of name tables. Package scope holds params, secrets,
// tables and connectors; each flow adds its names in statement order.
type scope struct {
	parent *scope
	names  map[string]*Symbol
	order  []*Symbol // declaration order, for the CEL environment key
	// key lists the CEL variables this scope declares, "name:type;" each in
	// declaration order: its part of the environment key (see varKey).
	key string

	mu   sync.Mutex
	memo map[memoKey]*checked // see recall
	envs map[string]scopeEnv  // by extra key; see recallEnv
}

// scopeEnv is the CEL environment of a scope in one state.
type scopeEnv struct {
	names   int // the size of the scope chain it was built for
	env     *cel.Env
	declKey string
}

// memoKey identifies a check: the expression, the extra environment and
// how many names the scope chain held.
type memoKey struct {
	e     *ast.Expr
	extra string
	names int
}

func newScope(parent *scope) *scope { return &scope{parent: parent, names: map[string]*Symbol{}} }

func (s *scope) lookup(name string) (*Symbol, bool) {
	for sc := s; sc != nil; sc = sc.parent {
		if sym, ok := sc.names[name]; ok {
			return sym, true
		}
	}
	return nil, false
}

// declare adds sym, returning the symbol it collides with in this scope or
// an enclosing one (names never shadow in flow).
func (s *scope) declare(sym *Symbol) *Symbol {
	if prev, ok := s.lookup(sym.Name); ok {
		return prev
	}
	s.names[sym.Name] = sym
	s.order = append(s.order, sym)
	if isVariable(sym) {
		s.key += sym.Name + ":" + sym.Type.String() + ";"
	}
	return nil
}

// allNames returns every visible name, for suggestions.
func (s *scope) allNames() []string {
	var out []string
	for sc := s; sc != nil; sc = sc.parent {
		for n := range sc.names {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// size returns how many names the scope chain holds. Names are only ever
// added, so the size tells the states of a scope apart.
func (s *scope) size() int {
	n := 0
	for sc := s; sc != nil; sc = sc.parent {
		n += len(sc.order)
	}
	return n
}

// recall returns the result of an earlier check of the same expression in
// the same state of the scope (a journal's key and header fields are
// checked twice), or nil.
func (s *scope) recall(k memoKey) *checked {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.memo[k]
}

// remember records the result of a check for recall.
func (s *scope) remember(k memoKey, c *checked) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memo == nil {
		s.memo = map[memoKey]*checked{}
	}
	s.memo[k] = c
}

// recallEnv returns the environment built for the scope in its current
// state (size names), if there is one: every expression between two
// declarations checks in the same environment.
func (s *scope) recallEnv(extraKey string, size int) (*cel.Env, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.envs[extraKey]
	if !ok || e.names != size {
		return nil, "", false
	}
	return e.env, e.declKey, true
}

// rememberEnv records an environment for recallEnv.
func (s *scope) rememberEnv(extraKey string, size int, env *cel.Env, declKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.envs == nil {
		s.envs = map[string]scopeEnv{}
	}
	s.envs[extraKey] = scopeEnv{names: size, env: env, declKey: declKey}
}

// isVariable reports whether a symbol is a CEL variable: secrets,
// connectors and aggregates are names, never values.
func isVariable(sym *Symbol) bool {
	return sym.Kind != SecretSym && sym.Kind != ConnectorSym && sym.Kind != AggregateSym
}

// varKey identifies the CEL variables of the scope chain (for the
// environment cache): the keys of its scopes, outermost first.
func (s *scope) varKey() string {
	if s.parent == nil {
		return s.key
	}
	return s.parent.varKey() + s.key
}

// variables returns the CEL variables of the scope chain, outermost first.
func (s *scope) variables() []cel.EnvOption {
	var opts []cel.EnvOption
	if s.parent != nil {
		opts = s.parent.variables()
	}
	for _, sym := range s.order {
		if isVariable(sym) {
			opts = append(opts, cel.Variable(sym.Name, celType(sym.Type)))
		}
	}
	return opts
}
