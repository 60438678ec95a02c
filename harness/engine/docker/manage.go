package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/testcontainers/testcontainers-go"
)

// ErrUnreachable is wrapped by the errors of Available and of a Start that cannot
// reach the daemon.
var ErrUnreachable = errors.New("docker: daemon not reachable (start Docker, or use --provider local)")

// client returns the provider's docker client, connecting on first use. A failed
// connection is not cached here, so a later call may succeed.
func (p *Provider) client(ctx context.Context) (*testcontainers.DockerClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cli != nil {
		return p.cli, nil
	}
	// A socket whose daemon hangs must not hang the caller. The deadline is the
	// client's own, not the caller's: testcontainers panics (MustExtractDockerSocket)
	// when its first docker info outlives the context, which Available's two
	// seconds did on a loaded machine with two engines starting at once.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	p.cli = cli
	return cli, nil
}

// Available implements engine.Starter: nil when the daemon answers a ping within two
// seconds. It does not check that spec's image exists (Start pulls it if needed).
func (p *Provider) Available(ctx context.Context, spec engine.Spec) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cli, err := p.client(ctx)
	if err != nil {
		return err
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return nil
}

// Container is a straddle container as Leftovers and Prune see it.
type Container struct {
	ID, Name, State string
	RunID, Host     string
	PID             int    // 0 when the label is missing or malformed
	User            string // uid of the user who started it; "" when unlabelled
}

func (c Container) String() string {
	id := c.ID
	if len(id) > 12 {
		id = id[:12]
	}
	return fmt.Sprintf("container %s (%s, %s, run %s, pid %d)", c.Name, id, c.State, c.RunID, c.PID)
}

// list returns the straddle containers in any state, those of run runID only when it
// is not empty.
func (p *Provider) list(ctx context.Context, runID string) ([]Container, error) {
	cli, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	label := engine.Label
	if runID != "" {
		label += "=" + runID
	}
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", label),
	})
	if err != nil {
		return nil, fmt.Errorf("docker: list containers: %w", err)
	}
	out := make([]Container, 0, len(res.Items))
	for _, s := range res.Items {
		c := Container{ID: s.ID, State: string(s.State), RunID: s.Labels[engine.Label], Host: s.Labels[LabelHost], User: s.Labels[LabelUser]}
		if len(s.Names) > 0 {
			c.Name = strings.TrimPrefix(s.Names[0], "/")
		}
		if pid, err := strconv.Atoi(s.Labels[engine.LabelPID]); err == nil && pid > 0 {
			c.PID = pid
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Leftovers implements engine.LeftoverLister: the containers of this provider's run
// that still exist, in any state.
func (p *Provider) Leftovers(ctx context.Context) ([]string, error) {
	cs, err := p.list(ctx, p.runID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out, nil
}

// Prune removes straddle containers (and their volumes) whose straddle process is
// gone: its LabelPID is not alive on this host, and it ran as the caller's user.
// Containers started on another host or by another user, or without a readable
// pid, are left alone unless all is set; all removes every straddle container,
// live runs' and other users' included. It returns the containers it removed.
func (p *Provider) Prune(ctx context.Context, all bool) ([]string, error) {
	cs, err := p.list(ctx, "")
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, c := range cs {
		if !all && !p.orphan(c) {
			continue
		}
		_, err := p.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("docker: remove %s: %w", c, err))
			continue
		}
		removed = append(removed, c.String())
	}
	return removed, errors.Join(errs...)
}

// orphan reports whether c's straddle process is known to be gone.
func (p *Provider) orphan(c Container) bool {
	if c.PID == 0 || c.Host != p.host || c.User != strconv.Itoa(os.Getuid()) {
		return false
	}
	if c.PID == p.pid {
		return false
	}
	return !alive(c.PID)
}

// alive reports whether a process with this pid exists here (signal 0 probes it;
// EPERM means it exists but belongs to someone else).
func alive(pid int) bool {
	proc, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = proc.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
