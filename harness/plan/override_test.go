package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOverride(t *testing.T) {
	tests := []struct {
		in      string
		want    Override
		wantErr string
		reason  string
	}{
		{"contract:old=required", Override{Selector: "contract", Release: Old, Requirement: Required}, "", "a phase"},
		{"expand/0002_add_email:new=informational@during", Override{Selector: "expand/0002_add_email", Release: New, Requirement: Informational, Window: During}, "", "one step, one window"},
		{"*:new=skip", Override{Selector: "*", Release: New, Requirement: NotRun}, "", "everywhere"},
		{"contract=required", Override{}, "want SELECTOR:RELEASE=REQUIREMENT", "no release"},
		{"contracts:old=required", Override{}, `selector "contracts"`, "an unknown phase"},
		{"expand/:old=required", Override{}, `selector "expand/"`, "an empty step"},
		{"contract:olde=required", Override{}, `unknown release "olde"`, "an unknown release"},
		{"contract:old=must", Override{}, `unknown requirement "must"`, "an unknown requirement"},
		{"contract:old=required@before", Override{}, `window "before"`, "before is judged by the previous boundary"},
	}
	for _, tt := range tests {
		got, err := ParseOverride(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want %q (%s)", tt.in, err, tt.wantErr, tt.reason)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v (%s)", tt.in, err, tt.reason)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s%s", tt.in, diff, tt.reason)
		}
	}
}
