package dataverse

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowhq/flow/stdlib/schema"
)

// Webhook events: Dataverse posts a step's execution context to a service
// endpoint of contract Webhook (flowd's POST /webhooks/dataverse) when an
// SDK message the step is registered on runs: the JSON serialization of
// Microsoft.Xrm.Sdk.RemoteExecutionContext (see runtime/engine's
// dvevent.go and its testdata for the shape and its sources). A flow is
// triggered by the table's logical name and the message:
//
//	on erp.account.Create as ev
//
// The connector types, for every table of the schema, the messages Create,
// Update and Delete, each "<logical name>.<message>". SetState and
// SetStateDynamicEntity are left out: they are deprecated, and Dataverse
// runs a state change made through the Web API as an Update of statecode
// and statuscode. A custom message (Assign, a custom API) is not typed.
//
// The envelope is what flowd keeps of the context (runtime/engine's
// FlattenDataverse): the context's scalar properties, and the record as
// objects of the table's own type: target (InputParameters "Target": the
// columns the operation set; only the primary key on Delete), pre and
// post (the first of PreEntityImages and PostEntityImages, when the step
// registers one). Lookups read as the related row's GUID, choices and
// money as their value, dates as timestamps. A column the operation did
// not touch is absent, and reads as its type's zero value: `has(ev.target.
// name)` tells the two apart.
var Messages = []string{"Create", "Update", "Delete"}

// EventObject is the name of the envelope object of a table's events,
// "dataverse.accountEvent".
func EventObject(logical string) string { return Name + "." + logical + "Event" }

// envelope is the fields of a table's event envelope; entity is the
// table's object.
func envelope(logical, entity string) []*schema.Field {
	str := func(name, doc string) *schema.Field {
		return &schema.Field{Name: name, Type: schema.StringType, Doc: doc}
	}
	num := func(name, doc string) *schema.Field { return &schema.Field{Name: name, Type: schema.IntType, Doc: doc} }
	row := func(name, doc string) *schema.Field {
		return &schema.Field{Name: name, Type: schema.ObjectOf(entity), Doc: doc}
	}
	return []*schema.Field{
		str("MessageName", `The SDK message that ran: "Create", "Update" or "Delete".`),
		str("PrimaryEntityName", fmt.Sprintf("The table's logical name, %q.", logical)),
		str("PrimaryEntityId", "The GUID of the row the message ran on (lower case, no braces); flows order by it: `order by ev.PrimaryEntityId`."),
		str("SecondaryEntityName", `The secondary table of the message, "none" for most.`),
		{Name: "OperationCreatedOn", Type: schema.TimestampType, Doc: "When the operation was created (UTC)."},
		str("CorrelationId", "Shared by every operation a request caused, plug-ins and cascades included."),
		str("RequestId", "The GUID of the request the message ran in; with the message, row, stage and depth, what flowd dedupes deliveries on."),
		str("OperationId", "The GUID of the system job (asyncoperation) of an asynchronous step; the empty GUID for a synchronous one."),
		str("UserId", "The user (systemuser GUID) the step ran as."),
		str("InitiatingUserId", "The user whose action started the operation."),
		str("BusinessUnitId", "The business unit of the user the step ran as."),
		str("OrganizationId", "The environment's organization GUID."),
		str("OrganizationName", "The environment's organization unique name."),
		num("Depth", "How deep in a chain of plug-ins and workflows the operation ran: 1 for a user's own action."),
		num("Stage", "The pipeline stage: 10 pre-validation, 20 pre-operation, 40 post-operation."),
		num("Mode", "0 synchronous, 1 asynchronous."),
		{Name: "MessageSizeExceeded", Type: schema.BoolType, Doc: "Dataverse trimmed the context (x-ms-dynamics-msg-size-exceeded, over 256 KB): no target and no images."},
		row("target", "The row as the message gave it (InputParameters Target): the columns it set, or only the primary key on Delete."),
		row("pre", "The step's first pre-image (PreEntityImages), when it registers one: the row before the operation."),
		row("post", "The step's first post-image (PostEntityImages), when it registers one: the row after the operation."),
	}
}

// addEvents adds every table's webhook events: one envelope object per
// table and the events of Messages. logical maps entity sets to their
// tables' logical names; a table whose envelope name is taken, or whose
// logical name is unknown, has no events.
func addEvents(objects, entities map[string]*schema.Object, logical map[string]string) (map[string]*schema.Event, error) {
	events := map[string]*schema.Event{}
	sets := make([]string, 0, len(entities))
	for set := range entities {
		sets = append(sets, set)
	}
	sort.Strings(sets)
	for _, set := range sets {
		name := logical[set]
		if name == "" || strings.ContainsAny(name, ". ") {
			continue
		}
		env := EventObject(name)
		if _, taken := objects[env]; taken {
			continue
		}
		if _, dup := events[name+"."+Messages[0]]; dup {
			continue // two entity sets of one table: the first (by name) has the events
		}
		entity := entities[set].Name
		o, err := schema.NewObject(env, fmt.Sprintf("A webhook event of the %s table (entity set %s): the execution context Dataverse posts.", name, set), envelope(name, entity), nil)
		if err != nil {
			return nil, fmt.Errorf("events of %s: %w", set, err)
		}
		objects[env] = o
		for _, m := range Messages {
			ev := name + "." + m
			events[ev] = &schema.Event{Name: ev, Envelope: env, Object: entity}
		}
	}
	return events, nil
}

// LogicalName returns the logical name of the table behind an entity set
// ("accounts" -> "account"), "" when the set is unknown.
func (s *Schema) LogicalName(set string) string { return s.Logical[set] }

// EntitySet returns the entity set of a table by its logical name
// ("account" -> "accounts"), "" when the schema has no such table.
func (s *Schema) EntitySet(logical string) string {
	found := ""
	for set, l := range s.Logical {
		if l == logical && (found == "" || set < found) {
			found = set
		}
	}
	return found
}
