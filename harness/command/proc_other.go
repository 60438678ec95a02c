//go:build !unix

package command

import (
	"os"
	"os/exec"
	"time"
)

// group interrupts the command on cancellation (Kill where interrupts are not
// supported); WaitDelay then kills it.
func group(cmd *exec.Cmd, _ time.Duration) (done func()) {
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	return func() {}
}
