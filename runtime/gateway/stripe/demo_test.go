package stripe

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// demo holds the events the demo daemon sends (testdata/demo/SOURCES).
const demo = "../../../testdata/demo"

// demoChanges are the values the demo events may change in their fixture,
// besides renumbered IDs: see testdata/demo/SOURCES.
var demoChanges = []string{
	"id", "created", "data.object.created",
	"data.object.amount", "data.object.amount_captured", "data.object.amount_refunded",
	"data.object.refunds.data[0].amount", "data.object.refunds.data[0].created",
	"data.object.customer", "data.object.billing_details.name", "data.object.metadata.order_id",
}

// zeroedID matches the fixtures' zeroed IDs and the demo's renumbered ones.
var zeroedID = regexp.MustCompile(`\b[a-z]+_0{22}[0-9]{2}\b`)

// TestDemoEventsKeepFixtureStructure: every demo event NN-<type>.json is the
// fixture events/<type>.json with the same fields, and only the documented
// values changed.
func TestDemoEventsKeepFixtureStructure(t *testing.T) {
	for _, path := range demoFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			typ := strings.TrimSuffix(filepath.Base(path)[3:], ".json")
			src := readJSON(t, filepath.Join(fixtures, "events", typ+".json"))
			d := &demoDiff{numbers: map[string]bool{}}
			d.compare("", src, readJSON(t, path))
			for _, p := range d.problems {
				t.Error(p)
			}
			if len(d.numbers) > 1 {
				t.Errorf("IDs renumbered inconsistently: %v", slices.Sorted(maps.Keys(d.numbers)))
			}
		})
	}
}

type demoDiff struct {
	problems []string
	numbers  map[string]bool // the NN of renumbered IDs
}

func (d *demoDiff) compare(path string, src, dst any) {
	switch s := src.(type) {
	case map[string]any:
		m, ok := dst.(map[string]any)
		if !ok {
			d.problems = append(d.problems, fmt.Sprintf("%s: object became %s", path, jsonval.Kind(dst)))
			return
		}
		for k := range m {
			if _, ok := s[k]; !ok && !(strings.HasSuffix(path, ".metadata") && slices.Contains(demoChanges, join(path, k))) {
				d.problems = append(d.problems, fmt.Sprintf("%s: field added", join(path, k)))
			}
		}
		for k, v := range s {
			if w, ok := m[k]; ok {
				d.compare(join(path, k), v, w)
			} else {
				d.problems = append(d.problems, fmt.Sprintf("%s: field removed", join(path, k)))
			}
		}
	case []any:
		a, ok := dst.([]any)
		if !ok || len(a) != len(s) {
			d.problems = append(d.problems, fmt.Sprintf("%s: array changed length or kind", path))
			return
		}
		for i := range s {
			d.compare(fmt.Sprintf("%s[%d]", path, i), s[i], a[i])
		}
	default:
		switch {
		case reflect.DeepEqual(src, dst), slices.Contains(demoChanges, path):
		case d.renumbered(src, dst):
		default:
			d.problems = append(d.problems, fmt.Sprintf("%s: %v changed to %v", path, src, dst))
		}
	}
}

// renumbered reports whether dst is src with its zeroed IDs
// ("ch_000000000000000000000000") ending in a two-digit number instead.
func (d *demoDiff) renumbered(src, dst any) bool {
	s, ok1 := src.(string)
	t, ok2 := dst.(string)
	if !ok1 || !ok2 || len(s) != len(t) {
		return false
	}
	ids := zeroedID.FindAllStringIndex(t, -1)
	for _, loc := range ids {
		id := t[loc[0]:loc[1]]
		d.numbers[id[len(id)-2:]] = true
		t = t[:loc[1]-2] + "00" + t[loc[1]:]
	}
	return len(ids) > 0 && s == t
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// TestDemoEventsCarryWhatFlowsRead: the demo events decode, and carry the
// fields flows/stripe_d365 reads, consistently: charges with an order, a
// customer and a name; a refund of one of those charges; a payout.
func TestDemoEventsCarryWhatFlowsRead(t *testing.T) {
	charges := map[string]map[string]any{} // charge ID -> charge.succeeded object
	eventIDs := map[string]bool{}
	count := map[string]int{}
	for _, path := range demoFiles(t) {
		e, err := Decode(readFile(t, path))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if eventIDs[e.ID] {
			t.Errorf("%s: event ID %s used twice", path, e.ID)
		}
		eventIDs[e.ID] = true
		count[e.Type]++
		obj := e.Object()
		switch e.Type {
		case "charge.succeeded", "charge.refunded":
			checkDemoCharge(t, path, obj)
			if e.Type == "charge.succeeded" {
				charges[e.ObjectID] = obj
				continue
			}
			ch, ok := charges[e.ObjectID]
			if !ok {
				t.Errorf("%s: refunds %s, not a demo charge sent before it", path, e.ObjectID)
				continue
			}
			for _, field := range []string{"customer", "currency", "amount", "metadata"} {
				if !reflect.DeepEqual(ch[field], obj[field]) {
					t.Errorf("%s: %s %v, the charge has %v", path, field, obj[field], ch[field])
				}
			}
			if obj["amount_refunded"] == json.Number("0") {
				t.Errorf("%s: nothing refunded", path)
			}
		case "payout.paid":
			id, _ := obj["id"].(string)
			if _, err := obj["arrival_date"].(json.Number).Int64(); err != nil || !strings.HasPrefix(id, "po_") {
				t.Errorf("%s: payout id %q, arrival_date %v", path, id, obj["arrival_date"])
			}
		default:
			t.Errorf("%s: unexpected event type %s", path, e.Type)
		}
	}
	if count["charge.succeeded"] < 3 || count["charge.refunded"] != 1 || count["payout.paid"] != 1 {
		t.Errorf("event types %v, want a handful of charges, one refund, one payout", count)
	}
}

func checkDemoCharge(t *testing.T, path string, ch map[string]any) {
	t.Helper()
	metadata, _ := ch["metadata"].(map[string]any)
	order, _ := metadata["order_id"].(string)
	customer, _ := ch["customer"].(string)
	billing, _ := ch["billing_details"].(map[string]any)
	name, _ := billing["name"].(string)
	currency, _ := ch["currency"].(string)
	amount, err := ch["amount"].(json.Number).Int64()
	_, errRefunded := ch["amount_refunded"].(json.Number).Int64()
	if order == "" || !strings.HasPrefix(customer, "cus_") || name == "" || len(currency) != 3 ||
		err != nil || amount <= 0 || errRefunded != nil || ch["paid"] != true {
		t.Errorf("%s: order %q customer %q name %q currency %q amount %v amount_refunded %v paid %v",
			path, order, customer, name, currency, ch["amount"], ch["amount_refunded"], ch["paid"])
	}
}

func demoFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(demo, "[0-9][0-9]-*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no demo events in %s (%v)", demo, err)
	}
	return paths // sorted: the order the demo sends them in
}
