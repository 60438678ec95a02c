package report

import (
	"encoding/json"
	"io"

	"github.com/straddle-dev/straddle/harness/verdict"
)

// JSON writes r as the machine-readable report of shared/DESIGN.md, indented by
// two spaces, HTML characters unescaped. Fields come in the order of the verdict
// types; without opts.Timings the measured durations (duration_ms, latency,
// wait_ms) are omitted.
func JSON(w io.Writer, r *verdict.Result, opts Options) error {
	if !opts.Timings {
		r = r.WithoutTimings()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
