package command

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/traffic"
)

// fakeDB is a database that is only a URL: commands get its variables, nothing
// connects to it.
type fakeDB struct {
	family engine.Family
	url    string
}

func (d fakeDB) Name() string                          { return "straddle_test" }
func (d fakeDB) Family() engine.Family                 { return d.family }
func (d fakeDB) ServerVersion() string                 { return "15.0" }
func (d fakeDB) DSN() string                           { return d.url }
func (d fakeDB) Open(context.Context) (*sql.DB, error) { return nil, errors.ErrUnsupported }
func (d fakeDB) Drop(context.Context) error            { return nil }

const pgURL = "postgres://admin:s3cret-passw0rd-long@127.0.0.1:54321/straddle_abc?sslmode=disable"

var pg = fakeDB{engine.Postgres, pgURL}

func TestQuote(t *testing.T) {
	cases := []struct{ name, in, want, reason string }{
		{"plain", "0002", "0002", "versions need no quotes"},
		{"path", "/tmp/db/V1__x.sql", "/tmp/db/V1__x.sql", "paths of safe characters stay as they are"},
		{"space", "a b", "'a b'", "a space would split the word"},
		{"quote", "it's", `'it'\''s'`, "a single quote is closed, escaped and reopened"},
		{"empty", "", "''", "an empty value stays one argument"},
		{"dollar", "$HOME", "'$HOME'", "no expansion of values"},
	}
	for _, tc := range cases {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("%s: Quote(%q) = %q, want %q (%s)", tc.name, tc.in, got, tc.want, tc.reason)
		}
	}
}

func TestExpand(t *testing.T) {
	vals := map[string]string{"version": "0002", "name": "0002_add x", "phase": "expand", "file": "/m/0002.sql"}
	cases := []struct{ name, tmpl, want, reason string }{
		{"all", "tool up-to {version} {name} {phase} {file}", "tool up-to 0002 '0002_add x' expand /m/0002.sql", "each placeholder, quoted where needed"},
		{"shell braces", "echo ${HOME} {a,b} {version}", "echo ${HOME} {a,b} 0002", "other braces belong to the shell"},
		{"unknown", "{versions}", "{versions}", "only the four names are placeholders"},
	}
	for _, tc := range cases {
		if got := Expand(tc.tmpl, vals); got != tc.want {
			t.Errorf("%s: Expand(%q) = %q, want %q (%s)", tc.name, tc.tmpl, got, tc.want, tc.reason)
		}
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tl := &tail{limit: 16}
	tl.Write([]byte("line one\nline two\n"))
	tl.Write([]byte("line three\n"))
	got := tl.String()
	want := "[… 18 bytes of output before this]\nline three\n"
	if got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	res, err := Command{Line: "echo out; echo err >&2; exit 3"}.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || res.Status() != "exit status 3" || res.OK() {
		t.Errorf("exit = %d (%s), want 3", res.ExitCode, res.Status())
	}
	if res.Output != "out\nerr\n" {
		t.Errorf("output = %q, want stdout and stderr interleaved", res.Output)
	}
	res, err = Command{Line: "printf '%s' \"$X\"", Env: []string{"X=1", "X=2"}, Redact: []string{"2"}}.Run(ctx)
	if err != nil || !res.OK() || res.Output != "xxxxx" {
		t.Errorf("env and redaction: %+v, %v; want the later X, redacted", res, err)
	}
}

func TestRunCancelStopsTheGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	// The shell waits on a child: SIGINT must reach the child too.
	_, err := Command{Line: "sleep 30; echo done", WaitDelay: 2 * time.Second}.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %s; the command should stop at once", d)
	}
}

func TestEnv(t *testing.T) {
	got, err := Env(pg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DATABASE_URL=" + pgURL, "PGHOST=127.0.0.1", "PGPORT=54321", "PGUSER=admin",
		"PGPASSWORD=s3cret-passw0rd-long", "PGDATABASE=straddle_abc", "STRADDLE_FAMILY=postgres", "STRADDLE_DATABASE=straddle_abc",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("postgres env (-want +got):\n%s", diff)
	}
	got, err = Env(fakeDB{engine.MySQL, "mysql://root:pw@db.local/straddle_x"})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		"DATABASE_URL=mysql://root:pw@db.local/straddle_x", "MYSQL_HOST=db.local", "MYSQL_TCP_PORT=3306", "MYSQL_USER=root",
		"MYSQL_PWD=pw", "MYSQL_DATABASE=straddle_x", "STRADDLE_FAMILY=mysql", "STRADDLE_DATABASE=straddle_x",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mysql env (-want +got):\n%s", diff)
	}
}

func TestWorkloadPass(t *testing.T) {
	ctx := context.Background()
	b := plan.Boundary{Index: 1, Phase: plan.Expand, Step: "0002_x"}
	at := traffic.Where{Engine: "postgres:15", Boundary: b, Window: plan.After}
	cases := []struct {
		name, line string
		want       observe.Outcome
		msg, out   string
		reason     string
	}{
		{name: "pass", line: `test "$PGDATABASE" = straddle_abc && test "$STRADDLE_BOUNDARY" = expand/0002_x && test "$STRADDLE_RELEASE" = old`,
			want: observe.OK, reason: "the command sees the database and where the rollout is"},
		{name: "fail", line: `echo "connecting to $DATABASE_URL as $PGPASSWORD"; exit 2`,
			want: observe.Error, msg: "exit status 2", out: "connecting to xxxxx as xxxxx\n",
			reason: "a failure keeps the output, without the URL or the password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := observe.NewRecorder()
			w := &Workload{Name: Name(tc.line), Release: plan.Old, Command: Command{Line: tc.line}, DB: pg}
			if err := w.Pass(ctx, at, rec); err != nil {
				t.Fatal(err)
			}
			cells := rec.Snapshot().Cells
			if len(cells) != 1 || cells[0].Count != 1 {
				t.Fatalf("cells = %+v, want one execution", cells)
			}
			c := cells[0]
			if c.Key.Release != plan.Old || c.Key.Window != plan.After || c.Key.Query != w.Name {
				t.Errorf("cell key = %+v", c.Key)
			}
			if tc.want == observe.OK {
				if len(c.Failures) != 0 {
					t.Errorf("failures = %+v, want none (%s)", c.Failures, tc.reason)
				}
				return
			}
			if len(c.Failures) != 1 {
				t.Fatalf("failures = %+v, want one (%s)", c.Failures, tc.reason)
			}
			f := c.Failures[0]
			if f.Outcome != tc.want || f.Message != tc.msg || f.Output != tc.out {
				t.Errorf("failure = %+v, want %s %q output %q (%s)", f, tc.want, tc.msg, tc.out, tc.reason)
			}
		})
	}
}

func TestWorkloadRunsOncePerWindow(t *testing.T) {
	stop := make(chan struct{})
	at := traffic.Where{Engine: "postgres:15", Boundary: plan.Boundary{Index: 1, Phase: plan.Expand, Step: "x"},
		Window: plan.During, Stop: stop, Statement: func() int { return 1 }}
	rec := observe.NewRecorder()
	w := &Workload{Name: "true", Release: plan.New, Command: Command{Line: "true"}, DB: pg}
	done := make(chan error)
	go func() { done <- w.Pass(context.Background(), at, rec) }()
	select {
	case err := <-done:
		t.Fatalf("Pass returned %v before the window ended; it must wait for it", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := w.Pass(context.Background(), at, rec); err != nil {
		t.Fatal(err)
	}
	if cells := rec.Snapshot().Cells; len(cells) != 1 || cells[0].Count != 1 {
		t.Errorf("cells = %+v, want exactly one execution (none once the window ended)", cells)
	}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	st := Step{Version: "0002", Name: "0002_add_email", Phase: plan.Expand, File: "migrations/0002_add_email.up.sql"}
	ok := Apply(Command{Line: `test {version} = 0002 && test "$STRADDLE_PHASE" = expand && case {file} in /*/migrations/0002_add_email.up.sql) ;; *) exit 9;; esac`}, st, pg)
	if err := ok(ctx); err != nil {
		t.Errorf("apply: %v, want placeholders replaced and the file made absolute", err)
	}
	fail := Apply(Command{Line: "echo boom; exit 1"}, st, pg)
	err := fail(ctx)
	var ae *migration.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want a *migration.ApplyError (a failed step)", err)
	}
	if !strings.Contains(ae.Message, "exit status 1") || ae.Output != "boom\n" {
		t.Errorf("apply error = %+v", ae)
	}
}
