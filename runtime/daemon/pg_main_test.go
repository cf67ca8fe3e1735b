package daemon

import (
	"testing"

	"github.com/flowhq/flow/runtime/store/pgtest"
)

// TestMain stops the PostgreSQL cluster the replica tests start, if they
// start one.
func TestMain(m *testing.M) { pgtest.Main(m) }
