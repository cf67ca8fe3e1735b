package store

import (
	"testing"

	"github.com/flowhq/flow/runtime/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
