package engine

import (
	"sync"
	"time"

	"github.com/flowhq/flow/runtime/erp"
)

// LookupCache remembers records that lookups found (or created) for a
// while, so that the thousandth charge of a customer does not ask the ERP
// for the customer again. Only hits are kept: a miss is always asked again,
// so a record created in the ERP meanwhile is found. Records a flow reads
// through a lookup are reference data (customers, orders); a change made in
// the ERP reaches flows within TTL.
type LookupCache struct {
	TTL time.Duration // how long a record is trusted
	Max int           // entries kept at most; when full the cache starts over

	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	rec erp.Record
	exp time.Time
}

// NewLookupCache returns a cache with the given TTL, holding at most max
// records.
func NewLookupCache(ttl time.Duration, max int) *LookupCache {
	return &LookupCache{TTL: ttl, Max: max}
}

func (c *LookupCache) get(key string, now time.Time) (erp.Record, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.After(e.exp) {
		return nil, false
	}
	return e.rec, true
}

func (c *LookupCache) put(key string, rec erp.Record, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.Max {
		c.m = map[string]cached{}
	}
	c.m[key] = cached{rec: rec, exp: now.Add(c.TTL)}
}
