package engine

import (
	"fmt"
	"strings"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
)

// Load compiles the flow package under dir (its .flow files) into a
// Program. Diagnostics are returned whether or not it compiled; the Program
// is nil when they hold an error. cfg.Connectors defaults to the standard
// library's connectors.
func Load(dir string, cfg compiler.Config) (*Program, diag.List, error) {
	files, err := compiler.FindFiles([]string{dir})
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no .flow files in %s", dir)
	}
	pkgs, diags, err := compiler.Load(files)
	if err != nil {
		return nil, nil, err
	}
	if diags.HasErrors() {
		return nil, diags, nil
	}
	if len(pkgs) != 1 {
		var dirs []string
		for _, p := range pkgs {
			dirs = append(dirs, p.Dir)
		}
		return nil, diags, fmt.Errorf("%s holds %d flow packages (%s); run one package per daemon", dir, len(pkgs), strings.Join(dirs, ", "))
	}
	if cfg.Connectors == nil {
		cfg.Connectors = map[string]compiler.ConnectorLoader{}
		for name, load := range stdlib.Connectors() {
			cfg.Connectors[name] = load
		}
	}
	p, info, more := compiler.New(cfg).Compile(pkgs[0].Files)
	diags = append(diags, more...).Sort()
	if p == nil {
		return nil, diags, nil
	}
	prog, err := Build(p, info.Envs, info.Connectors)
	if err != nil {
		return nil, diags, err
	}
	return prog, diags, nil
}
