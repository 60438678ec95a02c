package matrix

import (
	"encoding/json"
	"io"
	"math"
	"strings"
)

// GitHubJob is one entry of a GitHub Actions matrix's include list.
type GitHubJob struct {
	// Name is for the job's title: the shard, or the cell id.
	Name string `json:"name"`
	// Shard is "i/n", to pass to --shard; "" per cell.
	Shard string `json:"shard,omitempty"`
	// Only is the cell id, to pass to --only, when there is a job per cell.
	Only string `json:"only,omitempty"`
	// Engines the job starts, comma-separated (for a cache key, or a services list).
	Engines string `json:"engines"`
	// Cells is how many cells the job runs; Cost their estimated seconds.
	Cells int     `json:"cells"`
	Cost  float64 `json:"cost"`
}

// GitHub is the value for `strategy.matrix: ${{ fromJSON(…) }}`.
type GitHub struct {
	Include []GitHubJob `json:"include"`
}

// GitHubMatrix is a job per shard when shards > 0 (empty shards left out), else a
// job per cell.
func (m *Matrix) GitHubMatrix(shards int) GitHub {
	var g GitHub
	if shards <= 0 {
		for _, c := range m.Cells {
			g.Include = append(g.Include, GitHubJob{Name: c.ID, Only: c.ID, Engines: c.Engine.String(), Cells: 1, Cost: round(c.Cost)})
		}
		return g
	}
	for i, cells := range m.Split(shards) {
		if len(cells) == 0 {
			continue
		}
		var engines []string
		for _, sp := range m.EnginesOf(cells) {
			engines = append(engines, sp.String())
		}
		s := Shard{Index: i + 1, Count: shards}.String()
		g.Include = append(g.Include, GitHubJob{Name: "shard " + s, Shard: s, Engines: strings.Join(engines, ","), Cells: len(cells), Cost: round(TotalCost(cells))})
	}
	return g
}

func round(f float64) float64 { return math.Round(f*10) / 10 }

// WriteGitHub writes g as one line of JSON: `echo "matrix=$(straddle matrix
// --github)" >> "$GITHUB_OUTPUT"` needs a single line.
func WriteGitHub(w io.Writer, g GitHub) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(g)
}
