// Package docker is the engine provider that runs each engine spec in a container,
// with testcontainers-go and its postgres, mysql and mariadb modules.
//
// Inputs: an [engine.Spec] per Start, and a [Config]. The image is, in order,
// Spec.Image; Config.Images[flavor] or the STRADDLE_IMAGE_POSTGRES /
// STRADDLE_IMAGE_MYSQL / STRADDLE_IMAGE_MARIADB variable (a value may contain
// "{version}"); the official image postgres:<v>, mysql:<v> or mariadb:<v>. The
// images built by fixtures/images/build.sh (`make images`) honour the same interface
// and stand in where no registry is reachable.
//
// Outputs: an [engine.Server] per Start (a [scratch.Server] over the container's
// published port), ready only once a real query succeeds. The server's data
// directory is on tmpfs unless Config.DiskData is set, and its settings trade
// durability for speed (no fsync, no binary log). Every container carries
// the labels [engine.Label] (the run id) and [engine.LabelPID] (this process), so
// [Provider.Leftovers] can list what a run still owns and [Provider.Prune] can remove
// what a dead process left behind.
//
// It must not rely on testcontainers' reaper (Ryuk): Server.Stop removes its
// container and volumes itself, so runs work with TESTCONTAINERS_RYUK_DISABLED=true,
// which is required where the reaper image cannot be pulled. It must not print:
// testcontainers' own progress lines go to Config.Log or nowhere. Ports are published
// on 127.0.0.1 when the daemon is local. It never removes a container that lacks the
// straddle label.
package docker
