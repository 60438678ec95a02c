package docker

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"gotest.tools/v3/assert"
)

// localImages are the images fixtures/images/build.sh makes. Tests use them when the
// STRADDLE_IMAGE_* variables are unset and the images exist (no registry needed).
var localImages = map[string]string{
	"STRADDLE_IMAGE_POSTGRES": "straddle-local/postgres:15",
	"STRADDLE_IMAGE_MARIADB":  "straddle-local/mariadb:10.11",
}

func TestMain(m *testing.M) {
	// Server.Stop removes what these tests start, so the reaper is not needed, and
	// its image cannot be pulled where there is no registry.
	if _, ok := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !ok {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	for env, image := range localImages {
		if os.Getenv(env) == "" && exec.Command("docker", "image", "inspect", image).Run() == nil {
			os.Setenv(env, image)
		}
	}
	os.Exit(m.Run())
}

// newProvider returns a provider with a run id of its own, or skips the test when
// the daemon is unreachable.
func newProvider(t testing.TB) *Provider {
	t.Helper()
	p := New(Config{RunID: "test-" + randomHex(4)})
	if err := p.Available(context.Background(), engine.MustParseSpec("postgres")); err != nil {
		t.Skipf("start Docker (make deps): %v", err)
	}
	return p
}

func TestResolve(t *testing.T) {
	env := map[string]string{
		"STRADDLE_IMAGE_POSTGRES": "straddle-local/postgres:15",
		"STRADDLE_IMAGE_MYSQL":    "registry.example/mysql:{version}-debian",
	}
	tests := []struct {
		name   string
		spec   string
		image  string // Spec.Image
		images map[engine.Flavor]string
		want   engine.Spec
		reason string
	}{
		{name: "official default", spec: "mariadb",
			want:   engine.Spec{Flavor: engine.FlavorMariaDB, Version: "10.11", Image: "mariadb:10.11"},
			reason: "no override: the official image at the default version"},
		{name: "official version", spec: "mariadb:11.4",
			want:   engine.Spec{Flavor: engine.FlavorMariaDB, Version: "11.4", Image: "mariadb:11.4"},
			reason: "the spec's version is the tag"},
		{name: "env full image", spec: "postgres:16",
			want:   engine.Spec{Flavor: engine.FlavorPostgres, Version: "16", Image: "straddle-local/postgres:15"},
			reason: "a full image is used as is; Start then checks the server's version"},
		{name: "env template default", spec: "mysql",
			want:   engine.Spec{Flavor: engine.FlavorMySQL, Version: "8.4", Image: "registry.example/mysql:8.4-debian"},
			reason: "{version} takes the default version when the spec has none"},
		{name: "config beats env", spec: "postgres:17",
			images: map[engine.Flavor]string{engine.FlavorPostgres: "mirror/postgres:{version}"},
			want:   engine.Spec{Flavor: engine.FlavorPostgres, Version: "17", Image: "mirror/postgres:17"},
			reason: "Config.Images takes precedence over the variable"},
		{name: "spec image template", spec: "mariadb:11.4", image: "mirror/mariadb:{version}",
			want:   engine.Spec{Flavor: engine.FlavorMariaDB, Version: "11.4", Image: "mirror/mariadb:11.4"},
			reason: "Spec.Image may be a template too"},
		{name: "spec image beats all", spec: "postgres", image: "custom/pg:latest",
			images: map[engine.Flavor]string{engine.FlavorPostgres: "mirror/postgres:{version}"},
			want:   engine.Spec{Flavor: engine.FlavorPostgres, Image: "custom/pg:latest"},
			reason: "Spec.Image wins; its version is unknown until the server answers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(Config{Images: tt.images, Getenv: func(k string) string { return env[k] }})
			spec := engine.MustParseSpec(tt.spec)
			spec.Image = tt.image
			assert.DeepEqual(t, p.Resolve(spec), tt.want)
		})
	}
}

func TestVersionMatches(t *testing.T) {
	tests := []struct {
		want, got string
		ok        bool
		reason    string
	}{
		{"", "15.20", true, "no version asked"},
		{"15", "15.20", true, "major matches"},
		{"16", "15.20", false, "another major"},
		{"1", "15.20", false, "a prefix is not a version"},
		{"10.11", "10.11.19-MariaDB", true, "MariaDB major.minor"},
		{"10.11.19", "10.11.19-MariaDB", true, "exact MariaDB version"},
		{"11.4", "10.11.19-MariaDB", false, "another MariaDB"},
		{"latest", "17.1", true, "latest accepts anything"},
	}
	for _, tt := range tests {
		assert.Equal(t, versionMatches(tt.want, tt.got), tt.ok, "%q vs %q: %s", tt.want, tt.got, tt.reason)
	}
	assert.Equal(t, specVersion("15.20", flavors[engine.FlavorPostgres].versionParts), "15")
	assert.Equal(t, specVersion("10.11.19-MariaDB", flavors[engine.FlavorMariaDB].versionParts), "10.11")
	assert.Equal(t, specVersion("8.4.5", flavors[engine.FlavorMySQL].versionParts), "8.4")
}

// TestStart runs each family through a server's life: start, scratch database, DDL
// and DML, an error to classify, drop, stop, and nothing left behind.
func TestStart(t *testing.T) {
	p := newProvider(t)
	for _, s := range []string{"postgres", "mariadb"} {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			spec := engine.MustParseSpec(s)
			start := time.Now()
			srv, err := p.Start(ctx, spec)
			assert.NilError(t, err)
			t.Logf("%s (%s) ready in %s, server %s", srv.Spec(), srv.Spec().Image, time.Since(start).Round(time.Millisecond), srv.Version())
			stopped := false
			defer func() {
				if !stopped {
					srv.Stop(ctx)
				}
			}()
			assert.Equal(t, srv.Spec().Flavor, spec.Flavor)
			assert.Assert(t, versionMatches(srv.Spec().Version, srv.Version()), "spec %s, server %s", srv.Spec(), srv.Version())
			checkContainers(t, p)

			db, err := srv.CreateDatabase(ctx)
			assert.NilError(t, err)
			assert.Assert(t, strings.HasPrefix(db.Name(), engine.DatabasePrefix))
			conn, err := db.Open(ctx)
			assert.NilError(t, err)
			for _, q := range []string{
				"CREATE TABLE t (id int PRIMARY KEY, name varchar(20) NOT NULL)",
				"INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b')",
				"UPDATE t SET name = 'c' WHERE id = 2",
			} {
				_, err := conn.ExecContext(ctx, q)
				assert.NilError(t, err, q)
			}
			var n int
			assert.NilError(t, conn.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE name <> 'a'").Scan(&n))
			assert.Equal(t, n, 1)
			_, err = conn.ExecContext(ctx, "SELECT missing FROM t")
			dbe := engine.Classify(err)
			assert.Assert(t, dbe != nil, "%v", err)
			assert.Equal(t, dbe.Class, engine.ClassUndefinedColumn)
			assert.NilError(t, conn.Close())
			assert.NilError(t, db.Drop(ctx))

			assert.NilError(t, srv.Stop(ctx))
			stopped = true
			left, err := p.list(ctx, p.RunID())
			assert.NilError(t, err)
			for _, c := range left {
				assert.Assert(t, !strings.Contains(c.Name, "-"+string(spec.Flavor)+"-"), "left behind: %s", c)
			}
		})
	}
	t.Cleanup(func() {
		left, err := p.Leftovers(context.Background())
		assert.NilError(t, err)
		assert.DeepEqual(t, left, []string(nil))
	})
}

// checkContainers asserts the run's containers keep their data on tmpfs and publish
// their ports on 127.0.0.1 when the daemon is local.
func checkContainers(t *testing.T, p *Provider) {
	t.Helper()
	ctx := context.Background()
	cli, err := p.client(ctx)
	assert.NilError(t, err)
	loopback := bindLoopback(cli.DaemonHost())
	cs, err := p.list(ctx, p.RunID())
	assert.NilError(t, err)
	for _, c := range cs {
		res, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		assert.NilError(t, err)
		assert.Assert(t, len(res.Container.HostConfig.Tmpfs) > 0, "%s: data not on tmpfs", c.Name)
		if !loopback {
			t.Log("daemon not local: ports are published on all addresses")
			continue
		}
		for port, bs := range res.Container.NetworkSettings.Ports {
			for _, b := range bs {
				assert.Assert(t, b.HostIP.IsLoopback(), "%s: %s published on %s", c.Name, port, b.HostIP)
			}
		}
	}
}

// TestStartExited: a container that dies is reported at once, with its output, and
// removed.
func TestStartExited(t *testing.T) {
	p := newProvider(t)
	ctx := context.Background()
	img := os.Getenv("STRADDLE_IMAGE_MARIADB")
	if img == "" {
		t.Skip("needs a mariadb image (make images)")
	}
	// The mariadb entrypoint runs any command it does not know: "postgres" is not
	// there, so the container exits with 127.
	spec := engine.MustParseSpec("postgres")
	spec.Image = img
	start := time.Now()
	_, err := p.Start(ctx, spec)
	assert.ErrorContains(t, err, "exited with code 127 before accepting connections")
	t.Log(err)
	assert.Assert(t, time.Since(start) < 30*time.Second, "took %s", time.Since(start))
	left, err := p.Leftovers(ctx)
	assert.NilError(t, err)
	assert.DeepEqual(t, left, []string(nil))
}

func TestStartWrongVersion(t *testing.T) {
	p := newProvider(t)
	img := os.Getenv("STRADDLE_IMAGE_POSTGRES")
	if img == "" {
		t.Skip("needs a postgres image (make images)")
	}
	ctx := context.Background()
	spec := engine.MustParseSpec("postgres:99")
	spec.Image = img
	_, err := p.Start(ctx, spec)
	assert.ErrorContains(t, err, "not 99")
	left, err := p.Leftovers(ctx)
	assert.NilError(t, err)
	assert.DeepEqual(t, left, []string(nil))
}

func TestStartImageMissing(t *testing.T) {
	p := newProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec := engine.MustParseSpec("postgres:15")
	spec.Image = "straddle-local/no-such-image:0"
	_, err := p.Start(ctx, spec)
	var ie *ImageError
	assert.Assert(t, errors.As(err, &ie), "%v", err)
	assert.ErrorContains(t, err, "make images")
	assert.Assert(t, errors.Is(err, engine.ErrNoImage))
	t.Log(err)

	// MySQL: Debian packages none, so the hint names a registry image and the
	// engine that runs here instead of a local image that cannot exist.
	my := engine.MustParseSpec("mysql:8.4")
	my.Image = "straddle-local/no-such-mysql:0"
	_, err = p.Start(ctx, my)
	assert.Assert(t, errors.As(err, &ie), "%v", err)
	assert.ErrorContains(t, err, "STRADDLE_IMAGE_MYSQL=mysql:{version}")
	assert.ErrorContains(t, err, "--engine mariadb")
	t.Log(err)
}

// TestPrune: a container whose straddle process is gone is removed; one whose
// process lives is kept.
func TestPrune(t *testing.T) {
	p := newProvider(t)
	img := os.Getenv("STRADDLE_IMAGE_POSTGRES")
	if img == "" {
		t.Skip("needs a postgres image (make images)")
	}
	ctx := context.Background()
	dead := exec.Command("true")
	assert.NilError(t, dead.Run())
	deadPID := dead.Process.Pid
	assert.Assert(t, !alive(deadPID))

	run := func(pid int) testcontainers.Container {
		ctr, err := testcontainers.Run(ctx, img,
			testcontainers.WithCmd("sleep", "600"),
			testcontainers.WithLogger(tclog.NewNoopLogger()),
			testcontainers.WithLabels(map[string]string{
				engine.Label:    p.RunID(),
				engine.LabelPID: strconv.Itoa(pid),
				LabelHost:       p.host,
				LabelUser:       strconv.Itoa(os.Getuid()),
			}))
		assert.NilError(t, err)
		return ctr
	}
	orphan := run(deadPID)
	live := run(os.Getpid())
	defer testcontainers.TerminateContainer(live, testcontainers.StopTimeout(0))
	defer testcontainers.TerminateContainer(orphan, testcontainers.StopTimeout(0))

	removed, err := p.Prune(ctx, false)
	assert.NilError(t, err)
	t.Log(removed)
	left, err := p.list(ctx, p.RunID())
	assert.NilError(t, err)
	assert.Equal(t, len(left), 1)
	assert.Equal(t, left[0].ID, live.GetContainerID())
	found := false
	for _, r := range removed {
		found = found || strings.Contains(r, orphan.GetContainerID()[:12])
	}
	assert.Assert(t, found, "orphan not in %v", removed)
}
