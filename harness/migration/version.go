package migration

import (
	"regexp"
	"strings"

	"github.com/straddle-dev/straddle/harness/sqltext"
)

var reNumericVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// numeric reports whether v is a dotted numeric version ("0002", "1.10").
func numeric(v string) bool { return reNumericVersion.MatchString(v) }

// normVersion is the key under which two versions are the same migration: for a
// numeric version, leading zeros and trailing ".0" components do not count
// ("0002" is "2", Flyway's "1.0" is "1").
func normVersion(v string) string {
	if !numeric(v) {
		return v
	}
	comps := strings.Split(v, ".")
	for i, c := range comps {
		if c = strings.TrimLeft(c, "0"); c == "" {
			c = "0"
		}
		comps[i] = c
	}
	for len(comps) > 1 && comps[len(comps)-1] == "0" {
		comps = comps[:len(comps)-1]
	}
	return strings.Join(comps, ".")
}

// compareVersions orders dotted numeric versions component by component, each
// as a number of any size ("1.2" < "1.10" < "2", "0002" == "2").
func compareVersions(a, b string) int {
	ac, bc := strings.Split(normVersion(a), "."), strings.Split(normVersion(b), ".")
	for i := 0; i < len(ac) || i < len(bc); i++ {
		x, y := "0", "0"
		if i < len(ac) {
			x = ac[i]
		}
		if i < len(bc) {
			y = bc[i]
		}
		if c := compareDigits(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// compareDigits compares two runs of digits as numbers, without overflow.
func compareDigits(x, y string) int {
	x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
	if len(x) != len(y) {
		if len(x) < len(y) {
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}

// compareNatural orders names the way people number files: runs of digits
// compare as numbers ("2_b" < "10_a"), everything else byte by byte; names
// equal that way fall back to plain byte order so the result is total.
func compareNatural(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if sqltext.IsDigit(a[i]) && sqltext.IsDigit(b[j]) {
			ei, ej := i, j
			for ei < len(a) && sqltext.IsDigit(a[ei]) {
				ei++
			}
			for ej < len(b) && sqltext.IsDigit(b[ej]) {
				ej++
			}
			if c := compareDigits(a[i:ei], b[j:ej]); c != 0 {
				return c
			}
			i, j = ei, ej
			continue
		}
		if a[i] != b[j] {
			if a[i] < b[j] {
				return -1
			}
			return 1
		}
		i++
		j++
	}
	switch {
	case len(a)-i < len(b)-j:
		return -1
	case len(a)-i > len(b)-j:
		return 1
	}
	return strings.Compare(a, b)
}
