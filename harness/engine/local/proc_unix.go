//go:build unix

package local

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// account is the OS user a server runs as; nil means the current user.
type account struct {
	name     string
	uid, gid int
}

// runAs returns the account servers of k run as: nil when straddle is not root, else
// Config.User, k's usual system user, or nobody.
func (p *Provider) runAs(k *kind) (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	names := []string{p.cfg.User}
	if p.cfg.User == "" {
		names = []string{k.user, "nobody"}
	}
	for _, n := range names {
		u, err := user.Lookup(n)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &account{name: n, uid: uid, gid: gid}, nil
	}
	return nil, fmt.Errorf("local: straddle runs as root and %s must not: no unprivileged user %v to run it as (set the local provider's User)", k.product, names)
}

// chown gives path to a; a no-op for the current user.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	return os.Chown(path, a.uid, a.gid)
}

// lchown is chown for a symlink itself.
func (a *account) lchown(path string) error {
	if a == nil {
		return nil
	}
	return os.Lchown(path, a.uid, a.gid)
}

// sysProcAttr puts a child in its own process group (a terminal's Ctrl-C reaches
// straddle, whose cleanup stops the server), under a's identity, and asks the kernel
// to send it sig if straddle dies first, where the OS can.
func sysProcAttr(a *account, sig syscall.Signal) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if a != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid), Groups: []uint32{}}
	}
	setDeathSignal(attr, sig)
	return attr
}

// signalGroup sends sig to every process in process group pgid, a group this
// provider made.
func signalGroup(pgid int, sig syscall.Signal) error {
	return syscall.Kill(-pgid, sig)
}

// killGroup kills what is left of process group pgid, a group this provider made.
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// anyInGroup reports whether process group pgid has any member, zombies included.
func anyInGroup(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// mine reports whether path belongs to the current user.
func mine(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
