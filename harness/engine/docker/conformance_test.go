package docker

import (
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
)

// TestConformance runs the engine conformance suite on each family, one provider
// (one run id) per spec so that Leftovers sees only that spec's container.
func TestConformance(t *testing.T) {
	for _, s := range []string{"postgres:15", "mariadb:10.11"} {
		enginetest.Run(t, newProvider(t), engine.MustParseSpec(s))
	}
}
