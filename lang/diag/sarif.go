package diag

import (
	"encoding/json"
	"io"
	"sort"
)

// Rule documents a code in SARIF output.
type Rule struct {
	Code Code
	Name string
	Help string
}

// WriteSARIF prints a SARIF 2.1.0 log with one run. rules describes the codes
// (id, short description); tool and version name the producer.
func (l List) WriteSARIF(w io.Writer, tool, version string, rules []Rule) error {
	type msg struct {
		Text string `json:"text"`
	}
	type region struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
		EndLine     int `json:"endLine"`
		EndColumn   int `json:"endColumn"`
	}
	type artifact struct {
		URI string `json:"uri"`
	}
	type physical struct {
		ArtifactLocation artifact `json:"artifactLocation"`
		Region           region   `json:"region"`
	}
	type location struct {
		PhysicalLocation physical `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string     `json:"ruleId"`
		RuleIndex int        `json:"ruleIndex"`
		Level     string     `json:"level"`
		Message   msg        `json:"message"`
		Locations []location `json:"locations"`
	}
	type rule struct {
		ID               string `json:"id"`
		Name             string `json:"name"`
		ShortDescription msg    `json:"shortDescription"`
	}
	type driver struct {
		Name           string `json:"name"`
		Version        string `json:"version"`
		InformationURI string `json:"informationUri,omitempty"`
		Rules          []rule `json:"rules"`
	}
	type run struct {
		Tool struct {
			Driver driver `json:"driver"`
		} `json:"tool"`
		Results []result `json:"results"`
	}
	type log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []run  `json:"runs"`
	}

	sorted := append([]Rule(nil), rules...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Code < sorted[j].Code })
	index := map[Code]int{}
	var r run
	r.Tool.Driver = driver{Name: tool, Version: version, Rules: []rule{}}
	for i, ru := range sorted {
		index[ru.Code] = i
		r.Tool.Driver.Rules = append(r.Tool.Driver.Rules, rule{ID: string(ru.Code), Name: ru.Name, ShortDescription: msg{ru.Help}})
	}
	r.Results = []result{}
	for _, d := range l {
		i, ok := index[d.Code]
		if !ok {
			i = len(r.Tool.Driver.Rules)
			index[d.Code] = i
			r.Tool.Driver.Rules = append(r.Tool.Driver.Rules, rule{ID: string(d.Code), Name: string(d.Code), ShortDescription: msg{string(d.Code)}})
		}
		level := map[Severity]string{Error: "error", Warning: "warning", Info: "note"}[d.Severity]
		end := d.End
		if !end.IsValid() {
			end = d.Pos
		}
		text := d.Message
		if d.Suggestion != "" {
			text += "; " + d.Suggestion
		}
		r.Results = append(r.Results, result{RuleID: string(d.Code), RuleIndex: i, Level: level, Message: msg{text},
			Locations: []location{{physical{artifact{d.Pos.File}, region{d.Pos.Line, d.Pos.Col, end.Line, end.Col}}}}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []run{r}})
}
