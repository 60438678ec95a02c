package plan

import (
	"strings"
	"testing"
)

// FuzzParseOverride feeds --policy values (and scenario policy overrides) to
// ParseOverride: an error names the value; a parsed override has a valid
// release, requirement and window, and its canonical form
// SELECTOR:RELEASE=REQUIREMENT[@WINDOW] parses back to it.
func FuzzParseOverride(f *testing.F) {
	for _, s := range []string{
		"contract:old=required", "expand/0002_add_email:new=informational@during", "*:new=skip",
		"baseline:old=required@after", "expand/:old=required", ":old=required", "migrate:new=required@",
		"contract:older=required", "contract:old=maybe", "a/b/c:old=skip", "*:old=skip@during@after",
		"expand/x:y:old=required", "expand/ö:old=required",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOverride(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy ") {
				t.Fatalf("ParseOverride(%q): error %q does not start with the flag's value", s, err)
			}
			return
		}
		if _, err := ParseRelease(string(o.Release)); err != nil {
			t.Fatalf("ParseOverride(%q): release %q: %v", s, o.Release, err)
		}
		if _, err := ParseRequirement(string(o.Requirement)); err != nil {
			t.Fatalf("ParseOverride(%q): requirement %q: %v", s, o.Requirement, err)
		}
		if o.Window != "" && o.Window != During && o.Window != After {
			t.Fatalf("ParseOverride(%q): window %q", s, o.Window)
		}
		canon := o.Selector + ":" + string(o.Release) + "=" + string(o.Requirement)
		if o.Window != "" {
			canon += "@" + string(o.Window)
		}
		back, err := ParseOverride(canon)
		if err != nil || back != o {
			t.Fatalf("ParseOverride(%q) = %+v; its canonical form %q parses to %+v, %v", s, o, canon, back, err)
		}
	})
}
