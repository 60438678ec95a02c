//go:build unix && !linux

package local

import "syscall"

// setDeathSignal does nothing: only Linux has a parent-death signal.
func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

// groupAlive reports whether any process is left in process group pgid.
func groupAlive(pgid int) bool { return anyInGroup(pgid) }

// memDir: no known memory file system here.
func memDir(uint64) string { return "" }
