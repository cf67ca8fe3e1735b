package compiler

import (
	"sort"
	"strings"

	"github.com/flowhq/flow/lang/diag"
)

// checkPackage applies the rules that need the whole package: unused
// globals, and reversals no flow handles.
func (u *unit) checkPackage() {
	for _, sym := range u.pkg.order {
		if sym.Kind == ConnectorSym || sym.Used() {
			continue
		}
		f := u.fileNamed(sym.File)
		if f == nil || sym.Decl == nil {
			continue
		}
		u.warnf(f, sym.Decl, diag.Unused, "%s %s is never used", sym.Kind, sym.Name)
	}
	handled := map[string]bool{}
	for _, fu := range u.flows {
		if fu.event != nil {
			handled[fu.gateway.conn.Name+"/"+fu.event.Name] = true
		}
	}
	for _, fu := range u.flows {
		if fu.event == nil || fu.writes == 0 || fu.ledger {
			continue
		}
		rev := fu.gateway.conn.Reverses[fu.event.Name]
		if len(rev) == 0 {
			continue
		}
		found := false
		for _, r := range rev {
			if handled[fu.gateway.conn.Name+"/"+r] {
				found = true
			}
		}
		if found {
			continue
		}
		sorted := append([]string(nil), rev...)
		sort.Strings(sorted)
		u.warnf(fu.f, fu.trigger.Event, diag.UnhandledReverse, "flow %s writes records for %s, but no flow handles its reversal (%s)",
			fu.name.Name, fu.event.Name, strings.Join(sorted, ", ")).
			Suggestion = "add a flow `on " + fu.gateway.alias + "." + sorted[0] + "` that credits what this one books"
	}
}
