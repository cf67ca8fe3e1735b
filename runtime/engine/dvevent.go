package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// Dataverse webhook events. Dataverse posts a step's execution context,
// the DataContract JSON of Microsoft.Xrm.Sdk.RemoteExecutionContext
// (testdata/dataverse/account_create.json is one, with its sources): the
// context's properties (MessageName, PrimaryEntityName, PrimaryEntityId,
// CorrelationId, RequestId, OperationCreatedOn as "/Date(ms)/", ...) and
// InputParameters, PreEntityImages and PostEntityImages as lists of
// {"key", "value"} pairs, an entity's Attributes likewise, with typed
// values ({"__type": "Money:...", "Value": 12.5}, EntityReference,
// OptionSetValue).
//
// Flows read a flat form of it instead, which is what flowd stores and
// what FlattenDataverse returns: the scalar properties (dates as RFC 3339,
// GUIDs in lower case without braces) and the record as plain objects:
//
//	{"MessageName": "Create", "PrimaryEntityName": "account", ...,
//	 "target": {"accountid": "...", "name": "Contoso", "creditlimit": 10000,
//	            "_primarycontactid_value": "...", "statecode": 0, ...},
//	 "pre": {...}, "post": {...}}
//
// Flattening an already flat event gives it back unchanged, so flowc
// reads both forms.

// dataverseEnvelope is the context's properties kept in the flat form.
var dataverseEnvelope = []string{
	"MessageName", "PrimaryEntityName", "PrimaryEntityId", "SecondaryEntityName", "OperationCreatedOn",
	"CorrelationId", "RequestId", "OperationId", "UserId", "InitiatingUserId", "BusinessUnitId",
	"OrganizationId", "OrganizationName", "Depth", "Stage", "Mode", "MessageSizeExceeded",
}

// dataverseGUIDs are the envelope properties that are GUIDs.
var dataverseGUIDs = map[string]bool{
	"PrimaryEntityId": true, "CorrelationId": true, "RequestId": true, "OperationId": true,
	"UserId": true, "InitiatingUserId": true, "BusinessUnitId": true, "OrganizationId": true,
}

const emptyGUID = "00000000-0000-0000-0000-000000000000"

// isDataverse reports whether a decoded payload is a Dataverse execution
// context, raw or flat.
func isDataverse(body *jsonval.Object) bool {
	return stringField(body, "MessageName") != "" && stringField(body, "PrimaryEntityName") != ""
}

// dataverseEvent reads a Dataverse webhook event (DecodeEvent tells one by
// its MessageName and PrimaryEntityName): Source is "dataverse", Type
// "<PrimaryEntityName>.<MessageName>" ("account.Create"), ID what
// DataverseEventID says, Received OperationCreatedOn, and Body the flat
// form.
func dataverseEvent(payload []byte) (*Event, error) {
	flat, err := FlattenDataverse(payload, false)
	if err != nil {
		return nil, err
	}
	body, err := jsonval.Parse(flat)
	if err != nil {
		return nil, fmt.Errorf("dataverse: the flat event does not parse: %v", err) // not reached: FlattenDataverse marshals an object
	}
	id, err := DataverseEventID(body)
	if err != nil {
		return nil, err
	}
	var received time.Time
	if t, err := time.Parse(time.RFC3339Nano, stringField(body, "OperationCreatedOn")); err == nil {
		received = t.UTC()
	}
	typ := stringField(body, "PrimaryEntityName") + "." + stringField(body, "MessageName")
	return &Event{ID: id, Source: "dataverse", Type: typ, Received: received, Body: body}, nil
}

// FlattenDataverse turns a RemoteExecutionContext (or its flat form) into
// the flat form flows read. sizeExceeded records that Dataverse trimmed
// the context (the x-ms-dynamics-msg-size-exceeded header): it then has no
// InputParameters nor images. It never panics on input; anything but a
// JSON object with a MessageName and a PrimaryEntityName is an error.
func FlattenDataverse(payload []byte, sizeExceeded bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var ctx map[string]any
	if err := dec.Decode(&ctx); err != nil || ctx == nil {
		return nil, errors.New("not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("not a single JSON object")
	}
	msg, _ := ctx["MessageName"].(string)
	table, _ := ctx["PrimaryEntityName"].(string)
	if msg == "" || table == "" {
		return nil, errors.New("not a Dataverse execution context: no MessageName or PrimaryEntityName")
	}
	out := map[string]any{}
	for _, k := range dataverseEnvelope {
		v, ok := ctx[k]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			if dataverseGUIDs[k] {
				x = normalGUID(x)
			} else if k == "OperationCreatedOn" {
				x = dataverseTime(x)
			}
			out[k] = x
		case json.Number, bool:
			out[k] = x
		}
	}
	if sizeExceeded {
		out["MessageSizeExceeded"] = true
	}
	id, _ := out["PrimaryEntityId"].(string)
	if t, ok := parameter(ctx["InputParameters"], "Target"); ok {
		if row := dataverseRow(t, table, id); row != nil {
			out["target"] = row
		}
	} else if row, ok := ctx["target"].(map[string]any); ok { // flat already
		out["target"] = flatRow(row)
	}
	for _, img := range [...]struct{ raw, flat string }{{"PreEntityImages", "pre"}, {"PostEntityImages", "post"}} {
		if list, ok := ctx[img.raw].([]any); ok {
			for _, kv := range list {
				if p, ok := kv.(map[string]any); ok {
					if row := dataverseRow(p["value"], table, id); row != nil {
						out[img.flat] = row
						break
					}
				}
			}
		} else if row, ok := ctx[img.flat].(map[string]any); ok {
			out[img.flat] = flatRow(row)
		}
	}
	return json.Marshal(out)
}

// DataverseEventID is the id flow keeps a Dataverse event by, so that a
// redelivery is a duplicate. Dataverse retries an asynchronous step's
// delivery from the context it persisted with the system job, so every
// property of a redelivery is the same; no single property tells two
// events apart, though: one request (RequestId) runs many messages on many
// rows, a chain of plug-ins shares one CorrelationId (and can update the
// same row twice, at another Depth), and a step and its twin on another
// stage share everything but Stage. So the id is the request and what
// ran in it: RequestId (else the system job's OperationId, else the
// CorrelationId with OperationCreatedOn), then message, table, row, stage
// and depth. An event with none of the three is an error.
func DataverseEventID(body *jsonval.Object) (string, error) {
	var base string
	switch {
	case realGUID(stringField(body, "RequestId")):
		base = "rq:" + stringField(body, "RequestId")
	case realGUID(stringField(body, "OperationId")):
		base = "op:" + stringField(body, "OperationId")
	case realGUID(stringField(body, "CorrelationId")):
		base = "co:" + stringField(body, "CorrelationId") + "@" + stringField(body, "OperationCreatedOn")
	default:
		return "", errors.New("not a Dataverse execution context: no RequestId, OperationId nor CorrelationId")
	}
	num := func(k string) string {
		v, _ := body.Get(k)
		if n, ok := v.(json.Number); ok {
			return string(n)
		}
		return "0"
	}
	return strings.Join([]string{base, stringField(body, "MessageName"), stringField(body, "PrimaryEntityName"),
		normalGUID(stringField(body, "PrimaryEntityId")), num("Stage"), num("Depth")}, ":"), nil
}

func realGUID(s string) bool {
	s = normalGUID(s)
	return s != "" && s != emptyGUID
}

// normalGUID lower-cases a GUID and drops its braces.
func normalGUID(s string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(s), "{}"))
}

// parameter returns the value of the named pair of a DataContract
// key/value list.
func parameter(list any, key string) (any, bool) {
	l, _ := list.([]any)
	for _, kv := range l {
		if p, ok := kv.(map[string]any); ok && p["key"] == key {
			return p["value"], true
		}
	}
	return nil, false
}

// dataverseRow flattens an Entity (or, on Delete, an EntityReference)
// into a row: its Attributes by name, its KeyAttributes, and the primary key
// (<logical name>id, the Dataverse convention) from its Id, else from the
// context's PrimaryEntityId. nil when v is neither.
func dataverseRow(v any, table, primaryID string) map[string]any {
	e, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	row := map[string]any{}
	attrs, hasAttrs := e["Attributes"].([]any)
	for _, kv := range attrs {
		p, ok := kv.(map[string]any)
		if !ok {
			continue
		}
		name, _ := p["key"].(string)
		if name == "" {
			continue
		}
		setColumn(row, name, p["value"])
	}
	if !hasAttrs && !isReference(e) {
		return nil
	}
	// A row written by alternate key (an upsert through the Web API)
	// carries the key's columns in KeyAttributes, not always in Attributes.
	keys, _ := e["KeyAttributes"].([]any)
	for _, kv := range keys {
		if p, ok := kv.(map[string]any); ok {
			if name, _ := p["key"].(string); name != "" {
				if _, set := row[name]; !set {
					setColumn(row, name, p["value"])
				}
			}
		}
	}
	logical, _ := e["LogicalName"].(string)
	if logical == "" {
		logical = table
	}
	pk := logical + "id"
	if _, set := row[pk]; !set && logical != "" {
		id, _ := e["Id"].(string)
		if !realGUID(id) && logical == table {
			id = primaryID
		}
		if realGUID(id) {
			row[pk] = normalGUID(id)
		}
	}
	return row
}

// setColumn sets one attribute: a lookup (EntityReference) as its GUID,
// under its own name, as the _<name>_value column the Web API reads it
// back as, and as <name>_<target table>, the navigation property of a
// polymorphic lookup (customerid_account).
func setColumn(row map[string]any, name string, v any) {
	if ref, ok := v.(map[string]any); ok && isReference(ref) {
		id, _ := ref["Id"].(string)
		id = normalGUID(id)
		row[name] = id
		row["_"+name+"_value"] = id
		if target, _ := ref["LogicalName"].(string); target != "" {
			if _, taken := row[name+"_"+target]; !taken {
				row[name+"_"+target] = id
			}
		}
		return
	}
	row[name] = dataverseValue(v)
}

// isReference reports whether m is an EntityReference: an Id and a
// LogicalName, no Attributes.
func isReference(m map[string]any) bool {
	_, id := m["Id"].(string)
	_, logical := m["LogicalName"].(string)
	_, attrs := m["Attributes"]
	return id && logical && !attrs
}

// dataverseValue turns a DataContract value into a plain one: Money and
// OptionSetValue as their Value, an EntityReference as its Id, an
// EntityCollection as a list of rows, a "/Date(ms)/" string as RFC 3339.
func dataverseValue(v any) any {
	switch x := v.(type) {
	case string:
		return dataverseTime(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dataverseValue(e)
		}
		return out
	case map[string]any:
		typ, _ := x["__type"].(string)
		switch {
		case isReference(x):
			id, _ := x["Id"].(string)
			return normalGUID(id)
		case strings.HasPrefix(typ, "EntityCollection:"):
			list, _ := x["Entities"].([]any)
			out := make([]any, 0, len(list))
			for _, e := range list {
				if row := dataverseRow(e, "", ""); row != nil {
					out = append(out, row)
				}
			}
			return out
		case strings.HasPrefix(typ, "Entity:"):
			if row := dataverseRow(x, "", ""); row != nil {
				return row
			}
		}
		if val, ok := x["Value"]; ok && len(x) <= 2 { // Money, OptionSetValue, BooleanManagedProperty
			return dataverseValue(val)
		}
		return x
	}
	return v
}

// flatRow re-reads a row of the flat form: values already plain stay so.
func flatRow(row map[string]any) map[string]any {
	out := make(map[string]any, len(row))
	for k, v := range row {
		out[k] = dataverseValue(v)
	}
	return out
}

// wcfDate is DataContract's date: milliseconds since the epoch and an
// optional offset, which does not change the instant.
var wcfDate = regexp.MustCompile(`^/Date\((-?\d+)([+-]\d{4})?\)/$`)

// dataverseTime rewrites a "/Date(ms)/" string as RFC 3339 (UTC); any
// other string is returned as it is.
func dataverseTime(s string) string {
	m := wcfDate.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	ms, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return s
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}
