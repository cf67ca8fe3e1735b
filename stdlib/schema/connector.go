package schema

import (
	"fmt"
	"sort"
)

// ConnectorKind says which side of an integration a connector sits on.
type ConnectorKind int

const (
	Gateway ConnectorKind = iota // a payment gateway: events in, API reads
	ERP                          // an ERP: entities to look up and write
)

func (k ConnectorKind) String() string {
	if k == ERP {
		return "erp"
	}
	return "gateway"
}

// Event is a trigger a gateway (or ERP) can deliver.
type Event struct {
	Name     string // as the gateway spells it: "charge.succeeded"
	Envelope string // object type of the whole event, e.g. "stripe.ChargeEvent"
	Object   string // object type of the event's subject, e.g. "stripe.Charge"
}

// Param is a named argument of a list source.
type Param struct {
	Name     string
	Type     *Type
	Required bool
}

// ListSource is a paged read the runtime can iterate, such as the balance
// transactions of a payout.
type ListSource struct {
	Name   string
	Doc    string
	Params []Param
	Elem   string // object type of each item
	// Total, when set, is what a complete list adds up to: the runtime
	// checks it before posting anything built from the list.
	Total *ListTotal
}

// ListTotal says what a list's items sum to when the list belongs to the
// event's object (its Arg argument is the object's id): Field summed over
// the items, leaving out those whose SkipField is SkipValue, equals the
// object's Of field. All are integers (minor units). Currency, when set,
// names the items' currency field: then each group of a ledger's items must
// balance through its clearing posting by exactly the group's Field total.
type ListTotal struct {
	Arg                  string // the argument naming the object, "payout"
	Field                string // summed over the items, "net"
	Currency             string // the items' currency, "currency"
	SkipField, SkipValue string // items left out, type "payout"
	Of                   string // the object's total, "amount"
}

// Connector is the complete, immutable schema of one connector.
type Connector struct {
	Name    string // import path as written in flows: "stripe", "d365fo"
	Kind    ConnectorKind
	Doc     string
	Objects map[string]*Object     // by qualified name
	Events  map[string]*Event      // by event name (gateways)
	Lists   map[string]*ListSource // by list name (gateways)
	// Entities maps an ERP entity set name (what flows write: "CustomersV3")
	// to its object; the object's name is "<connector>.<entity set>".
	Entities map[string]*Object
	// Config is what an import may configure (secrets, metadata file, company).
	Config []*Field
	// Reverses maps an event to the events that undo it (charge.succeeded ->
	// charge.refunded); the checker warns when a flow handles the first and no
	// flow handles any of the second.
	Reverses map[string][]string
	// Journals maps a journal line entity set to how the ERP posts it.
	Journals map[string]*Journal
}

// Object returns the named object type ("stripe.Charge").
func (c *Connector) Object(name string) (*Object, bool) {
	o, ok := c.Objects[name]
	return o, ok
}

// EventNames returns all event names, sorted.
func (c *Connector) EventNames() []string { return sortedKeys(c.Events) }

// EntityNames returns all entity set names, sorted.
func (c *Connector) EntityNames() []string { return sortedKeys(c.Entities) }

// ListNames returns all list source names, sorted.
func (c *Connector) ListNames() []string { return sortedKeys(c.Lists) }

// Validate checks that every object reference in the connector resolves.
func (c *Connector) Validate() error {
	var check func(where string, t *Type) error
	check = func(where string, t *Type) error {
		if t == nil {
			return fmt.Errorf("%s: nil type", where)
		}
		switch t.Kind {
		case Struct:
			if _, ok := c.Objects[t.Object]; !ok {
				return fmt.Errorf("%s: unknown object type %q", where, t.Object)
			}
		case List:
			return check(where, t.Elem)
		case Map:
			if err := check(where, t.Key); err != nil {
				return err
			}
			return check(where, t.Elem)
		}
		return nil
	}
	for _, o := range c.Objects {
		for _, f := range o.Fields {
			if err := check(o.Name+"."+f.Name, f.Type); err != nil {
				return fmt.Errorf("connector %s: %w", c.Name, err)
			}
		}
	}
	for _, e := range c.Events {
		for _, n := range []string{e.Envelope, e.Object} {
			if _, ok := c.Objects[n]; !ok {
				return fmt.Errorf("connector %s: event %s: unknown object type %q", c.Name, e.Name, n)
			}
		}
	}
	for _, l := range c.Lists {
		if _, ok := c.Objects[l.Elem]; !ok {
			return fmt.Errorf("connector %s: list %s: unknown object type %q", c.Name, l.Name, l.Elem)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Journal describes how an ERP posts a journal: a header record, then lines
// that point at it. The compiler fills the link, account, amount and line
// number fields of each line from a ledger's postings.
type Journal struct {
	Lines       string // line entity set, e.g. "LedgerJournalLines"
	Header      string // header entity set; "" when lines stand alone
	Link        string // line field that holds the header's number
	HeaderLink  string // header field the number comes from (often the same name)
	Account     string // line field for the account
	AccountType string // line field for the account type; "" when none
	Debit       string // line field for a debit amount; "" when the ERP signs one Amount
	Credit      string // line field for a credit amount; "" when the ERP signs one Amount
	// Amount is the line field for a signed amount (a debit positive, a
	// credit negative), for ERPs whose lines have no debit/credit pair
	// (Business Central's journalLines.amount); "" when Debit and Credit
	// are used.
	Amount     string
	LineNumber string // line field numbering the lines; "" when the ERP numbers them
	// LedgerType is the AccountType value of a general-ledger account, set
	// on lines whose account type the flow leaves out; "" means "Ledger"
	// (F&O's LedgerJournalACType).
	LedgerType string
}
