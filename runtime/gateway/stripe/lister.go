package stripe

import (
	"context"
	"fmt"
)

// List serves a flow's `for x in stripe.<list>(...)`: it reads every item
// of the named list. It implements the runtime's engine.Lister. A failure
// worth retrying says so through a Transient() bool method.
func (c *Client) List(ctx context.Context, list string, args map[string]any) ([]map[string]any, error) {
	if list != "balance_transactions" {
		return nil, fmt.Errorf("stripe: no list %q", list)
	}
	payout, _ := args["payout"].(string)
	var out []map[string]any
	for item, err := range c.BalanceTransactions(ctx, payout) {
		if err != nil {
			return nil, listError{err}
		}
		out = append(out, item)
	}
	return out, nil
}

// listError carries whether a list failure is transient.
type listError struct{ error }

func (e listError) Unwrap() error   { return e.error }
func (e listError) Transient() bool { return Transient(e.error) }
