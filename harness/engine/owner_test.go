package engine_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
)

func TestMarkOwnerAndRemoveOwned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "straddle-1")
	for _, d := range []string{"data/base", "a", "z"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "data/base/f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := engine.MarkOwner(dir, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, engine.OwnerFile))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("owner file = %q, %v; want this pid", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, engine.OwnerFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("owner file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if err := engine.RemoveOwned(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dir still there: %v", err)
	}
	if err := engine.RemoveOwned(dir); err != nil {
		t.Errorf("removing a removed dir: %v", err)
	}
}
