package stripe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/form"

	"github.com/flowhq/flow/runtime/erp"
	schema "github.com/flowhq/flow/stdlib/stripe"
)

// The Client creates Stripe objects for flows that write to the gateway
// (`create stripe.Customer key ... { ... }`): it implements erp.Driver, and
// flowd binds it for the stripe import when a flow writes there.
//
// Every create is sent with an Idempotency-Key derived from the flow's key
// (IdempotencyKey), so a create Stripe already performed is answered with
// its first result instead of being done again (Stripe keeps keys at least
// 24 hours), and the same value is kept in the object's
// metadata["flow_key"], so that Find settles a write in doubt later too:
// customers by the Search API, refunds among the refunds of their charge or
// payment intent.
var _ erp.Driver = (*Client)(nil)

// IdempotencyKey is the Idempotency-Key (and metadata["flow_key"]) a create
// of entity with the flow's key is sent with: "flow-" and the hex SHA-256 of
// both, so any key fits Stripe's limits and the header leaks nothing of it.
func IdempotencyKey(entity, key string) string {
	sum := sha256.Sum256([]byte(entity + "\x00" + key))
	return "flow-" + hex.EncodeToString(sum[:])
}

// Write creates the object w names. Only creates are possible.
func (c *Client) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	if w.Op != erp.Create {
		return nil, permanent(fmt.Errorf("stripe: flows can only create %s objects, not %s them", w.Entity, w.Op))
	}
	if w.Key == "" {
		return nil, permanent(fmt.Errorf("stripe: create %s without an idempotency key", w.Entity))
	}
	idem := IdempotencyKey(w.Entity, w.Key)
	var (
		path   string
		params stripego.ParamsContainer
		err    error
	)
	switch w.Entity {
	case "Customer":
		path = "/v1/customers"
		var cp *stripego.CustomerParams
		if cp, err = customerParams(w.Fields); err == nil {
			cp.AddMetadata(schema.MetadataKey, idem)
			params = cp
		}
	case "Refund":
		path = "/v1/refunds"
		var rp *stripego.RefundParams
		if rp, err = refundParams(w.Fields); err == nil {
			rp.AddMetadata(schema.MetadataKey, idem)
			params = rp
		}
	default:
		return nil, permanent(fmt.Errorf("stripe: flows cannot create %s objects", w.Entity))
	}
	if err != nil {
		return nil, permanent(fmt.Errorf("stripe: create %s: %w", w.Entity, err))
	}
	p := params.GetParams()
	p.Context = ctx
	p.IdempotencyKey = stripego.String(idem)
	var res rawResponse
	if err := c.backend.Call(http.MethodPost, path, c.key, params, &res); err != nil {
		return nil, writeError(w.Entity, err)
	}
	var obj map[string]any
	if err := res.decode(&obj); err != nil {
		return nil, &erp.Error{Kind: erp.InDoubt, Message: fmt.Sprintf("stripe: create %s: %v: %v", w.Entity, ErrUnexpectedResponse, err), Err: err}
	}
	return obj, nil
}

// Find returns the object an earlier attempt of w created, by the
// flow_key metadata its create set.
func (c *Client) Find(ctx context.Context, w erp.Write) (erp.Record, bool, error) {
	idem := IdempotencyKey(w.Entity, w.Key)
	switch w.Entity {
	case "Customer":
		q := &form.Values{}
		q.Add("query", fmt.Sprintf("metadata['%s']:'%s'", schema.MetadataKey, idem))
		q.Add("limit", "1")
		return c.findIn(ctx, w.Entity, "/v1/customers/search", q, idem)
	case "Refund":
		q := &form.Values{}
		q.Add("limit", "100")
		if ch, _ := plain(w.Fields["charge"]).(string); ch != "" {
			q.Add("charge", ch)
		} else if pi, _ := plain(w.Fields["payment_intent"]).(string); pi != "" {
			q.Add("payment_intent", pi)
		} else {
			return nil, false, nil
		}
		return c.findIn(ctx, w.Entity, "/v1/refunds", q, idem)
	}
	return nil, false, permanent(fmt.Errorf("stripe: flows cannot create %s objects", w.Entity))
}

// findIn reads one page of a list or search and returns the item whose
// flow_key is idem.
func (c *Client) findIn(ctx context.Context, entity, path string, q *form.Values, idem string) (erp.Record, bool, error) {
	params := &stripego.Params{Context: ctx}
	var res rawResponse
	if err := c.backend.CallRaw(http.MethodGet, path, c.key, q, params, &res); err != nil {
		return nil, false, writeError(entity, err)
	}
	var page listPage
	if err := res.decode(&page); err != nil {
		return nil, false, fmt.Errorf("stripe: find %s: %w: %v", entity, ErrUnexpectedResponse, err)
	}
	for _, item := range page.Data {
		md, _ := item["metadata"].(map[string]any)
		if md != nil && md[schema.MetadataKey] == idem {
			return item, true, nil
		}
	}
	return nil, false, nil
}

// Lookup is not offered: the checker refuses lookups on a gateway.
func (c *Client) Lookup(context.Context, string, erp.Record) (erp.Record, bool, error) {
	return nil, false, permanent(errors.New("stripe: flows do not look up Stripe objects"))
}

// PostJournal is not offered: journals are posted to an ERP.
func (c *Client) PostJournal(context.Context, erp.Journal) (erp.Record, []erp.Record, error) {
	return nil, nil, permanent(errors.New("stripe: journals are posted to an ERP, not to Stripe"))
}

func customerParams(f erp.Record) (*stripego.CustomerParams, error) {
	p := &stripego.CustomerParams{}
	for _, name := range sortedNames(f) {
		v := f[name]
		var err error
		switch name {
		case "email":
			p.Email, err = optString(name, v)
		case "name":
			p.Name, err = optString(name, v)
		case "description":
			p.Description, err = optString(name, v)
		case "phone":
			p.Phone, err = optString(name, v)
		case "metadata":
			p.Metadata, err = metadata(v)
		default:
			err = fmt.Errorf("no parameter %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func refundParams(f erp.Record) (*stripego.RefundParams, error) {
	p := &stripego.RefundParams{}
	for _, name := range sortedNames(f) {
		v := f[name]
		var err error
		switch name {
		case "charge":
			p.Charge, err = optString(name, v)
		case "payment_intent":
			p.PaymentIntent, err = optString(name, v)
		case "reason":
			p.Reason, err = optString(name, v)
		case "amount":
			switch n := v.(type) {
			case nil:
			case int64:
				if n <= 0 {
					err = fmt.Errorf("amount %d: a refund's amount must be positive (minor units)", n)
				}
				p.Amount = stripego.Int64(n)
			default:
				err = fmt.Errorf("amount: want integer minor units, got %T", v)
			}
		case "metadata":
			p.Metadata, err = metadata(v)
		default:
			err = fmt.Errorf("no parameter %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	if p.Charge == nil && p.PaymentIntent == nil {
		return nil, errors.New("a refund needs a charge or a payment_intent")
	}
	return p, nil
}

func sortedNames(f erp.Record) []string {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// optString is a string parameter; an empty string or nil leaves it unset.
func optString(name string, v any) (*string, error) {
	switch s := plain(v).(type) {
	case nil:
		return nil, nil
	case string:
		if s == "" {
			return nil, nil
		}
		return stripego.String(s), nil
	}
	return nil, fmt.Errorf("%s: want a string, got %T", name, v)
}

// plain unwraps a value that carries a Go value (a CEL value).
func plain(v any) any {
	if x, ok := v.(interface{ Value() any }); ok {
		return x.Value()
	}
	return v
}

// metadata converts a flow's metadata map (a Go or CEL map of strings) to
// Stripe's, which flows may not use to set the runtime's flow_key.
func metadata(v any) (map[string]string, error) {
	v = plain(v)
	if v == nil {
		return nil, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return nil, fmt.Errorf("metadata: want a map of strings, got %T", v)
	}
	out := make(map[string]string, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		k, kok := plain(it.Key().Interface()).(string)
		val, vok := plain(it.Value().Interface()).(string)
		if !kok || !vok {
			return nil, fmt.Errorf("metadata: keys and values must be strings")
		}
		if k == schema.MetadataKey {
			return nil, fmt.Errorf("metadata: %q is where the runtime keeps the idempotency key", k)
		}
		out[k] = val
	}
	return out, nil
}

// permanent is a failure that retrying cannot fix.
func permanent(err error) error {
	return &erp.Error{Kind: erp.Permanent, Message: err.Error(), Err: err}
}

// writeError classifies a Stripe failure for the executor: 4xx answers are
// permanent, the rest (429, 409, 5xx, the network) transient. A create
// whose answer was lost may have happened, but repeating it with its
// Idempotency-Key is safe, so it is retried rather than settled.
func writeError(entity string, err error) error {
	kind := erp.Permanent
	if Transient(err) {
		kind = erp.Transient
	}
	e := &erp.Error{Kind: kind, Message: fmt.Sprintf("stripe: %s: %v", entity, err), Err: err}
	var se *stripego.Error
	if errors.As(err, &se) {
		e.Status, e.Code = se.HTTPStatusCode, string(se.Code)
	}
	return e
}
