package d365fo_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flowhq/flow/runtime/erp"
)

// BenchmarkRequestsPerRecord reports HTTP requests per operation against
// the sandbox (token fetches included) and the time per operation.
func BenchmarkRequestsPerRecord(b *testing.B) {
	ops := map[string]func(ctx context.Context, e *env, i int) error{
		"create": func(ctx context.Context, e *env, i int) error {
			_, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: fmt.Sprint("c", i), Fields: customer(fmt.Sprint("C-", i))})
			return err
		},
		"upsert": func(ctx context.Context, e *env, i int) error {
			_, err := e.drv.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "CustomersV3", Key: fmt.Sprint("c", i), Fields: customer(fmt.Sprint("C-", i))})
			return err
		},
		"journal10": func(ctx context.Context, e *env, i int) error {
			var lines []erp.Record
			for range 5 {
				lines = append(lines, ledgerLine("110180-", "DebitAmount", "1"), ledgerLine("110150-", "CreditAmount", "1"))
			}
			_, _, err := e.drv.PostJournal(ctx, journal(fmt.Sprint("j", i), lines...))
			return err
		},
	}
	for _, name := range []string{"create", "upsert", "journal10"} {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if err := ops[name](ctx, e, i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			requests, inner := 0, 0
			for kind, n := range e.sb.Requests() {
				if strings.HasPrefix(kind, "batch ") {
					inner += n
				} else {
					requests += n
				}
			}
			b.ReportMetric(float64(requests)/float64(i), "http-requests/op")
			b.ReportMetric(float64(inner)/float64(i), "batch-ops/op")
		})
	}
}
