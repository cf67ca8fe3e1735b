package store

import (
	"context"
	"testing"
)

// Cursors survive a reopen, the latest Put wins, and odd bytes are kept as
// keys on both databases.
func TestCursorsSurviveReopen(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		if v, ok, err := s.Cursor(ctx, "paytrace:export"); err != nil || ok || v != "" {
			t.Fatalf("a missing cursor: %q, %v, %v", v, ok, err)
		}
		for _, v := range []string{"2024-05-01", "2024-05-02"} {
			if err := s.PutCursor(ctx, "paytrace:export", v); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutCursor(ctx, "schedule:nightly", "2024-05-02T02:00:00Z"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = open(t, dsn)
		if v, ok, err := s.Cursor(ctx, "paytrace:export"); err != nil || !ok || v != "2024-05-02" {
			t.Fatalf("after a reopen: %q, %v, %v", v, ok, err)
		}
		if v, ok, err := s.Cursor(ctx, "schedule:nightly"); err != nil || !ok || v != "2024-05-02T02:00:00Z" {
			t.Fatalf("the other cursor: %q, %v, %v", v, ok, err)
		}
		s.Close()
		if err := s.PutCursor(ctx, "x", "y"); err == nil {
			t.Fatal("PutCursor after Close succeeded")
		}
	})
}
