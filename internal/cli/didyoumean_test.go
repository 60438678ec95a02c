package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDidYouMean(t *testing.T) {
	tests := []struct {
		args   []string
		want   string
		reason string
	}{
		{[]string{"chek"}, `unknown command "chek" (did you mean check?)`, "one letter off"},
		{[]string{"chekc"}, `(did you mean check?)`, "two letters off"},
		{[]string{"check", "--migration", "db"}, `flag provided but not defined: -migration (did you mean --migrations?)`, "the plural"},
		{[]string{"check", "--olds", "x"}, `(did you mean --old`, "a flag spelled like two: both named"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, "nothing close: no suggestion"},
	}
	for _, tt := range tests {
		var out, errw bytes.Buffer
		err := Run(context.Background(), tt.args, &out, &errw)
		if ExitCode(err) != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tt.args, ExitCode(err), ExitUsage)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %q, want it to contain %q (%s)", tt.args, err, tt.want, tt.reason)
		}
		if tt.args[0] == "frobnicate" && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("%v: %q suggests something for a word close to nothing", tt.args, err)
		}
	}
}
