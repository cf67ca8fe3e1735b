package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// bcEvent reads a Business Central change event as flowd stores it (and
// `flowc test` takes it): the notification's subscriptionId, resource,
// changeType and lastModifiedDateTime, the record flowd fetched
// ("record"), and "event", the event flows trigger on
// ("customers.created"). A test may leave "event" out when changeType is
// created, updated or deleted: the entity set is read from the resource.
// Source is "bc", ID what BCEventID says, Received lastModifiedDateTime.
func bcEvent(body *jsonval.Object) (*Event, error) {
	res, change := stringField(body, "resource"), stringField(body, "changeType")
	typ := stringField(body, "event")
	if typ == "" {
		set := BCResourceSet(res)
		if set == "" || change == "collection" {
			return nil, errors.New(`a Business Central change event needs an "event" ("customers.created") or a record's resource and its changeType`)
		}
		typ = set + "." + change
	}
	if res == "" {
		return nil, errors.New("a Business Central change event needs a resource")
	}
	modified := stringField(body, "lastModifiedDateTime")
	var received time.Time
	if t, err := time.Parse(time.RFC3339Nano, modified); err == nil {
		received = t.UTC()
	}
	return &Event{ID: BCEventID(res, change, modified, typ), Source: "bc", Type: typ, Received: received, Body: body}, nil
}

// BCEventID is the id flow keeps a Business Central change by, so that a
// notification sent again is a duplicate: a digest of its resource,
// changeType and lastModifiedDateTime, and (for the records of a
// collection notification, delivered to two events) the event type. The
// subscription is left out: two subscriptions to one resource (two
// replicas subscribing at once, or a renewal that had to start over) each
// deliver the change, and it must still run once.
func BCEventID(resource, changeType, lastModified, eventType string) string {
	parts := []string{strings.TrimPrefix(resource, "/"), changeType, lastModified}
	if changeType == "collection" {
		parts = append(parts, eventType)
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "bc_" + hex.EncodeToString(sum[:16])
}

// BCResourceSet is the entity set a notification's resource names, the
// last segment without its key or query:
// "api/v2.0/companies(c)/customers(id)" is "customers"; "" when there is
// none.
func BCResourceSet(resource string) string {
	resource, _, _ = strings.Cut(resource, "?")
	resource = strings.TrimSuffix(resource, "/")
	if i := strings.LastIndexByte(resource, '/'); i >= 0 {
		resource = resource[i+1:]
	}
	set, _, _ := strings.Cut(resource, "(")
	if set == "companies" {
		return ""
	}
	return set
}
