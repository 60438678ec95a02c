package docker

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// LabelHost holds the hostname of the machine whose straddle process started a
// container: Prune only judges a LabelPID on the host it belongs to.
const LabelHost = "dev.straddle.host"

// LabelUser holds the uid of the user whose straddle process started a container:
// prune takes only the caller's dead runs unless told to take all.
const LabelUser = "dev.straddle.uid"

// labelSpec records the engine spec a container was started for, for people reading
// `docker ps`.
const labelSpec = "dev.straddle.spec"

// Config configures a Provider. The zero value runs the official images.
type Config struct {
	// Images overrides the image per flavor. A value containing "{version}" is a
	// template the spec's version (or the flavor's default) replaces; any other
	// value is a full image, run whatever version the spec names (Start then checks
	// the server's version against the spec's). It takes precedence over the
	// STRADDLE_IMAGE_* variables; Spec.Image, read the same way, takes precedence
	// over both.
	Images map[engine.Flavor]string
	// RunID is the value of engine.Label on every container this provider starts.
	// Empty means a random id.
	RunID string
	// Ready bounds how long Start waits for a started server to accept connections.
	// Zero means four minutes (an official MySQL image's first start is slow, and
	// any start is on a machine with every core busy).
	Ready time.Duration
	// Log receives testcontainers' progress lines. Nil discards them.
	Log io.Writer
	// DiskData keeps the servers' data on the container's filesystem. By default
	// it is on tmpfs (RAM): scratch databases and DDL are many times faster there,
	// and the data is thrown away anyway.
	DiskData bool
	// Getenv reads the STRADDLE_IMAGE_* variables. Nil means os.Getenv.
	Getenv func(string) string
}

// Provider starts servers in containers. Safe for concurrent use; mu protects cli.
type Provider struct {
	cfg    Config
	runID  string
	pid    int
	host   string
	logger tclog.Logger

	mu  sync.Mutex
	cli *testcontainers.DockerClient
}

var (
	_ engine.Provider       = (*Provider)(nil)
	_ engine.Starter        = (*Provider)(nil)
	_ engine.LeftoverLister = (*Provider)(nil)
)

// silenceOnce routes testcontainers' process-wide logger (its "Connected to docker"
// banner) nowhere: only the CLI prints. Per-container lines go to Config.Log.
var silenceOnce sync.Once

// New returns a provider. It does not contact the daemon.
func New(cfg Config) *Provider {
	silenceOnce.Do(func() {
		tclog.SetDefault(tclog.NewNoopLogger())
		// straddle removes its containers itself (Server.Stop, engines prune):
		// testcontainers' reaper is not needed, and its image cannot be pulled
		// where no registry is reachable. An explicit setting wins.
		if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
			os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true") //nolint:errcheck // a valid name and value
		}
	})
	p := &Provider{cfg: cfg, runID: cfg.RunID, pid: os.Getpid(), logger: tclog.NewNoopLogger()}
	if p.runID == "" {
		p.runID = randomHex(6)
	}
	if cfg.Log != nil {
		p.logger = &writerLogger{w: cfg.Log}
	}
	p.host, _ = os.Hostname()
	return p
}

// writerLogger writes testcontainers' lines to w; mu serializes concurrent Starts.
type writerLogger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *writerLogger) Printf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, msg)
}

// Name implements engine.Provider.
func (p *Provider) Name() string { return "docker" }

// RunID is the value of engine.Label on this provider's containers.
func (p *Provider) RunID() string { return p.runID }

// Resolve returns spec with Image set to the image Start runs for it and, when the
// image follows the version (official images, "{version}" templates), Version set
// to the version it runs (the flavor's default when spec has none).
func (p *Provider) Resolve(spec engine.Spec) engine.Spec {
	f, ok := flavors[spec.Flavor]
	if !ok {
		return spec
	}
	tmpl := spec.Image
	if tmpl == "" {
		tmpl = p.cfg.Images[spec.Flavor]
	}
	if tmpl == "" {
		getenv := p.cfg.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		tmpl = strings.TrimSpace(getenv(f.env))
	}
	if tmpl == "" {
		tmpl = f.repo + ":{version}"
	}
	if !strings.Contains(tmpl, "{version}") {
		spec.Image = tmpl
		return spec
	}
	if spec.Version == "" {
		spec.Version = f.version
	}
	spec.Image = strings.ReplaceAll(tmpl, "{version}", spec.Version)
	return spec
}

// Start implements engine.Provider: it runs spec's image, waits until the server
// answers a query, and returns it. Server.Stop removes the container and its
// volumes. Safe for concurrent use.
func (p *Provider) Start(ctx context.Context, spec engine.Spec) (engine.Server, error) {
	f, ok := flavors[spec.Flavor]
	if !ok {
		return nil, fmt.Errorf("docker: %w: unknown flavor %q", engine.ErrBadSpec, spec.Flavor)
	}
	rs := p.Resolve(spec)
	cli, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	volumes, err := p.ensureImage(ctx, cli, rs)
	if err != nil {
		return nil, err
	}

	pw := randomHex(12)
	name := "straddle-" + nameSafe(p.runID) + "-" + string(rs.Flavor) + "-" + randomHex(3)
	loopback := bindLoopback(cli.DaemonHost())
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithName(name),
		testcontainers.WithLabels(map[string]string{
			engine.Label:    p.runID,
			engine.LabelPID: strconv.Itoa(p.pid),
			LabelHost:       p.host,
			LabelUser:       strconv.Itoa(os.Getuid()),
			labelSpec:       rs.String(),
		}),
		testcontainers.WithCmdArgs(f.args...),
		testcontainers.WithLogger(p.logger),
		onlyPort(f.port, loopback),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			if p.cfg.DiskData {
				return
			}
			// The data directory on tmpfs: CREATE DATABASE and DDL are many times
			// faster than on the container's overlay filesystem. Where the image
			// declares volumes, that is where it keeps its data.
			if hc.Tmpfs == nil {
				hc.Tmpfs = map[string]string{}
			}
			if len(volumes) == 0 {
				volumes = []string{f.data}
			}
			for _, v := range volumes {
				hc.Tmpfs[v] = "rw"
			}
		}),
		// Readiness is a real query (below), not the modules' log lines, which
		// only the official images print.
		noWait(),
	}
	ctr, err := f.run(ctx, rs.Image, pw, opts)
	if err != nil {
		p.discard(ctx, cli, ctr, name)
		hint := ""
		if strings.Contains(err.Error(), "reaper") {
			// testcontainers has no typed error for this.
			hint = " (the testcontainers reaper could not start: set TESTCONTAINERS_RYUK_DISABLED=true; straddle removes its containers itself)"
		}
		return nil, fmt.Errorf("docker: start %s (image %s): %w%s", rs, rs.Image, err, hint)
	}
	stop := func(ctx context.Context) error {
		if err := ctr.Terminate(ctx, testcontainers.StopTimeout(0)); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("docker: remove container %s: %w", name, err)
		}
		return nil
	}
	srv, err := p.connect(ctx, cli, ctr, rs, f, pw, stop)
	if err != nil {
		_ = stop(context.WithoutCancel(ctx))
		return nil, err
	}
	return srv, nil
}

// connect waits for the server in ctr to answer, giving up early when the container
// exits, and checks it runs the version the spec asks for.
func (p *Provider) connect(ctx context.Context, cli *testcontainers.DockerClient, ctr testcontainers.Container, rs engine.Spec, f *flavor, pw string, stop func(context.Context) error) (engine.Server, error) {
	host, err := ctr.Host(ctx)
	if err != nil {
		return nil, fmt.Errorf("docker: %s: container host: %w", rs, err)
	}
	if host == "localhost" {
		host = "127.0.0.1" // the port is published on IPv4 only
	}
	port, err := ctr.MappedPort(ctx, f.port)
	if err != nil {
		// A container that exits at once loses its port before we look.
		if st, serr := ctr.State(ctx); serr == nil && !st.Running {
			return nil, exited(ctx, rs, ctr, int64(st.ExitCode))
		}
		return nil, fmt.Errorf("docker: %s: published port: %w", rs, err)
	}

	wctx, cancel := context.WithCancelCause(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		w := cli.ContainerWait(wctx, ctr.GetContainerID(), client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case r := <-w.Result:
			cancel(&exitError{code: r.StatusCode})
		case <-w.Error:
		}
	}()
	ready := p.cfg.Ready
	if ready == 0 {
		// Generous: on a machine with every core busy, a container's server
		// took over two minutes to answer (a CI run); failing then is an
		// environment failure, but one that waiting would have avoided.
		ready = 4 * time.Minute
	}
	deadline := time.Now().Add(ready)
	addr := hostPort(host, port.Port())
	pctx, pcancel := context.WithDeadline(wctx, deadline)
	probe(pctx, addr, f.hello)
	pcancel()
	srv, err := scratch.Connect(wctx, scratch.Config{
		Spec: rs,
		URL:  f.adminURL(addr, pw),
		Stop: stop,
		// The first authentication (SCRAM on PostgreSQL) can take seconds
		// under load: give it room even when the port answered late.
		Ready: max(time.Until(deadline), 30*time.Second),
	})
	cancel(nil)
	<-watched
	var exit *exitError
	if err != nil && errors.As(context.Cause(wctx), &exit) && ctx.Err() == nil {
		return nil, exited(ctx, rs, ctr, exit.code)
	}
	if err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	got := srv.Version()
	if !versionMatches(rs.Version, got) {
		_ = srv.Stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("docker: %s: image %s runs version %s, not %s (fix the image override)", rs, rs.Image, got, rs.Version)
	}
	if rs.Version == "" {
		rs.Version = specVersion(got, f.versionParts)
	}
	return &server{Server: srv, spec: rs}, nil
}

// server is a scratch.Server whose Spec carries the version and image actually run.
type server struct {
	*scratch.Server
	spec engine.Spec
}

func (s *server) Spec() engine.Spec { return s.spec }

type exitError struct{ code int64 }

func (e *exitError) Error() string {
	return "container exited with code " + strconv.FormatInt(e.code, 10)
}

// versionMatches reports whether a server's version string satisfies a requested
// version: "15" accepts "15.20", "10.11" accepts "10.11.19-MariaDB". Non-numeric
// requests (latest, lts) and empty ones accept anything.
func versionMatches(want, got string) bool {
	if want == "" || want == "latest" || want == "lts" {
		return true
	}
	return got == want || strings.HasPrefix(got, want+".") || strings.HasPrefix(got, want+"-")
}

// specVersion is the version a spec would name for a server version: its first n
// components ("15.20" is postgres 15, "10.11.19-MariaDB" is mariadb 10.11).
func specVersion(v string, n int) string {
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) < n {
		return v
	}
	return strings.Join(parts[:n], ".")
}

// exited is the error for a container that exited before its server was ready,
// with the end of its output.
func exited(ctx context.Context, rs engine.Spec, ctr testcontainers.Container, code int64) error {
	return fmt.Errorf("docker: %s: container (image %s) exited with code %d before accepting connections; its last log lines:\n%s",
		rs, rs.Image, code, tail(context.WithoutCancel(ctx), ctr, 20))
}

// tail returns the last n lines of a container's output, for error messages.
func tail(ctx context.Context, ctr testcontainers.Container, n int) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return "  (logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	var lines []string
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		lines = append(lines, "  "+sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// discard removes what a failed Start may have created, found by its unique name
// when testcontainers returned no container.
func (p *Provider) discard(ctx context.Context, cli *testcontainers.DockerClient, ctr testcontainers.Container, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if ctr != nil {
		_ = ctr.Terminate(ctx, testcontainers.StopTimeout(0))
		return
	}
	_, _ = cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
}

// ensureImage makes sure rs.Image is present, pulling it once if not. It replaces
// testcontainers' own pull, which retries for up to 15 minutes when no registry is
// reachable.
//
// It returns the volumes the image declares, sorted.
func (p *Provider) ensureImage(ctx context.Context, cli *testcontainers.DockerClient, rs engine.Spec) ([]string, error) {
	volumes := func() ([]string, error) {
		img, err := cli.ImageInspect(ctx, rs.Image)
		if err != nil {
			return nil, err
		}
		var vs []string
		if img.Config != nil {
			for v := range img.Config.Volumes {
				vs = append(vs, v)
			}
		}
		sort.Strings(vs)
		return vs, nil
	}
	vs, err := volumes()
	if err == nil {
		return vs, nil
	}
	if !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("docker: inspect image %s: %w", rs.Image, err)
	}
	opts := client.ImagePullOptions{}
	if _, auth, err := testcontainers.DockerImageAuth(ctx, rs.Image); err == nil {
		if enc, err := authconfig.Encode(auth); err == nil {
			opts.RegistryAuth = enc
		}
	}
	pull, err := cli.ImagePull(ctx, rs.Image, opts)
	if err == nil {
		err = pull.Wait(ctx)
		pull.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ImageError{Spec: rs, Err: err}
	}
	return volumes()
}

// ImageError means the image for a spec is not present and could not be pulled.
type ImageError struct {
	Spec engine.Spec
	Err  error
}

func (e *ImageError) Error() string {
	f := flavors[e.Spec.Flavor]
	if e.Spec.Flavor == engine.FlavorMySQL {
		// Debian packages no MySQL, so `make images` cannot build one: name an
		// image that would run MySQL, and the engine that runs here.
		return fmt.Sprintf("docker: image %s not found locally and could not be pulled (%v); "+
			"MySQL images come from a registry: pull mysql:%s where one is reachable (docker pull, or docker load from a saved tar) and set %s=mysql:{version} "+
			"(or REGISTRY/mysql:{version} for a mirror), or check on MariaDB here (--engine mariadb; make images builds it)",
			e.Spec.Image, e.Err, versionOr(e.Spec.Version, f.version), f.env)
	}
	return fmt.Sprintf("docker: image %s not found locally and could not be pulled (%v); "+
		"build local images with `make images` and set %s=%s, or use --provider local",
		e.Spec.Image, e.Err, f.env, f.local)
}

func (e *ImageError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, engine.ErrNoImage) true: another provider may stand in.
func (e *ImageError) Is(target error) bool { return target == engine.ErrNoImage }

func versionOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// onlyPort publishes port alone (the modules also publish MySQL's X protocol port),
// on 127.0.0.1 when loopback is set.
func onlyPort(port string, loopback bool) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		req.ExposedPorts = []string{port}
		if !loopback {
			return nil
		}
		p, err := network.ParsePort(port)
		if err != nil {
			return err
		}
		return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			if hc.PortBindings == nil {
				hc.PortBindings = network.PortMap{}
			}
			hc.PortBindings[p] = []network.PortBinding{{HostIP: netip.AddrFrom4([4]byte{127, 0, 0, 1})}}
		})(req)
	}
}

// noWait drops the module's wait strategy.
func noWait() testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		req.WaitingFor = nil
		return nil
	}
}

// bindLoopback reports whether published ports can be bound to 127.0.0.1 and still
// be reached: the daemon runs on this machine and this process is not itself in a
// container (where testcontainers reaches ports through the gateway), unless
// TESTCONTAINERS_HOST_OVERRIDE says where to reach them.
func bindLoopback(daemonHost string) bool {
	if h, ok := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); ok {
		return isLoopback(h)
	}
	u, err := url.Parse(daemonHost)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "unix", "npipe":
		_, err := os.Stat("/.dockerenv")
		return err != nil
	case "tcp", "http", "https":
		return isLoopback(u.Hostname())
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// nameSafe maps s onto the characters a container name may hold.
func nameSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
