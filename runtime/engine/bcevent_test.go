package engine

import (
	"strings"
	"testing"
)

func TestDecodeBCEvent(t *testing.T) {
	const res = "api/v2.0/companies(f64eba74-dacd-4854-a584-1834f68cfc3a)/customers(130bbd17-dbb9-4790-9b12-2b0e9c9d22c3)"
	for _, tc := range []struct {
		name, in, typ, err string
	}{
		{"derived from the resource", `{"subscriptionId": "s", "resource": "` + res + `", "changeType": "created", "lastModifiedDateTime": "2024-07-03T09:46:40.467Z"}`, "customers.created", ""},
		{"named", `{"event": "customers.updated", "subscriptionId": "s", "resource": "` + res + `", "changeType": "collection"}`, "customers.updated", ""},
		{"a collection needs a name", `{"subscriptionId": "s", "resource": "` + res + `", "changeType": "collection"}`, "", "needs an \"event\""},
		{"no resource", `{"event": "customers.created", "subscriptionId": "s", "changeType": "created"}`, "", "needs a resource"},
		{"a company is no set", `{"subscriptionId": "s", "resource": "api/v2.0/companies(x)", "changeType": "created"}`, "", "needs an \"event\""},
	} {
		ev, err := DecodeEvent([]byte(tc.in))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case ev.Source != "bc" || ev.Type != tc.typ || !strings.HasPrefix(ev.ID, "bc_"):
			t.Errorf("%s: %+v", tc.name, ev)
		}
	}
	a := BCEventID("/"+res, "created", "t", "customers.created")
	if a != BCEventID(res, "created", "t", "customers.updated") || a == BCEventID(res, "updated", "t", "customers.updated") {
		t.Error("BCEventID: the leading slash and, outside collections, the type must not matter; the change must")
	}
	if BCEventID(res, "collection", "t", "customers.created") == BCEventID(res, "collection", "t", "customers.updated") {
		t.Error("BCEventID: a collection's record is one event per type")
	}
}
