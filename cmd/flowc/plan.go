package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/compiler/plan"
)

func cmdPlan(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("plan", `Usage: flowc plan [--json] [--env NAME] [--param name=value]... [PATH]

Compiles the package at PATH (a directory or one of its files; default ".")
and prints the execution plan the runtime would run: triggers, steps, ERP
writes and ledgers, with the plan version. Exits 1 when the package has
errors (they are printed instead), 2 on a usage or I/O error.`, stderr)
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	env := fs.String("env", "", "use the param values of `env NAME { ... }`")
	params := paramFlags{}
	fs.Var(params, "param", "override a param: name=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "flowc plan: give one package (a directory or a file)")
		return 2
	}
	res, err := checkPaths(fs.Args(), compiler.Config{Env: *env, Params: params})
	if err != nil {
		fmt.Fprintf(stderr, "flowc plan: %v\n", err)
		return 2
	}
	if res.diags.HasErrors() {
		writeDiags(stdout, stderr, "text", res.diags.Limit(10), res.sources)
		return 1
	}
	var plans []*plan.Plan
	for _, p := range res.plans {
		if p != nil {
			plans = append(plans, p)
		}
	}
	if len(plans) != 1 {
		fmt.Fprintf(stderr, "flowc plan: %d packages found; give one directory\n", len(plans))
		return 2
	}
	p := plans[0]
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(p); err != nil {
			fmt.Fprintf(stderr, "flowc plan: %v\n", err)
			return 2
		}
		return 0
	}
	writePlan(stdout, p)
	return 0
}

// writePlan prints a plan for a reader.
func writePlan(w io.Writer, p *plan.Plan) {
	var b strings.Builder
	env := p.Env
	if env == "" {
		env = "default"
	}
	fmt.Fprintf(&b, "plan %s  package %s  env %s\n", p.Version, p.Package, env)
	for _, c := range p.Connectors {
		fmt.Fprintf(&b, "connector %s = %s (%s)", c.Alias, c.Name, c.Kind)
		for _, k := range sortedKeys(c.Settings) {
			fmt.Fprintf(&b, " %s=%s", k, c.Settings[k])
		}
		b.WriteString("\n")
	}
	for _, v := range p.Params {
		fmt.Fprintf(&b, "param %s: %s = %s\n", v.Name, v.Type, jsonText(v.Value))
	}
	for _, s := range p.Secrets {
		fmt.Fprintf(&b, "secret %s (resolved at run time)\n", s)
	}
	for _, t := range p.Tables {
		fmt.Fprintf(&b, "table %s: %s (%s)\n", t.Name, t.Type, entries(t.Value))
	}
	for _, f := range p.Flows {
		b.WriteString("\n")
		fmt.Fprintf(&b, "%s %s  (%s)\n", f.Kind, f.Name, f.At)
		t := f.Trigger
		if t.Schedule != "" {
			fmt.Fprintf(&b, "  on schedule %q -> %s: %s\n", t.Schedule, t.Var, t.Type)
		} else {
			fmt.Fprintf(&b, "  on %s %s -> %s: %s\n", t.Connector, t.Event, t.Var, t.Type)
		}
		if f.OrderBy != nil {
			fmt.Fprintf(&b, "  one at a time per %s\n", f.OrderBy.Text)
		}
		writeSteps(&b, f.Steps, "  ", "")
		if l := f.Ledger; l != nil {
			var args []string
			for _, a := range l.Source.Args {
				args = append(args, a.Name+": "+a.Value.Text)
			}
			fmt.Fprintf(&b, "  for each %s in %s.%s(%s)\n", l.Source.Var, l.Source.Connector, l.Source.List, strings.Join(args, ", "))
			var keys []string
			for _, g := range l.GroupBy {
				keys = append(keys, g.Name+" = "+g.Expr.Text)
			}
			if len(keys) > 0 {
				fmt.Fprintf(&b, "  group by %s\n", strings.Join(keys, ", "))
			}
			for _, a := range l.Aggregates {
				arg := ""
				if a.Expr != nil {
					arg = a.Expr.Text
				}
				fmt.Fprintf(&b, "  per group %s = %s(%s)\n", a.Name, a.Func, arg)
			}
			j := l.Journal
			key := ""
			if j.Key != nil {
				key = " key " + j.Key.Text
			}
			fmt.Fprintf(&b, "  journal %s.%s (header %s)%s, one atomic batch\n", j.Connector, j.Entity, j.HeaderEntity, key)
			for _, h := range j.Header {
				fmt.Fprintf(&b, "       header %s = %s\n", h.Name, h.Value.Text)
			}
			for _, l := range j.Lines {
				fmt.Fprintf(&b, "       line %s = %s\n", l.Name, l.Value.Text)
			}
			for _, p := range j.Postings {
				amt := "the balance"
				if p.Amount != nil {
					amt = p.Amount.Text
				}
				fmt.Fprintf(&b, "       %-6s %s  amount %s\n", p.Side, p.Account.Text, amt)
			}
		}
	}
	io.WriteString(w, b.String())
}

// writeSteps prints steps numbered under prefix ("2.1." inside the body
// of step 2), each with the fields it assigns.
func writeSteps(b *strings.Builder, steps []*plan.Step, indent, prefix string) {
	for i, s := range steps {
		n := fmt.Sprintf("%s%d.", prefix, i+1)
		fmt.Fprintf(b, "%s%s %s\n", indent, n, stepLine(s))
		for _, fld := range s.Fields {
			fmt.Fprintf(b, "%s     %s = %s\n", indent, fld.Name, fld.Value.Text)
		}
		if s.Miss != nil {
			for _, fld := range s.Miss.Fields {
				fmt.Fprintf(b, "%s     %s = %s\n", indent, fld.Name, fld.Value.Text)
			}
		}
		if len(s.Body) > 0 {
			writeSteps(b, s.Body, indent+"   ", n)
		}
		if len(s.Else) > 0 {
			fmt.Fprintf(b, "%s%s else\n", indent, n)
			writeSteps(b, s.Else, indent+"   ", n+"else.")
		}
	}
}

func stepLine(s *plan.Step) string {
	switch s.Kind {
	case plan.StepReview:
		return fmt.Sprintf("hold the event for review when %s, because %s", s.Expr.Text, s.Reason.Text)
	case plan.StepFor:
		if s.Aggregate != "" {
			return fmt.Sprintf("for each %s in the entries of aggregate %s changed since %s", s.Name, s.Aggregate, s.Since.Text)
		}
		if s.Expr == nil {
			return fmt.Sprintf("for each %s in the records of %s.%s%s", s.Name, s.Connector, s.Entity, whereText(s.Where, " where "))
		}
		return fmt.Sprintf("for each %s in %s  : %s", s.Name, s.Expr.Text, s.Expr.Type)
	case plan.StepIf:
		return "if " + s.Expr.Text
	case plan.StepAggregate:
		return fmt.Sprintf("update aggregate %s[%s] once per key %s", s.Aggregate, s.Index.Text, s.Key.Text)
	case plan.StepRead:
		return fmt.Sprintf("read aggregate %s[%s] as %s", s.Aggregate, s.Index.Text, s.Name)
	case plan.StepLet:
		return fmt.Sprintf("let %s = %s  : %s", s.Name, s.Expr.Text, s.Expr.Type)
	case plan.StepWhen:
		return "skip the event unless " + s.Expr.Text
	case plan.StepLookup:
		miss := s.Miss.Policy
		if s.Miss.Wait != "" {
			miss += " for " + s.Miss.Wait
		}
		return fmt.Sprintf("lookup %s in %s.%s%s; if none: %s", s.Name, s.Connector, s.Entity, whereText(s.Where, " where "), miss)
	case plan.StepWrite:
		name := ""
		if s.Name != "" {
			name = " as " + s.Name
		}
		return fmt.Sprintf("%s %s.%s%s once per key %s", s.Op, s.Connector, s.Entity, name, s.Key.Text)
	}
	return s.Kind
}

// whereText prints conditions "A == a and B == b" after prefix, or nothing.
func whereText(where []plan.Field, prefix string) string {
	if len(where) == 0 {
		return ""
	}
	conds := make([]string, len(where))
	for i, c := range where {
		op := c.Op
		if op == "" {
			op = "=="
		}
		conds[i] = c.Name + " " + op + " " + c.Value.Text
	}
	return prefix + strings.Join(conds, " and ")
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func entries(v any) string {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			return "1 entry"
		}
		return fmt.Sprintf("%d entries", len(x))
	case []any:
		return plural(len(x), "item")
	}
	return jsonText(v)
}
