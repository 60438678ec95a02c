package local

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

func setDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) { attr.Pdeathsig = sig }

// groupAlive reports whether a live process is left in process group pgid. Zombies
// do not count: a process orphaned by a killed initializer is reparented to pid 1,
// and where pid 1 does not reap (minimal container inits) its entry stays forever,
// holding nothing.
func groupAlive(pgid int) bool {
	if !anyInGroup(pgid) {
		return false
	}
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return true // no /proc: assume the worst
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := bytes.Fields(b[i+1:])
		if len(fields) < 3 {
			continue
		}
		state := fields[0]
		pg, err := strconv.Atoi(string(fields[2]))
		if err == nil && pg == pgid && !bytes.Equal(state, []byte("Z")) && !bytes.Equal(state, []byte("X")) {
			return true
		}
	}
	return false
}

// memDir returns /dev/shm when it is a writable memory file system with at least
// free bytes free, else "".
func memDir(free uint64) string {
	const shm = "/dev/shm"
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err != nil {
		return ""
	}
	const tmpfsMagic = 0x01021994
	if st.Type != tmpfsMagic || st.Bavail*uint64(st.Bsize) < free || syscall.Access(shm, 2) != nil {
		return ""
	}
	return shm
}
