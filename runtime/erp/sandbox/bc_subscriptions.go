package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	bcschema "github.com/flowhq/flow/stdlib/bc"
)

// Business Central's webhook subscriptions, as the bc dialect serves them
// at /api/v2.0/subscriptions (api-reference/v2.0/dynamics-subscriptions.md):
//
//   - POST creates one from {notificationUrl, resource, clientState}, but
//     only after a handshake: the sandbox POSTs to
//     notificationUrl?validationToken=<token> and wants 200 with the token
//     as the body. PATCH subscriptions('<id>') (If-Match required) renews
//     it with the same handshake; DELETE removes it. A subscription
//     expires three days after it was created or last renewed.
//   - A create, update or delete of a record of a subscribed set (through
//     the API, outside a snapshot $batch) is queued per subscription; once
//     Config.BCNotifyDelay has passed since the first queued change (30 s
//     as BC online), one notification {"value": [...]} is POSTed with an
//     entry per record (changes to one record coalesced), or, when more
//     than Config.BCMaxNotifications records changed, one "collection"
//     entry whose resource filters the set on lastModifiedDateTime.
//   - A notification answered 408, 429 or 5xx (or not answered) is sent
//     again a few times; any other failure deletes the subscription, as BC
//     does.
//
// Subscriptions are held in memory: a restarted sandbox has none.

// bcSubscriptionLife is how long a subscription lives unless renewed.
const bcSubscriptionLife = 72 * time.Hour

// bcMaxSubscriptions is how many subscriptions BC online allows.
const bcMaxSubscriptions = 200

// bcSubs are the dialect's subscriptions and the changes queued for them.
type bcSubs struct {
	mu      sync.Mutex
	subs    map[string]*bcSub
	pending map[string]*bcPending // by subscription id
	client  *http.Client
}

func newBCSubs() *bcSubs {
	return &bcSubs{subs: map[string]*bcSub{}, pending: map[string]*bcPending{}, client: &http.Client{Timeout: 30 * time.Second}}
}

type bcSub struct {
	id, notificationURL, resource, clientState string
	set                                        string
	expires, modified                          time.Time
	version                                    int
}

// bcPending is what one subscription's next notification says.
type bcPending struct {
	first   time.Time
	changes map[string]*bcChange // by record id
	order   []string
}

type bcChange struct {
	changeType string
	at         time.Time
}

// BCSubscription is a subscription the sandbox holds, for tests.
type BCSubscription struct {
	ID, NotificationURL, Resource string
	Expires                       time.Time
}

// BCSubscriptions returns the subscriptions that have not expired, by id.
func (s *Server) BCSubscriptions() []BCSubscription {
	if s.bc == nil {
		return nil
	}
	now := s.cfg.Now()
	ss := s.bc.subs
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var out []BCSubscription
	for _, sub := range ss.subs {
		if now.Before(sub.expires) {
			out = append(out, BCSubscription{ID: sub.id, NotificationURL: sub.notificationURL, Resource: sub.resource, Expires: sub.expires})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// isBCSubscriptions reports whether an API path is the subscriptions
// resource.
func isBCSubscriptions(path string) bool {
	return path == "subscriptions" || strings.HasPrefix(path, "subscriptions(")
}

// serveBCSubscriptions answers /api/v2.0/subscriptions[('<id>')].
func (s *Server) serveBCSubscriptions(w http.ResponseWriter, r *http.Request, path string) {
	s.count(r.Method + " subscriptions")
	s.faulty(w, r, func(body []byte) reply {
		return s.bcSubscriptionOp(r.Context(), r.Method, path, r.Header, body)
	})
}

func (s *Server) bcSubscriptionOp(ctx context.Context, method, path string, h http.Header, body []byte) reply {
	seg, ok := parseSegment(path)
	if !ok {
		return bcError(http.StatusNotFound, "BadRequest_ResourceNotFound", "Resource not found for the segment '%s'.", path).reply()
	}
	ss := s.bc.subs
	if !seg.hasID {
		switch method {
		case http.MethodGet:
			return s.bcSubscriptionList()
		case http.MethodPost:
			return s.bcSubscribe(ctx, body)
		}
		return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "'%s' requests for 'subscriptions' of EdmType 'EntitySet' are not allowed.", method).reply()
	}
	ss.mu.Lock()
	sub, found := ss.subs[seg.id]
	if found && !s.cfg.Now().Before(sub.expires) {
		delete(ss.subs, seg.id)
		found = false
	}
	var cur bcSub
	if found {
		cur = *sub
	}
	ss.mu.Unlock()
	if !found {
		return bcError(http.StatusNotFound, "BadRequest_NotFound", "The subscription does not exist. Identification fields and values: Subscription Id='%s'", seg.id).reply()
	}
	if method == http.MethodGet {
		return bcSubscriptionReply(http.StatusOK, cur)
	}
	if m := strings.TrimSpace(h.Get("If-Match")); m == "" {
		return bcError(http.StatusBadRequest, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.").reply()
	} else if m != "*" && m != bcSubscriptionETag(cur) {
		return bcError(http.StatusConflict, "Request_EntityChanged", "Another user has already changed the record.").reply()
	}
	switch method {
	case http.MethodDelete:
		ss.mu.Lock()
		delete(ss.subs, seg.id)
		delete(ss.pending, seg.id)
		ss.mu.Unlock()
		return reply{status: http.StatusNoContent}
	case http.MethodPatch:
		in, herr := s.bcSubscriptionBody(body, &cur)
		if herr != nil {
			return herr.reply()
		}
		if herr := s.bcHandshake(ctx, in.notificationURL); herr != nil {
			return herr.reply()
		}
		now := s.cfg.Now()
		ss.mu.Lock()
		defer ss.mu.Unlock()
		sub, found := ss.subs[seg.id]
		if !found || sub.version != cur.version {
			return bcError(http.StatusConflict, "Request_EntityChanged", "Another user has already changed the record.").reply()
		}
		sub.notificationURL, sub.resource, sub.set, sub.clientState = in.notificationURL, in.resource, in.set, in.clientState
		sub.expires, sub.modified, sub.version = now.Add(bcSubscriptionLife), now, sub.version+1
		return bcSubscriptionReply(http.StatusOK, *sub)
	}
	return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "'%s' requests for 'subscriptions' of EdmType 'Entity' are not allowed.", method).reply()
}

func (s *Server) bcSubscriptionList() reply {
	var b bytes.Buffer
	b.WriteString(`{"value":[`)
	ss := s.bc.subs
	now := s.cfg.Now()
	ss.mu.Lock()
	ids := make([]string, 0, len(ss.subs))
	for id, sub := range ss.subs {
		if now.Before(sub.expires) {
			ids = append(ids, id)
		} else {
			delete(ss.subs, id)
		}
	}
	sort.Strings(ids)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(bcSubscriptionJSON(*ss.subs[id]))
	}
	ss.mu.Unlock()
	b.WriteString(`]}`)
	return reply{status: http.StatusOK, header: http.Header{"Content-Type": {bcContentType}}, body: b.Bytes()}
}

// bcSubscribe answers POST subscriptions: the handshake, then the
// subscription.
func (s *Server) bcSubscribe(ctx context.Context, body []byte) reply {
	in, herr := s.bcSubscriptionBody(body, nil)
	if herr != nil {
		return herr.reply()
	}
	ss := s.bc.subs
	ss.mu.Lock()
	n := len(ss.subs)
	ss.mu.Unlock()
	if n >= bcMaxSubscriptions {
		return bcError(http.StatusBadRequest, "BadRequest", "The maximum number of subscriptions (%d) has been reached.", bcMaxSubscriptions).reply()
	}
	if herr := s.bcHandshake(ctx, in.notificationURL); herr != nil {
		return herr.reply()
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	now := s.cfg.Now()
	in.id, in.expires, in.modified, in.version = hex.EncodeToString(b[:]), now.Add(bcSubscriptionLife), now, 1
	ss.mu.Lock()
	ss.subs[in.id] = &in
	ss.mu.Unlock()
	return bcSubscriptionReply(http.StatusCreated, in)
}

// bcSubscriptionBody reads a create's or renewal's body; on a renewal,
// what it leaves out stays as cur has it.
func (s *Server) bcSubscriptionBody(body []byte, cur *bcSub) (bcSub, *httpError) {
	var in struct {
		NotificationURL *string `json:"notificationUrl"`
		Resource        *string `json:"resource"`
		ClientState     *string `json:"clientState"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return bcSub{}, bcError(http.StatusBadRequest, "BadRequest", "Invalid Request Body")
	}
	var out bcSub
	if cur != nil {
		out = *cur
	}
	if in.NotificationURL != nil {
		out.notificationURL = *in.NotificationURL
	}
	if in.Resource != nil {
		out.resource = *in.Resource
	}
	if in.ClientState != nil {
		out.clientState = *in.ClientState
	}
	if u, err := url.Parse(out.notificationURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bcSub{}, bcError(http.StatusBadRequest, "BadRequest", "The notificationUrl '%s' is not valid.", out.notificationURL)
	}
	if len(out.clientState) > 2048 {
		return bcSub{}, bcError(http.StatusBadRequest, "Application_StringExceededLength", "The length of the string is %d, but it must be less than or equal to 2048 characters.", len(out.clientState))
	}
	prefix := "/api/v2.0/companies(" + s.bc.companyID + ")/"
	set, ok := strings.CutPrefix("/"+strings.TrimPrefix(out.resource, "/"), prefix)
	if !ok || !slices.Contains(bcschema.WebhookSets, set) || s.ents[set] == nil {
		return bcSub{}, bcError(http.StatusBadRequest, "BadRequest", "The resource '%s' is not supported for webhooks.", out.resource)
	}
	out.set = set
	return out, nil
}

// bcHandshake POSTs to notificationURL?validationToken=<token> and wants
// 200 with the token as the body.
func (s *Server) bcHandshake(ctx context.Context, notificationURL string) *httpError {
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	u, _ := url.Parse(notificationURL) // checked by bcSubscriptionBody
	q := u.Query()
	q.Set("validationToken", tok)
	u.RawQuery = q.Encode()
	fail := func(why string) *httpError {
		s.log.Info("sandbox: webhook handshake failed", "url", notificationURL, "why", why)
		return bcError(http.StatusBadRequest, "BadRequest", "The subscription could not be validated: the notification URL %s %s.", notificationURL, why)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return fail("cannot be called")
	}
	resp, err := s.bc.subs.client.Do(req)
	if err != nil {
		return fail("did not answer")
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Sprintf("answered %d", resp.StatusCode))
	}
	if strings.TrimSpace(string(got)) != tok {
		return fail("did not return the validationToken")
	}
	return nil
}

func bcSubscriptionETag(sub bcSub) string {
	return `W/"` + base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "'%d;%s;'", sub.version, sub.id)) + `"`
}

func bcSubscriptionJSON(sub bcSub) []byte {
	b, _ := json.Marshal(map[string]string{ // strings only
		"@odata.etag":          bcSubscriptionETag(sub),
		"subscriptionId":       sub.id,
		"notificationUrl":      sub.notificationURL,
		"resource":             sub.resource,
		"userId":               emptyGUID,
		"lastModifiedDateTime": sub.modified.UTC().Format(time.RFC3339),
		"clientState":          sub.clientState,
		"expirationDateTime":   sub.expires.UTC().Format(time.RFC3339),
	})
	return b
}

func bcSubscriptionReply(status int, sub bcSub) reply {
	return reply{status: status, header: http.Header{"Content-Type": {bcContentType}, "Etag": {bcSubscriptionETag(sub)}}, body: bcSubscriptionJSON(sub)}
}

// bcChanged queues a notification for the subscriptions of the set an
// API write (c, answered rep) created, updated or deleted a record of.
func (s *Server) bcChanged(c call, rep reply) {
	if rep.status >= 300 || c.method == http.MethodGet {
		return
	}
	parts := strings.Split(c.path, "/")
	last, ok := parseSegment(parts[len(parts)-1])
	if !ok || bcKind(c.path) == "action" {
		return
	}
	var changeType, id string
	switch {
	case c.method == http.MethodPost && !last.hasID:
		changeType = "created"
		loc := rep.header.Get("Location")
		if i := strings.LastIndexByte(loc, '('); i >= 0 {
			id = strings.TrimSuffix(loc[i+1:], ")")
		}
	case (c.method == http.MethodPatch || c.method == http.MethodPut) && last.hasID:
		changeType, id = "updated", last.id
	case c.method == http.MethodDelete && last.hasID:
		changeType, id = "deleted", last.id
	}
	if changeType == "" || id == "" {
		return
	}
	now := s.cfg.Now()
	var written struct {
		LastModified time.Time `json:"lastModifiedDateTime"`
	}
	if json.Unmarshal(rep.body, &written) == nil && !written.LastModified.IsZero() {
		now = written.LastModified // the record's own time, which a collection's $filter selects by
	}
	s.bcQueue(last.name, strings.ToLower(id), changeType, now)
}

// bcQueue queues one change, made at now, for every live subscription to
// set.
func (s *Server) bcQueue(set, id, changeType string, now time.Time) {
	ss := s.bc.subs
	delay := s.cfg.BCNotifyDelay
	if delay <= 0 {
		delay = 30 * time.Second
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for sid, sub := range ss.subs {
		if sub.set != set || !s.cfg.Now().Before(sub.expires) {
			continue
		}
		p := ss.pending[sid]
		if p == nil {
			p = &bcPending{first: now, changes: map[string]*bcChange{}}
		} else if now.Before(p.first) {
			p.first = now
		}
		if ss.pending[sid] == nil {
			ss.pending[sid] = p
			time.AfterFunc(delay, func() { s.bcFlush(sid) })
		}
		ch := p.changes[id]
		switch {
		case ch == nil:
			p.changes[id] = &bcChange{changeType: changeType, at: now}
			p.order = append(p.order, id)
		case ch.changeType == "created" && changeType == "deleted":
			delete(p.changes, id) // never seen: nothing to say
		case ch.changeType == "created":
			ch.at = now
		default:
			ch.changeType, ch.at = changeType, now
		}
	}
}

// bcFlush sends a subscription's queued changes.
func (s *Server) bcFlush(sid string) {
	ss := s.bc.subs
	ss.mu.Lock()
	p, sub := ss.pending[sid], ss.subs[sid]
	delete(ss.pending, sid)
	var cur bcSub
	if sub != nil {
		cur = *sub
	}
	ss.mu.Unlock()
	if p == nil || sub == nil || len(p.changes) == 0 {
		return
	}
	max := s.cfg.BCMaxNotifications
	if max <= 0 {
		max = 1000
	}
	company := "api/v2.0/companies(" + s.bc.companyID + ")/" + cur.set
	entry := func(resource, changeType string, at time.Time) map[string]string {
		return map[string]string{"subscriptionId": cur.id, "clientState": cur.clientState,
			"expirationDateTime": cur.expires.UTC().Format(time.RFC3339), "resource": resource,
			"changeType": changeType, "lastModifiedDateTime": at.UTC().Format("2006-01-02T15:04:05.000Z")}
	}
	var value []map[string]string
	if len(p.changes) > max {
		since := p.first.Add(-time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")
		value = append(value, entry("/"+company+"?$filter="+url.PathEscape("lastModifiedDateTime gt "+since), "collection", s.cfg.Now()))
	} else {
		for _, id := range p.order {
			if ch := p.changes[id]; ch != nil {
				value = append(value, entry(company+"("+id+")", ch.changeType, ch.at))
			}
		}
	}
	body, _ := json.Marshal(map[string]any{"value": value}) // strings only
	s.bcNotify(cur, body)
}

// bcNotify POSTs a notification, again after a 408, 429 or 5xx (a few
// times); any other failure deletes the subscription.
func (s *Server) bcNotify(sub bcSub, body []byte) {
	wait := s.cfg.BCNotifyDelay
	if wait <= 0 || wait > 30*time.Second {
		wait = 30 * time.Second
	}
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(wait):
			case <-s.closing:
				return
			}
		}
		select {
		case <-s.closing:
			return
		default:
		}
		req, err := http.NewRequest(http.MethodPost, sub.notificationURL, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := s.bc.subs.client.Do(req)
		if err != nil {
			s.log.Info("sandbox: notification not delivered; retrying", "subscription", sub.id, "err", err)
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch st := resp.StatusCode; {
		case st >= 200 && st < 300:
			return
		case st == http.StatusRequestTimeout, st == http.StatusTooManyRequests, st >= 500:
			s.log.Info("sandbox: notification refused for now; retrying", "subscription", sub.id, "status", st)
			continue
		default:
			s.log.Info("sandbox: notification refused; deleting the subscription", "subscription", sub.id, "status", st)
			ss := s.bc.subs
			ss.mu.Lock()
			delete(ss.subs, sub.id)
			delete(ss.pending, sub.id)
			ss.mu.Unlock()
			return
		}
	}
}
