// Package auto is the default engine provider: for each spec it picks docker when
// the Docker daemon is reachable, else local when server binaries are installed,
// else it fails with engine.ErrNoEngine and a message naming both fixes.
//
// Inputs: the docker and local providers, injected as engine.Provider values (the
// CLI builds them; this package imports neither), and an engine.Spec per Start.
// Outputs: whatever the chosen provider's Start returns.
//
// It must not start anything itself, nor fall back to another provider when the
// chosen one fails to start: a broken Docker setup is reported, not hidden.
package auto
