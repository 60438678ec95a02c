package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The template cache keeps one freshly initialized, never started data directory per
// server binary, version and initialization arguments. Copying it is several times
// faster than initdb or mariadb-install-db (BenchmarkLocalStart), which are most of
// a server's start. Entries are immutable: written under a temporary name, then
// renamed into place, so that concurrent straddle processes never see half of one.
// The admin password is stored with the entry (mode 0600 in a 0700 dir): servers
// made from one entry share it.

// cacheLayout changes when what an entry holds changes, orphaning old entries.
const cacheLayout = "1"

// cacheEntry returns the directory of the cache entry for in, "" when caching is
// off or there is nowhere to put it.
func (p *Provider) cacheEntry(k *kind, in install) string {
	if p.cfg.NoCache {
		return ""
	}
	root := p.cfg.CacheDir
	if root == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		root = filepath.Join(dir, "straddle", "local")
	}
	// Paths in the arguments are the same for every server, relative to its dir.
	args := k.initArgs(&setup{dir: "/D", data: "/D/data"})
	h := sha256.New()
	for _, s := range append([]string{cacheLayout, k.product, in.server, in.version, in.init}, args...) {
		fmt.Fprintf(h, "%q\n", s)
	}
	return filepath.Join(root, fmt.Sprintf("%s-%s-%x", strings.ToLower(k.product), in.version, h.Sum(nil)[:6]))
}

// fromCache copies the cached data directory into s.data and sets s.password. It
// reports false when there is no usable entry.
func fromCache(ctx context.Context, entry string, s *setup, as *account) bool {
	if entry == "" {
		return false
	}
	pw, err := os.ReadFile(filepath.Join(entry, "password"))
	if err != nil {
		return false
	}
	if err := copyTree(ctx, filepath.Join(entry, "data"), s.data, as); err != nil {
		if ctx.Err() == nil {
			// Most likely a damaged entry: remove it, or it could never be replaced.
			os.RemoveAll(entry)
		}
		os.RemoveAll(s.data)
		return false
	}
	s.password = strings.TrimSpace(string(pw))
	return true
}

// toCache stores the freshly initialized s.data as entry. It is best effort: a cache
// that cannot be written only costs the next start an initialization.
func toCache(ctx context.Context, entry string, s *setup) {
	if entry == "" {
		return
	}
	parent := filepath.Dir(entry)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return
	}
	removeStale(parent)
	tmp, err := os.MkdirTemp(parent, ".tmp-*")
	if err != nil {
		return
	}
	if copyTree(ctx, s.data, filepath.Join(tmp, "data"), nil) != nil ||
		os.WriteFile(filepath.Join(tmp, "password"), []byte(s.password+"\n"), 0o600) != nil ||
		os.Rename(tmp, entry) != nil { // another process may have stored it first
		os.RemoveAll(tmp)
	}
}

// removeStale removes what a straddle killed while storing an entry left behind.
func removeStale(parent string) {
	tmps, _ := filepath.Glob(filepath.Join(parent, ".tmp-*"))
	for _, t := range tmps {
		if fi, err := os.Stat(t); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(t)
		}
	}
}

// copyTree copies the directory src to dst (which must not exist) with modes kept,
// files written sparse, and everything owned by as. It stops when ctx is done.
func copyTree(ctx context.Context, src, dst string, as *account) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
			// Mkdir applies the umask; the server checks its data dir's mode.
			if err := os.Chmod(target, info.Mode().Perm()); err != nil {
				return err
			}
		case d.Type().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
			return as.lchown(target)
		default:
			return fmt.Errorf("copy %s: unsupported file type %s", path, d.Type())
		}
		return as.chown(target)
	})
}

// copyFile copies a file, leaving holes where src has blocks of zeros: server data
// directories are mostly preallocated, zeroed log space.
func copyFile(src, dst string, perm fs.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	buf := make([]byte, 64<<10)
	zero := make([]byte, len(buf))
	var size int64
	for {
		n, rerr := io.ReadFull(in, buf)
		if n > 0 {
			if bytes.Equal(buf[:n], zero[:n]) {
				if _, err := out.Seek(int64(n), io.SeekCurrent); err != nil {
					return err
				}
			} else if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			size += int64(n)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := out.Truncate(size); err != nil { // a trailing hole
		return err
	}
	return os.Chmod(dst, perm) // OpenFile applies the umask
}
