package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/flowhq/flow/runtime/internal/stripemock"
)

// TestStripeMock runs the Client against stripe-mock, which checks every
// request against Stripe's OpenAPI spec and answers with its fixtures: the
// paths, query parameters and headers stripe-go sends are the real API's.
func TestStripeMock(t *testing.T) {
	url := stripemock.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := NewClient(testKey, url, &http.Client{Timeout: 5 * time.Second})

	t.Run("balance transactions", func(t *testing.T) {
		_, items, err := collect(c.BalanceTransactions(ctx, "po_123"))
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			t.Fatal("no balance transactions")
		}
		for _, bt := range items {
			if bt["object"] != "balance_transaction" {
				t.Errorf("object %v", bt["object"])
			}
			if _, ok := bt["net"].(json.Number); !ok {
				t.Errorf("net is %T, want json.Number", bt["net"])
			}
		}
	})
	t.Run("payout", func(t *testing.T) {
		po, err := c.Payout(ctx, "po_123")
		if err != nil {
			t.Fatal(err)
		}
		if po["object"] != "payout" || po["id"] != "po_123" {
			t.Errorf("payout %v", po)
		}
		if _, ok := po["arrival_date"].(json.Number); !ok {
			t.Errorf("arrival_date is %T, want json.Number", po["arrival_date"])
		}
	})
	t.Run("charge", func(t *testing.T) {
		ch, err := c.Charge(ctx, "ch_123")
		if err != nil {
			t.Fatal(err)
		}
		if ch["object"] != "charge" || ch["id"] != "ch_123" {
			t.Errorf("charge %v", ch)
		}
	})
	t.Run("bad key is permanent", func(t *testing.T) {
		bad := NewClient("not-a-key", url, nil)
		_, err := bad.Charge(ctx, "ch_123")
		var se *stripego.Error
		if !errors.As(err, &se) || se.HTTPStatusCode != http.StatusUnauthorized || Transient(err) {
			t.Errorf("got %v, want a permanent 401", err)
		}
	})
}
