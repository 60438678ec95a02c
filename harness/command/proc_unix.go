//go:build unix

package command

import (
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// group runs cmd in a process group of its own, so that cancellation reaches the
// programs the shell started (a test runner's test binaries): SIGINT to the group,
// then SIGKILL to the group after wait. The returned func, called once the shell
// has been waited for, kills what is left in the group (background programs the
// command started and did not wait for): everything a run starts is removed.
func group(cmd *exec.Cmd, wait time.Duration) (done func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var mu sync.Mutex
	var kill *time.Timer
	cmd.Cancel = func() error {
		pid := cmd.Process.Pid
		err := syscall.Kill(-pid, syscall.SIGINT)
		mu.Lock()
		kill = time.AfterFunc(wait, func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
		mu.Unlock()
		if err != nil {
			return os.ErrProcessDone
		}
		return nil
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if kill != nil {
			kill.Stop()
		}
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
}
