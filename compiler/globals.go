package compiler

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

type paramDecl struct {
	sym   *Symbol
	decl  *ast.Param
	file  *File
	value any // the constant value for the selected env; nil when unset
	set   bool
}

type tableDecl struct {
	sym   *Symbol
	decl  *ast.Table
	file  *File
	value any
}

// resolveImports loads the schema of every imported connector.
func (u *unit) resolveImports() {
	for _, f := range u.files {
		if f.AST.Package != nil && f.AST.Package.Name != nil {
			if u.name == "" {
				u.name = f.AST.Package.Name.Name
			} else if f.AST.Package.Name.Name != u.name {
				u.errorf(f, f.AST.Package.Name, diag.PackageMismatch, "package %s, but other files in this directory are package %s", f.AST.Package.Name.Name, u.name).
					Suggestion = "the .flow files of one directory form one package: use one name"
			}
		}
		for _, d := range f.AST.Decls {
			imp, ok := d.(*ast.Import)
			if !ok {
				continue
			}
			u.resolveImport(f, imp)
		}
	}
	var conns []*schema.Connector
	for _, ic := range u.conns {
		conns = append(conns, ic.conn)
		u.info.Connectors[ic.alias] = ic.conn
	}
	u.prov = newProvider(conns)
}

func (u *unit) resolveImport(f *File, imp *ast.Import) {
	path, err := strconv.Unquote(imp.Path.Value)
	if err != nil {
		path = strings.Trim(imp.Path.Value, `"'`)
	}
	load, ok := u.c.cfg.Connectors[path]
	if !ok {
		known := make([]string, 0, len(u.c.cfg.Connectors))
		for k := range u.c.cfg.Connectors {
			known = append(known, k)
		}
		sort.Strings(known)
		d := u.errorf(f, imp.Path, diag.UnknownConnector, "unknown connector %q", path)
		suggest(d, path, known)
		if d.Suggestion == "" {
			d.Suggestion = "connectors: " + strings.Join(known, ", ")
		}
		return
	}
	alias := path
	aliasNode := &ast.Ident{Span: imp.Path.Span, Name: path}
	if imp.Alias != nil {
		alias, aliasNode = imp.Alias.Name, imp.Alias
	}
	config := map[string]string{}
	if imp.Config != nil {
		for _, fld := range imp.Config.Fields {
			if v, err := strconv.Unquote(strings.TrimSpace(fld.Value.Text)); err == nil {
				config[fld.Name.Name] = v
			}
		}
	}
	conn, err := load(config, filepath.Dir(f.Source.Name))
	if err != nil {
		var at ast.Node = imp
		if imp.Config != nil {
			for _, fld := range imp.Config.Fields {
				if fld.Name.Name == "metadata" {
					at = fld.Value
				}
			}
		}
		u.errorf(f, at, diag.ConnectorError, "cannot load connector %s: %v", path, err)
		return
	}
	ic := &importedConnector{alias: alias, conn: conn, decl: imp, file: f, config: config}
	sym := &Symbol{Name: alias, Kind: ConnectorSym, Decl: aliasNode, File: f.Source.Name}
	if prev := u.pkg.declare(sym); prev != nil {
		u.duplicate(f, aliasNode, prev)
		return
	}
	u.conns[alias] = ic
	u.info.Defs[aliasNode] = sym
}

func (u *unit) duplicate(f *File, id *ast.Ident, prev *Symbol) {
	d := u.errorf(f, id, diag.DuplicateDecl, "%s is already declared as a %s", id.Name, prev.Kind)
	if prev.Decl != nil {
		if pf := u.fileNamed(prev.File); pf != nil {
			d.Related = []diag.Note{{Pos: pf.Source.Pos(prev.Decl.Pos.Offset), Message: "first declared here"}}
		}
	}
}

func (u *unit) fileNamed(name string) *File {
	for _, f := range u.files {
		if f.Source.Name == name {
			return f
		}
	}
	return nil
}

// declareGlobals declares params, secrets and tables, evaluates their
// constants and applies the selected env.
func (u *unit) declareGlobals() {
	var envs []*ast.Env
	var envFiles []*File
	u.declareAggregates() // first: the CEL environment serves their entry types
	for _, f := range u.files {
		for _, d := range f.AST.Decls {
			switch d := d.(type) {
			case *ast.Param:
				sym := &Symbol{Name: d.Name.Name, Kind: ParamSym, Decl: d.Name, File: f.Source.Name, Type: u.resolveType(f, d.Type)}
				if prev := u.pkg.declare(sym); prev != nil {
					u.duplicate(f, d.Name, prev)
					continue
				}
				u.info.Defs[d.Name] = sym
				u.params = append(u.params, &paramDecl{sym: sym, decl: d, file: f})
			case *ast.Secret:
				sym := &Symbol{Name: d.Name.Name, Kind: SecretSym, Decl: d.Name, File: f.Source.Name, Type: schema.StringType}
				if prev := u.pkg.declare(sym); prev != nil {
					u.duplicate(f, d.Name, prev)
					continue
				}
				u.info.Defs[d.Name] = sym
			case *ast.Table:
				sym := &Symbol{Name: d.Name.Name, Kind: TableSym, Decl: d.Name, File: f.Source.Name, Type: u.resolveType(f, d.Type)}
				if prev := u.pkg.declare(sym); prev != nil {
					u.duplicate(f, d.Name, prev)
					continue
				}
				u.info.Defs[d.Name] = sym
				u.tables = append(u.tables, &tableDecl{sym: sym, decl: d, file: f})
			case *ast.Env:
				envs = append(envs, d)
				envFiles = append(envFiles, f)
			}
		}
	}
	u.checkImportConfigs()
	for _, p := range u.params {
		if p.decl.Default != nil {
			p.value, p.set = u.constant(p.file, p.decl.Default, p.sym.Type, "a param's default")
		}
	}
	for _, t := range u.tables {
		t.value, _ = u.constant(t.file, t.decl.Value, t.sym.Type, "a table")
	}
	u.applyEnvs(envs, envFiles)
}

// checkImportConfigs checks each import's configuration against the keys
// its connector takes; values are string literals or secret names.
func (u *unit) checkImportConfigs() {
	for _, ic := range u.conns {
		if ic.decl.Config == nil {
			continue
		}
		var keys []string
		for _, c := range ic.conn.Config {
			keys = append(keys, c.Name)
		}
		seen := map[string]bool{}
		for _, fld := range ic.decl.Config.Fields {
			name := fld.Name.Name
			if seen[name] {
				u.errorf(ic.file, fld.Name, diag.FieldSetTwice, "%s is configured twice", name)
			}
			seen[name] = true
			if !contains(keys, name) {
				d := u.errorf(ic.file, fld.Name, diag.UnknownConfig, "connector %s has no setting %q", ic.conn.Name, name)
				suggest(d, name, keys)
				if d.Suggestion == "" {
					d.Suggestion = "settings: " + strings.Join(keys, ", ")
				}
				continue
			}
			text := strings.TrimSpace(fld.Value.Text)
			if _, err := strconv.Unquote(text); err == nil {
				continue
			}
			if sym, ok := u.pkg.lookup(text); ok && (sym.Kind == SecretSym || sym.Kind == ParamSym) {
				sym.markUsed()
				continue
			}
			d := u.errorf(ic.file, fld.Value, diag.NotConstant, "a connector setting must be a quoted string, a secret or a param")
			suggest(d, text, u.pkg.allNames())
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// resolveType turns a written type into a schema type.
func (u *unit) resolveType(f *File, t *ast.TypeExpr) *schema.Type {
	name := t.Name.String()
	want := map[string]int{"list": 1, "map": 2}
	if n, ok := want[name]; ok {
		if len(t.Args) != n {
			u.errorf(f, t, diag.UnknownType, "%s takes %d type argument(s), written %s(...)", name, n, name)
			return schema.AnyType
		}
		if n == 1 {
			return schema.ListOf(u.resolveType(f, t.Args[0]))
		}
		return schema.MapOf(u.resolveType(f, t.Args[0]), u.resolveType(f, t.Args[1]))
	}
	if len(t.Args) > 0 {
		u.errorf(f, t, diag.UnknownType, "type %s takes no arguments", name)
	}
	scalars := map[string]*schema.Type{"string": schema.StringType, "int": schema.IntType, "bool": schema.BoolType,
		"double": schema.DoubleType, "decimal": schema.DecimalType, "minor": schema.MinorType,
		"timestamp": schema.TimestampType, "dyn": schema.AnyType}
	if st, ok := scalars[name]; ok {
		return st
	}
	if len(t.Name.Parts) == 2 {
		if ic, ok := u.conns[t.Name.Parts[0].Name]; ok {
			full := ic.conn.Name + "." + t.Name.Parts[1].Name
			if _, ok := ic.conn.Objects[full]; ok {
				return schema.ObjectOf(full)
			}
		}
	}
	candidates := []string{"string", "int", "bool", "decimal", "minor", "timestamp", "double", "dyn", "list", "map"}
	d := u.errorf(f, t, diag.UnknownType, "unknown type %s", name)
	suggest(d, name, candidates)
	return schema.AnyType
}

// baseEnv returns the package's CEL environment without flow variables.
func (u *unit) baseEnv() (*cel.Env, string, error) {
	var names []string
	for alias, ic := range u.conns {
		names = append(names, fmt.Sprintf("%s=%s@%p", alias, ic.conn.Name, ic.conn))
	}
	sort.Strings(names)
	key := strings.Join(names, ",") + u.aggKey()
	env, err := u.c.cachedEnv(key, func() (*cel.Env, error) {
		return cel.NewEnv(stdlib.Library(), cel.CustomTypeProvider(u.prov))
	})
	return env, key, err
}

// applyEnvs checks every env block and applies the selected one.
func (u *unit) applyEnvs(envs []*ast.Env, files []*File) {
	selected := u.c.cfg.Env
	found := selected == ""
	var names []string
	for i, e := range envs {
		f := files[i]
		names = append(names, e.Name.Name)
		for _, fld := range e.Values.Fields {
			sym, ok := u.pkg.lookup(fld.Name.Name)
			if !ok || sym.Kind != ParamSym {
				d := u.errorf(f, fld.Name, diag.UndefinedName, "env %s sets %s, which is not a param", e.Name.Name, fld.Name.Name)
				suggest(d, fld.Name.Name, u.paramNames())
				continue
			}
			v, ok := u.constant(f, fld.Value, sym.Type, "an env value")
			if ok && e.Name.Name == selected {
				for _, p := range u.params {
					if p.sym == sym {
						p.value, p.set = v, true
					}
				}
			}
		}
		if e.Name.Name == selected {
			found = true
		}
	}
	if !found && len(envs) > 0 && len(u.files) > 0 {
		f := u.files[0]
		d := u.errorf(f, f.AST.Package, diag.UnknownEnv, "package %s has no env %q", u.name, selected)
		suggest(d, selected, names)
		if d.Suggestion == "" {
			d.Suggestion = "envs: " + strings.Join(names, ", ")
		}
	}
	for name, text := range u.c.cfg.Params {
		for _, p := range u.params {
			if p.sym.Name == name {
				v, err := parseParam(text, p.sym.Type)
				if err != nil {
					u.errorf(p.file, p.decl.Name, diag.TypeMismatch, "--param %s=%s: %v", name, text, err)
					continue
				}
				p.value, p.set = v, true
			}
		}
	}
	for _, p := range u.params {
		if !p.set {
			env := selected
			if env == "" {
				env = "the default env"
			} else {
				env = "env " + env
			}
			u.errorf(p.file, p.decl.Name, diag.MissingParamValue, "param %s has no value in %s", p.sym.Name, env).
				Suggestion = fmt.Sprintf("give it a default (param %s: %s = ...), set it in an env block, or pass --param %s=...", p.sym.Name, p.sym.Type, p.sym.Name)
		}
	}
}

func (u *unit) paramNames() []string {
	var out []string
	for _, p := range u.params {
		out = append(out, p.sym.Name)
	}
	return out
}

// parseParam parses a command-line param value as the param's type.
func parseParam(text string, t *schema.Type) (any, error) {
	switch t.Kind {
	case schema.String:
		return text, nil
	case schema.Int:
		return strconv.ParseInt(text, 10, 64)
	case schema.Bool:
		return strconv.ParseBool(text)
	case schema.Decimal:
		if _, err := stdlib.ParseDecimal(text); err != nil {
			return nil, err
		}
		return text, nil
	}
	return nil, fmt.Errorf("params of type %s cannot be set on the command line", t)
}
