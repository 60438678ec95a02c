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

// runEnv is the environment of a straddle process under test: its temp files in
// tmp (where the test looks for leftovers), testcontainers without Ryuk, and the
// local images of `make images` unless the caller's environment names others:
// nothing is pulled from a registry.
func runEnv(tmp string) []string {
	env := append(os.Environ(), "TMPDIR="+tmp, "TESTCONTAINERS_RYUK_DISABLED=true", "TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1")
	for k, v := range map[string]string{"STRADDLE_IMAGE_POSTGRES": "straddle-local/postgres:15", "STRADDLE_IMAGE_MARIADB": "straddle-local/mariadb:10.11"} {
		if os.Getenv(k) == "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}
