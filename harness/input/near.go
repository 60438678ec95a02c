package input

import "strings"

// Near returns the candidates spelled like name — within maxDist edits
// (Levenshtein distance), or starting with it — for "did you mean …?" hints on
// a mistyped command or flag, in the candidates' order.
func Near(name string, candidates []string, maxDist int) []string {
	var out []string
	for _, c := range candidates {
		if Distance(name, c) <= maxDist || (name != "" && strings.HasPrefix(c, name)) {
			out = append(out, c)
		}
	}
	return out
}

// Distance is the Levenshtein distance between a and b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
