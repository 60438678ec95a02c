package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// buildStraddle builds this command into the test's temp dir and returns its path.
func buildStraddle(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "straddle")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	assert.NilError(t, build.Run())
	return bin
}

// writeTree writes files (path → content) under a new temp dir and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}
