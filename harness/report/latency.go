package report

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/straddle-dev/straddle/harness/verdict"
)

// latency writes the run's executions and latency per boundary, release, window
// and query (Options.Latency):
//
//	latency                release  window  query        count  errors  p50     p99     max
//	expand/0002_add_index  old      before  CreateOrder  5120   0       310µs   2.1ms   4.8ms
//	                       old      during  CreateOrder  610    0       320µs   412ms   430ms
func (p *textPrinter) latency(run verdict.Run) {
	rows := [][]string{{"latency", "release", "window", "query", "count", "errors", "p50", "p99", "max"}}
	for _, b := range run.Boundaries {
		first := true
		for _, c := range b.Releases {
			for _, q := range c.Queries {
				name := ""
				if first {
					name, first = b.String(), false
				}
				rows = append(rows, []string{name, string(c.Release), string(q.When), q.Query,
					strconv.FormatInt(q.Count, 10), strconv.FormatInt(q.Errors, 10),
					millis(q.P50MS), millis(q.P99MS), millis(q.MaxMS)})
			}
		}
	}
	if len(rows) == 1 {
		return
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	widths[0] = min(widths[0], textWidth/3)
	p.line()
	for _, r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for i, cell := range r {
			if i == 0 {
				cell = truncate(cell, widths[0])
			}
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
		}
		p.line(b.String())
	}
}
