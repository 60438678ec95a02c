package docker

import (
	"os"
	"strings"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
)

// conformanceEngines are the specs the suite runs on: the default versions, or
// $STRADDLE_CONFORMANCE_ENGINES ("postgres:13 postgres:17 mariadb:10.5", spaces or
// commas), with images from $STRADDLE_IMAGE_POSTGRES=straddle-local/postgres:{version}
// and the like (make conformance-versions builds and runs every version).
func conformanceEngines() []string {
	if v := os.Getenv("STRADDLE_CONFORMANCE_ENGINES"); v != "" {
		return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return []string{"postgres:15", "mariadb:10.11"}
}

// TestConformance runs the engine conformance suite on each family, one provider
// (one run id) per spec so that Leftovers sees only that spec's container.
func TestConformance(t *testing.T) {
	for _, s := range conformanceEngines() {
		enginetest.Run(t, newProvider(t), engine.MustParseSpec(s))
	}
}
