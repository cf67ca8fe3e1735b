package compiler

// Hooks for long-lived tools, such as the language server, that check the
// same sources again and again and need more than the diagnostics.

// NewTracing returns a Compiler like New that calls trace for every
// expression it type-checks, with the environment it checks in (the
// variables in scope at the expression). trace is called from the
// goroutines that check flows, concurrently: it must be safe for that.
// An expression checked twice in the same scope is traced once.
func NewTracing(cfg Config, trace func(Expression)) *Compiler {
	c := New(cfg)
	c.trace = trace
	return c
}

// CacheSize returns how many entries c's caches hold (environments, parsed
// and checked expressions). The caches only grow: a tool that keeps a
// Compiler across edits replaces it when this passes a bound.
func (c *Compiler) CacheSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.envs) + len(c.parsed) + len(c.checked)
}
