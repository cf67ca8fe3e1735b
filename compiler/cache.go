package compiler

import (
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
)

// The caches a Compiler shares between every package it compiles: CEL
// environments by the declarations they hold, parsed expressions by their
// text, and checked expressions by their text and the declarations they use
// (expressions repeat across flows: a corpus of 22,000 has 650 distinct
// texts). Each entry is filled once, by the first goroutine to ask; the
// values are shared and never modified.

// cachedEnv builds an environment once per key.
func (c *Compiler) cachedEnv(key string, build func() (*cel.Env, error)) (*cel.Env, error) {
	c.mu.Lock()
	e, ok := c.envs[key]
	if !ok {
		e = &envEntry{}
		c.envs[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.env, e.err = build() })
	return e.env, e.err
}

// parseEntry is the parse of one expression text: the AST, or the issues
// when it does not parse.
type parseEntry struct {
	once sync.Once
	ast  *cel.Ast
	iss  *cel.Issues
}

// copier copies parsed ASTs: a static optimizer without optimizations
// returns a deep copy of the expression and its source information. (It is
// about three times faster than a round trip through the proto form, and
// twenty times faster than parsing again.)
var copier = func() *cel.StaticOptimizer {
	o, err := cel.NewStaticOptimizer()
	if err != nil {
		panic(err)
	}
	return o
}()

// parse parses text in env, once per text. The AST is shared: it must not
// be modified (checking does; see check). Every environment a Compiler
// checks in extends a base of stdlib.Library(); extending adds
// declarations, never macros or parser options, so a text parses the same in
// all of them.
func (c *Compiler) parse(env *cel.Env, text string) (*cel.Ast, *cel.Issues) {
	c.mu.Lock()
	p, ok := c.parsed[text]
	if !ok {
		p = &parseEntry{}
		c.parsed[text] = p
	}
	c.mu.Unlock()
	p.once.Do(func() { p.ast, p.iss = env.Parse(text) })
	return p.ast, p.iss
}

// checkEntry is the type-check of one expression text against the
// declarations it uses.
type checkEntry struct {
	once sync.Once
	ast  *cel.Ast           // the checked AST; nil when iss holds errors
	iss  *cel.Issues        // the checker's errors
	root celast.Expr        // the expression as checked (the checker rewrites some nodes)
	info *celast.SourceInfo // the source information of root
}

// checkKey identifies what checking a text depends on: the declarations of
// the environment other than variables (declKey: functions and types), the
// text, and the variables it reads. A CEL check looks up the names the text
// uses and nothing else, so the variables the text reads (refs, as walk
// found them), with their types, stand for all of them.
func checkKey(declKey, text string, refs []*Symbol) string {
	var b strings.Builder
	b.WriteString(declKey)
	b.WriteByte('|')
	b.WriteString(text)
	for _, r := range refs {
		b.WriteByte('|')
		b.WriteString(r.Name)
		b.WriteByte(':')
		b.WriteString(r.Type.String())
	}
	return b.String()
}

// check type-checks a copy of parsed in env, once per key; the result is
// shared and must not be modified.
func (c *Compiler) check(env *cel.Env, key string, parsed *cel.Ast) *checkEntry {
	c.mu.Lock()
	e, ok := c.checked[key]
	if !ok {
		e = &checkEntry{}
		c.checked[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		cp, iss := copier.Optimize(env, parsed)
		if iss != nil && iss.Err() != nil {
			e.iss, e.root, e.info = iss, parsed.NativeRep().Expr(), parsed.NativeRep().SourceInfo()
			return
		}
		e.root, e.info = cp.NativeRep().Expr(), cp.NativeRep().SourceInfo()
		e.ast, e.iss = env.Check(cp)
	})
	return e
}
