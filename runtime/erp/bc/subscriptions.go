package bc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
)

// Webhook subscriptions (api-reference/v2.0/dynamics-subscriptions.md):
//
//   - POST <api>/subscriptions {notificationUrl, resource, clientState}
//     creates one (201); BC first calls notificationUrl?validationToken=...
//     and creates it only when the answer is 200 with the token as body.
//   - A subscription expires after three days unless renewed: PATCH
//     <api>/subscriptions('<id>') with If-Match: its @odata.etag and the
//     same body, which repeats the handshake.
//   - DELETE <api>/subscriptions('<id>') removes it.
//   - clientState (at most 2,048 characters) is echoed in every
//     notification: flowd uses it as a shared secret.
//
// Subscriptions live at the API root, beside companies; the resource is
// the path of a company's collection, "/api/v2.0/companies(<id>)/customers".

// Subscription is a webhook subscription as BC returns it.
type Subscription struct {
	ID              string    `json:"subscriptionId"`
	NotificationURL string    `json:"notificationUrl"`
	Resource        string    `json:"resource"`
	ClientState     string    `json:"clientState"`
	Expiration      time.Time `json:"expirationDateTime"`
	ETag            string    `json:"@odata.etag"`
}

// MaxClientState is the longest clientState BC keeps.
const MaxClientState = 2048

// apiPath is the path of the API root as a notification's resource starts
// with it: "/api/v2.0" (whatever tenant and environment precede it).
func (d *Driver) apiPath() string {
	u, err := url.Parse(d.service)
	if err != nil {
		return "/api/v2.0"
	}
	if i := strings.LastIndex(u.Path, "/api/"); i >= 0 {
		return u.Path[i:]
	}
	return "/api/v2.0"
}

// Resource is the subscription resource of an entity set of the company:
// "/api/v2.0/companies(<id>)/customers".
func (d *Driver) Resource(ctx context.Context, set string) (string, error) {
	if _, err := d.entity(set); err != nil {
		return "", err
	}
	company, err := d.company(ctx)
	if err != nil {
		return "", err
	}
	return d.apiPath() + strings.TrimPrefix(company, d.service) + "/" + set, nil
}

// Subscriptions lists the subscriptions BC holds for the credentials.
func (d *Driver) Subscriptions(ctx context.Context) ([]Subscription, error) {
	const what = "GET subscriptions"
	var out []Subscription
	err := d.pages(ctx, d.service+"/subscriptions", what, func(raw json.RawMessage) (bool, error) {
		var sub Subscription
		if err := json.Unmarshal(raw, &sub); err != nil {
			return false, fmt.Errorf("want a subscription, got %s", odata.FirstLine("nothing", raw))
		}
		out = append(out, sub)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// subscriptionBody is what a create or renewal sends.
func subscriptionBody(notificationURL, resource, clientState string) ([]byte, error) {
	if u, err := url.Parse(notificationURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, permanent("subscription: notificationUrl %q is not an http(s) URL", notificationURL)
	}
	if len(clientState) > MaxClientState {
		return nil, permanent("subscription: clientState is longer than %d characters", MaxClientState)
	}
	return json.Marshal(map[string]string{"notificationUrl": notificationURL, "resource": resource, "clientState": clientState})
}

// Subscribe creates a subscription to resource (see Resource). BC
// validates notificationURL before it answers, so the endpoint must be
// serving.
func (d *Driver) Subscribe(ctx context.Context, notificationURL, resource, clientState string) (Subscription, error) {
	const what = "POST subscriptions"
	body, err := subscriptionBody(notificationURL, resource, clientState)
	if err != nil {
		return Subscription{}, err
	}
	a, err := d.send(ctx, http.MethodPost, d.service+"/subscriptions", jsonHeader(), body)
	if err != nil {
		return Subscription{}, err
	}
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		return Subscription{}, d.failure(what, a)
	}
	return decodeSubscription(what, a)
}

// Renew extends s by another three days (BC repeats the handshake),
// under If-Match: its ETag; it returns the renewed subscription.
func (d *Driver) Renew(ctx context.Context, s Subscription) (Subscription, error) {
	const what = "PATCH subscriptions"
	body, err := subscriptionBody(s.NotificationURL, s.Resource, s.ClientState)
	if err != nil {
		return Subscription{}, err
	}
	h := jsonHeader()
	h.Set("If-Match", cmpOr(s.ETag, "*"))
	a, err := d.send(ctx, http.MethodPatch, d.subscriptionURL(s.ID), h, body)
	if err != nil {
		return Subscription{}, err
	}
	if a.status != http.StatusOK {
		return Subscription{}, d.failure(what, a)
	}
	return decodeSubscription(what, a)
}

// Unsubscribe deletes s; a subscription already gone is not an error.
func (d *Driver) Unsubscribe(ctx context.Context, s Subscription) error {
	h := http.Header{"If-Match": {cmpOr(s.ETag, "*")}}
	a, err := d.send(ctx, http.MethodDelete, d.subscriptionURL(s.ID), h, nil)
	if err != nil {
		return err
	}
	if a.status != http.StatusNoContent && a.status != http.StatusOK && a.status != http.StatusNotFound {
		return d.failure("DELETE subscriptions", a)
	}
	return nil
}

func (d *Driver) subscriptionURL(id string) string {
	return d.service + "/subscriptions(" + url.PathEscape(odata.Quote(id)) + ")"
}

func decodeSubscription(what string, a answer) (Subscription, error) {
	var s Subscription
	if err := json.Unmarshal(a.body, &s); err != nil || s.ID == "" {
		return Subscription{}, protocol(what, a, "want a subscription, got %s", odata.FirstLine("nothing", a.body))
	}
	if s.ETag == "" {
		s.ETag = a.header.Get("ETag")
	}
	return s, nil
}

// Changed is what a notification's resource names, read from BC.
type Changed struct {
	Set string // the entity set, "customers"
	// Records are the records the resource names: the one record of an
	// entity resource (none when it no longer exists), or every record a
	// collection resource's $filter matches.
	Records []erp.Record
	// Resources are the records' own resource paths, in the notification's
	// form ("api/v2.0/companies(<id>)/customers(<id>)").
	Resources []string
}

// ParseResource reads a notification's resource: its entity set, the
// record's id (for an entity resource) and the $filter (for a
// collection). The resource must be under this API and this company.
func (d *Driver) ParseResource(ctx context.Context, resource string) (set, id, filter string, err error) {
	path, rawQuery, _ := strings.Cut(strings.TrimSpace(resource), "?")
	rel, ok := strings.CutPrefix("/"+strings.TrimPrefix(path, "/"), d.apiPath()+"/")
	if !ok {
		return "", "", "", permanent("resource %q is not under %s", resource, d.apiPath())
	}
	parts := strings.Split(rel, "/")
	if len(parts) != 2 {
		return "", "", "", permanent("resource %q is not a company's entity set or record", resource)
	}
	company, err := d.company(ctx)
	if err != nil {
		return "", "", "", err
	}
	if !strings.EqualFold(parts[0], strings.TrimPrefix(company, d.service+"/")) {
		return "", "", "", permanent("resource %q is not in company %s", resource, d.cfg.Company)
	}
	set, key, hasKey := strings.Cut(parts[1], "(")
	if _, err := d.entity(set); err != nil {
		return "", "", "", err
	}
	if hasKey {
		id = strings.Trim(strings.TrimSuffix(key, ")"), "'{}")
		if !guidPattern.MatchString(id) {
			return "", "", "", permanent("resource %q: record id %q is not a GUID", resource, id)
		}
		return set, strings.ToLower(id), "", nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "", "", permanent("resource %q: %v", resource, err)
	}
	return set, "", q.Get("$filter"), nil
}

// FetchChanged reads the records a notification's resource names: the
// record of an entity resource (none when BC no longer has it), or, for
// a collection notification, every record its $filter matches (following
// @odata.nextLink).
func (d *Driver) FetchChanged(ctx context.Context, resource string) (Changed, error) {
	set, id, filter, err := d.ParseResource(ctx, resource)
	if err != nil {
		return Changed{}, err
	}
	obj, _ := d.entity(set)
	company, err := d.company(ctx)
	if err != nil {
		return Changed{}, err
	}
	out := Changed{Set: set}
	recordPath := func(id string) string {
		return strings.TrimPrefix(d.apiPath(), "/") + strings.TrimPrefix(company, d.service) + "/" + set + "(" + id + ")"
	}
	if id != "" {
		s, err := d.get(ctx, set, obj, company+"/"+set+"("+id+")")
		if e, ok := err.(*erp.Error); ok && e.Status == http.StatusNotFound {
			return out, nil
		}
		if err != nil {
			return Changed{}, err
		}
		out.Records, out.Resources = []erp.Record{s.rec}, []string{recordPath(id)}
		return out, nil
	}
	next := company + "/" + set
	if filter != "" {
		next += "?$filter=" + queryEscape(filter)
	}
	what := "GET " + set
	err = d.pages(ctx, next, what, func(raw json.RawMessage) (bool, error) {
		rec, _, err := decodeRecord(set, obj, raw)
		if err != nil {
			return false, err
		}
		rid, _ := rec["id"].(string)
		if !guidPattern.MatchString(rid) {
			return false, errors.New("a record without a GUID id")
		}
		out.Records = append(out.Records, rec)
		out.Resources = append(out.Resources, recordPath(strings.ToLower(rid)))
		return false, nil
	})
	if err != nil {
		return Changed{}, err
	}
	return out, nil
}

// String describes s for logs, without its clientState.
func (s Subscription) String() string {
	return fmt.Sprintf("subscription %s on %s (expires %s)", s.ID, s.Resource, s.Expiration.UTC().Format(time.RFC3339))
}
