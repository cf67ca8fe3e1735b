package bc

import (
	"fmt"
	"strings"

	"github.com/flowhq/flow/stdlib/schema"
)

// Change events: Business Central notifies a webhook subscription's
// notificationUrl when a record of the subscribed resource is created,
// updated or deleted (api-reference/v2.0/dynamics-subscriptions.md). A
// flow is triggered by the entity set and the change:
//
//	on erp.customers.created as ev
//
// The notification carries only the record's URL; flowd fetches the
// record and gives it as ev.record, typed as the entity. Beside it, the
// envelope of the notification: subscriptionId, resource (the record's
// path, "api/v2.0/companies(...)/customers(...)"), changeType and
// lastModifiedDateTime. Of a deleted record only ev.record.id is known.
//
// When more than 1,000 records change within BC's 30-second coalescing
// delay, BC sends one "collection" notification instead, whose resource is
// the set with a $filter on lastModifiedDateTime. flowd fetches the
// records it names and delivers each to the set's created flows and to
// its updated flows, with changeType "collection": BC does not say which
// were new, so a created flow must be idempotent (keyed writes are) and
// may test ev.changeType. Records deleted in such a burst are not
// reported by BC at all.

// WebhookSets are the entity sets of this schema that Business Central
// sends change notifications for (the document's list of supported
// entities), sorted. Document lines notify through their header.
var WebhookSets = []string{
	"customerPaymentJournals",
	"customers",
	"generalLedgerEntries",
	"journals",
	"salesCreditMemos",
	"salesInvoices",
	"salesOrders",
}

// ChangeTypes are the changes a flow can be triggered by.
var ChangeTypes = []string{"created", "updated", "deleted"}

// Collection is the changeType of a notification that stands for many
// changed records.
const Collection = "collection"

// EnvelopeName is the object type of set's change events,
// "bc.customersNotification".
func EnvelopeName(set string) string { return Name + "." + set + "Notification" }

// EventName is the name flows trigger on: "customers.created".
func EventName(set, changeType string) string { return set + "." + changeType }

// EventSet splits an event name into its entity set and change type; ok
// is false when it is not a change event of this connector.
func EventSet(event string) (set, changeType string, ok bool) {
	i := strings.LastIndexByte(event, '.')
	if i < 0 {
		return "", "", false
	}
	set, changeType = event[:i], event[i+1:]
	return set, changeType, webhookSet(set) && isChangeType(changeType)
}

func webhookSet(set string) bool {
	for _, s := range WebhookSets {
		if s == set {
			return true
		}
	}
	return false
}

func isChangeType(t string) bool {
	for _, c := range ChangeTypes {
		if c == t {
			return true
		}
	}
	return false
}

// addEvents adds, for every webhook set the connector has, its envelope
// object and its created, updated and deleted events.
func addEvents(c *schema.Connector) error {
	for _, set := range WebhookSets {
		ent, ok := c.Entities[set]
		if !ok {
			continue
		}
		name := EnvelopeName(set)
		if _, taken := c.Objects[name]; taken {
			return fmt.Errorf("change events of %s: object %s exists", set, name)
		}
		o, err := schema.NewObject(name, "A Business Central change notification about a record of "+set+", with the record flowd fetched.", []*schema.Field{
			{Name: "subscriptionId", Type: schema.StringType, Doc: "The webhook subscription that notified."},
			{Name: "resource", Type: schema.StringType, Doc: `The changed record's path, "api/v2.0/companies(<id>)/` + set + `(<id>)".`},
			{Name: "changeType", Type: schema.EnumOf(append([]string{Collection}, ChangeTypes...)...), Doc: `"created", "updated" or "deleted"; "collection" for a record of a collection notification (more than 1,000 changes at once).`},
			{Name: "lastModifiedDateTime", Type: schema.TimestampType, Doc: "When the record changed."},
			{Name: "expirationDateTime", Type: schema.TimestampType, Doc: "When the subscription expires unless flowd renews it."},
			{Name: "record", Type: schema.ObjectOf(ent.Name), Doc: "The record as Business Central returned it after the notification; only its id for a deleted record."},
		}, nil)
		if err != nil {
			return err
		}
		c.Objects[name] = o
		for _, t := range ChangeTypes {
			ev := EventName(set, t)
			c.Events[ev] = &schema.Event{Name: ev, Envelope: name, Object: ent.Name}
		}
	}
	return nil
}
