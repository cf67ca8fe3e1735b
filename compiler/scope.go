package compiler

import (
	"sort"
	"strings"
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
)

var symbolKindNames = [...]string{"param", "secret", "table", "event", "let", "lookup", "record", "item", "group key", "connector"}

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

// variables returns the CEL variables of the scope chain, outermost first,
// and a key that identifies the set (for the environment cache).
func (s *scope) variables() ([]cel.EnvOption, string) {
	var chain []*scope
	for sc := s; sc != nil; sc = sc.parent {
		chain = append(chain, sc)
	}
	var opts []cel.EnvOption
	var key strings.Builder
	for i := len(chain) - 1; i >= 0; i-- {
		for _, sym := range chain[i].order {
			if sym.Kind == SecretSym || sym.Kind == ConnectorSym {
				continue
			}
			opts = append(opts, cel.Variable(sym.Name, celType(sym.Type)))
			key.WriteString(sym.Name)
			key.WriteByte(':')
			key.WriteString(sym.Type.String())
			key.WriteByte(';')
		}
	}
	return opts, key.String()
}
