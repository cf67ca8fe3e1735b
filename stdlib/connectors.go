package stdlib

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/flowhq/flow/stdlib/ax2012"
	"github.com/flowhq/flow/stdlib/bc"
	"github.com/flowhq/flow/stdlib/d365fo"
	"github.com/flowhq/flow/stdlib/dataverse"
	"github.com/flowhq/flow/stdlib/dynsl"
	"github.com/flowhq/flow/stdlib/hook"
	"github.com/flowhq/flow/stdlib/paypal"
	"github.com/flowhq/flow/stdlib/paytrace"
	"github.com/flowhq/flow/stdlib/schema"
	"github.com/flowhq/flow/stdlib/stripe"
)

// ConnectorLoader builds a connector's schema from an import's constant
// settings; dir is the importing file's directory (for relative paths).
type ConnectorLoader = func(settings map[string]string, dir string) (*schema.Connector, error)

// Connectors returns the schema loaders of the built-in connectors, by
// import path. The map is new on every call; the schemas it loads are shared
// and immutable.
func Connectors() map[string]ConnectorLoader {
	return map[string]ConnectorLoader{
		"stripe": func(map[string]string, string) (*schema.Connector, error) { return stripe.Connector(), nil },
		"d365fo": loadD365FO,
		"paypal": func(map[string]string, string) (*schema.Connector, error) { return paypal.Connector(), nil },
		"bc":     func(map[string]string, string) (*schema.Connector, error) { return bc.Default(), nil },
		"dynsl":  func(map[string]string, string) (*schema.Connector, error) { return dynsl.Connector(), nil },
		"ax2012": func(map[string]string, string) (*schema.Connector, error) { return ax2012.Connector(), nil },

		"dataverse": dataverse.Load,
		"paytrace":  paytrace.Load,
		"hook":      hook.Load,
	}
}

var defaultD365FO = sync.OnceValue(func() *schema.Connector { return d365fo.WithJournals(d365fo.Default()) })

type metadataKey struct {
	path  string
	size  int64
	mtime int64
}

var tenantMetadata sync.Map // metadataKey -> *schema.Connector

// loadD365FO returns the built-in F&O schema, or the tenant's own when the
// import names a $metadata file (`metadata: "tenant.edmx"`). Loaded files are
// cached by path, size and modification time.
func loadD365FO(settings map[string]string, dir string) (*schema.Connector, error) {
	path, ok := settings["metadata"]
	if !ok || path == "" {
		return defaultD365FO(), nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("metadata file: %w", err)
	}
	key := metadataKey{path, st.Size(), st.ModTime().UnixNano()}
	if c, ok := tenantMetadata.Load(key); ok {
		return c.(*schema.Connector), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metadata file: %w", err)
	}
	defer f.Close()
	c, err := d365fo.LoadCSDL(f, path)
	if err != nil {
		return nil, err
	}
	c = d365fo.WithJournals(c)
	tenantMetadata.Store(key, c)
	return c, nil
}
