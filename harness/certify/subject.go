package certify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Family is replaced for {family} in the paths of Inputs, as straddle check does.
const familyPlaceholder = "{family}"

// Inputs are the paths a check was given, as given ({family} unexpanded).
type Inputs struct {
	Migrations string   `json:"migrations"`
	Old        string   `json:"old,omitempty"`
	New        string   `json:"new,omitempty"`
	OldCmd     string   `json:"old_cmd,omitempty"`
	NewCmd     string   `json:"new_cmd,omitempty"`
	Baseline   string   `json:"baseline,omitempty"`
	Families   []string `json:"families"` // engine families {family} was expanded for
}

// Subject is one certified file.
type Subject struct {
	// Name is the file's path as the check read it (slash-separated), or
	// git:REV:PATH for a file read from a git revision.
	Name   string
	SHA256 string
	// Revision is the commit a git:REV:PATH file came from.
	Revision string
}

// Subjects digests every file the inputs name: every file under the migrations
// directory and each workload source (a file, a directory, or git:REV:PATH), for
// each family. Sorted by name, each once.
func Subjects(ctx context.Context, in Inputs) ([]Subject, error) {
	fams := in.Families
	if len(fams) == 0 {
		fams = []string{""}
	}
	seen := map[string]bool{}
	var out []Subject
	for _, fam := range fams {
		for _, src := range []string{in.Migrations, in.Old, in.New} {
			if src == "" {
				continue
			}
			src = strings.ReplaceAll(src, familyPlaceholder, fam)
			if seen[src] {
				continue
			}
			seen[src] = true
			var subs []Subject
			var err error
			if strings.HasPrefix(src, "git:") {
				subs, err = gitSubjects(ctx, src)
			} else {
				subs, err = fileSubjects(src)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, subs...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// fileSubjects digests path, a file or a directory (every regular file below it,
// hidden ones left out).
func fileSubjects(path string) ([]Subject, error) {
	var out []Subject
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, Subject{Name: filepath.ToSlash(filepath.Clean(p)), SHA256: digest(data)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", path, err)
	}
	return out, nil
}

// gitSubjects digests the files of git:REV:PATH at REV, resolved to its commit.
func gitSubjects(ctx context.Context, src string) ([]Subject, error) {
	rev, path, ok := strings.Cut(strings.TrimPrefix(src, "git:"), ":")
	if !ok || rev == "" {
		return nil, fmt.Errorf("digest %s: want git:REV:PATH", src)
	}
	commit, err := git(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("digest %s: resolve %s: %w", src, rev, err)
	}
	c := strings.TrimSpace(string(commit))
	list, err := git(ctx, "ls-tree", "-r", "--name-only", "--full-name", c, "--", path)
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", src, err)
	}
	var out []Subject
	for _, f := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if f == "" {
			continue
		}
		data, err := git(ctx, "cat-file", "blob", c+":"+f)
		if err != nil {
			return nil, fmt.Errorf("digest %s: %s: %w", src, f, err)
		}
		out = append(out, Subject{Name: "git:" + rev + ":" + f, SHA256: digest(data), Revision: c})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("digest %s: no files at %s in %s", src, path, rev)
	}
	return out, nil
}

func git(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("git %s: %s: %w", args[0], msg, err)
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}

func digest(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
