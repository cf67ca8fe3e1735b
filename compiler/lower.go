package compiler

import (
	"sort"
	"strconv"
	"strings"

	"github.com/flowhq/flow/compiler/plan"
)

// lower assembles the plan from what the checker built and seals it.
func (u *unit) lower() (*plan.Plan, error) {
	p := &plan.Plan{Package: u.name, Env: u.c.cfg.Env, Connectors: []plan.Connector{}, Flows: []*plan.Flow{}}
	var aliases []string
	for a := range u.conns {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	for _, a := range aliases {
		ic := u.conns[a]
		pc := plan.Connector{Alias: a, Name: ic.conn.Name, Kind: ic.conn.Kind.String()}
		if ic.decl.Config != nil {
			pc.Settings = map[string]string{}
			for _, fld := range ic.decl.Config.Fields {
				text := strings.TrimSpace(fld.Value.Text)
				if v, err := strconv.Unquote(text); err == nil {
					pc.Settings[fld.Name.Name] = v
				} else if sym, ok := u.pkg.lookup(text); ok {
					pc.Settings[fld.Name.Name] = sym.Kind.String() + ":" + text
				}
			}
		}
		p.Connectors = append(p.Connectors, pc)
	}
	for _, pd := range u.params {
		p.Params = append(p.Params, plan.Value{Name: pd.sym.Name, Type: pd.sym.Type.String(), Value: pd.value})
	}
	for _, sym := range u.pkg.order {
		if sym.Kind == SecretSym {
			p.Secrets = append(p.Secrets, sym.Name)
		}
	}
	for _, t := range u.tables {
		p.Tables = append(p.Tables, plan.Value{Name: t.sym.Name, Type: t.sym.Type.String(), Value: t.value})
	}
	p.Aggregates = u.lowerAggregates()
	for _, fu := range u.flows {
		p.Flows = append(p.Flows, fu.plan)
	}
	sort.Slice(p.Flows, func(i, j int) bool { return p.Flows[i].Name < p.Flows[j].Name })
	return p.Seal()
}
