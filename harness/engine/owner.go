package engine

import (
	"os"
	"path/filepath"
	"strconv"
)

// OwnerFile is the file in each of straddle's temp dirs (TempPattern) that holds
// the pid of the process owning it: `straddle engines prune` removes a dir whose
// owner is gone.
const OwnerFile = "straddle.pid"

// MarkOwner writes OwnerFile into dir with this process's pid, readable by perm.
func MarkOwner(dir string, perm os.FileMode) error {
	return os.WriteFile(filepath.Join(dir, OwnerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), perm)
}

// RemoveOwned removes a dir MarkOwner marked, its OwnerFile last: a process
// killed while removing it leaves a dir that prune still recognizes as a
// leftover, never an unmarked one that nothing removes.
func RemoveOwned(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		if e.Name() == OwnerFile {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return os.RemoveAll(dir)
}
