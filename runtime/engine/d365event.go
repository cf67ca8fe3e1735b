package engine

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// d365Event reads a Dynamics 365 F&O business event (DecodeEvent tells one
// by its BusinessEventId): Source is "d365fo", Type the BusinessEventId, ID
// what D365EventID says, and Received EventTimeIso8601 (or the WCF
// "/Date(ms)/" of EventTime).
func d365Event(body *jsonval.Object, typ string) (*Event, error) {
	id, err := D365EventID(body)
	if err != nil {
		return nil, err
	}
	var received time.Time
	if t, err := time.Parse(time.RFC3339Nano, stringField(body, "EventTimeIso8601")); err == nil {
		received = t.UTC()
	} else if ms, ok := strings.CutPrefix(stringField(body, "EventTime"), "/Date("); ok {
		ms, _, _ = strings.Cut(ms, ")")
		if n, err := strconv.ParseInt(ms, 10, 64); err == nil {
			received = time.UnixMilli(n).UTC()
		}
	}
	return &Event{ID: id, Source: "d365fo", Type: typ, Received: received, Body: body}, nil
}

// D365EventID is the id flow keeps a business event by, so that a
// redelivery is a duplicate: its EventId (a GUID, lower-cased, without
// braces), else "cn:" and its ControlNumber. An event with neither is an
// error.
func D365EventID(body *jsonval.Object) (string, error) {
	if id := strings.ToLower(strings.Trim(strings.TrimSpace(stringField(body, "EventId")), "{}")); id != "" {
		return id, nil
	}
	v, _ := body.Get("ControlNumber")
	var s string
	switch n := v.(type) {
	case json.Number:
		s = string(n)
	case string:
		s = n
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && i > 0 {
		return "cn:" + strconv.FormatInt(i, 10), nil
	}
	return "", errors.New("not a business event: no EventId nor ControlNumber")
}
