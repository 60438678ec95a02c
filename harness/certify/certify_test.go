package certify

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// project writes a small project: two migrations per family and two query files.
func project(t *testing.T) (string, Inputs) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"migrations/postgres/0001_users.up.sql": "CREATE TABLE users (id BIGINT);\n",
		"migrations/postgres/0002_email.up.sql": "ALTER TABLE users ADD COLUMN email TEXT;\n",
		"migrations/mysql/0001_users.up.sql":    "CREATE TABLE users (id BIGINT);\n",
		"migrations/mysql/0002_email.up.sql":    "ALTER TABLE users ADD COLUMN email VARCHAR(200);\n",
		"migrations/postgres/.editor-swap-file": "not a migration",
		"old.sql":                               "-- name: GetUser :one\nSELECT id FROM users WHERE id = $1;\n",
		"new.sql":                               "-- name: GetUser :one\nSELECT id, email FROM users WHERE id = $1;\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, Inputs{
		Migrations: filepath.Join(dir, "migrations/{family}"),
		Old:        filepath.Join(dir, "old.sql"), New: filepath.Join(dir, "new.sql"),
		Families: []string{"postgres", "mysql"},
	}
}

func result() *verdict.Result {
	return &verdict.Result{Verdict: verdict.Compatible, Violations: []verdict.Violation{}, Runs: []verdict.Run{
		{Scenario: "app", Engine: "postgres:17", ServerVersion: "17.7", Boundaries: []verdict.Boundary{
			{Phase: plan.Baseline, Migration: verdict.Migration{Status: verdict.MigrationOK},
				Releases: verdict.Releases{{Release: plan.Old, Required: true, Status: verdict.Pass}}},
			{Phase: plan.Expand, Step: "0002_email", Migration: verdict.Migration{Status: verdict.MigrationOK},
				Releases: verdict.Releases{{Release: plan.Old, Required: true, Status: verdict.Pass}, {Release: plan.New, Status: verdict.Pass}}},
		}},
		{Scenario: "app", Engine: "mariadb:10.5", ServerVersion: "10.5.29-MariaDB"},
	}}
}

// keyPair writes a PKCS #8 private key and its PKIX public key, as openssl does.
func keyPair(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	skDER, _ := x509.MarshalPKCS8PrivateKey(sk)
	pkDER, _ := x509.MarshalPKIXPublicKey(pk)
	priv, pub = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub")
	os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: skDER}), 0o600)
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkDER}), 0o644)
	return priv, pub
}

func write(t *testing.T, in Inputs, key *Key) []byte {
	t.Helper()
	ctx := context.Background()
	subs, err := Subjects(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Statement(subs, NewPredicate("v0.test", in, Policy{}, result()))
	if err != nil {
		t.Fatal(err)
	}
	data, err := Write(ctx, st, key)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestStatementContents(t *testing.T) {
	dir, in := project(t)
	c, err := Parse(write(t, in, nil))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range c.Statement.GetSubject() {
		names = append(names, strings.TrimPrefix(s.GetName(), filepath.ToSlash(dir)+"/"))
		if len(s.GetDigest()["sha256"]) != 64 {
			t.Errorf("subject %s: digest %v, want a sha256", s.GetName(), s.GetDigest())
		}
	}
	want := []string{"migrations/mysql/0001_users.up.sql", "migrations/mysql/0002_email.up.sql",
		"migrations/postgres/0001_users.up.sql", "migrations/postgres/0002_email.up.sql", "new.sql", "old.sql"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("subjects: every migration of every family and both query files, hidden files left out (-want +got)\n%s", diff)
	}
	if got := c.Statement.GetType(); got != "https://in-toto.io/Statement/v1" {
		t.Errorf("_type = %q", got)
	}
	p := c.Predicate
	if p.Straddle != "v0.test" || p.Verdict != verdict.Compatible || p.Policy.Table != "default" || p.Policy.Stalls != "violation" {
		t.Errorf("predicate header = %+v", p)
	}
	if diff := cmp.Diff([]Engine{{"postgres:17", "17.7", ""}, {"mariadb:10.5", "10.5.29-MariaDB", ""}}, p.Engines); diff != "" {
		t.Errorf("engines with server versions (-want +got)\n%s", diff)
	}
	if len(p.Cells) != 3 || p.Cells[2] != (Cell{Scenario: "app", Engine: "postgres:17", Boundary: "expand/0002_email", Migration: "ok", Release: "new", Status: verdict.Pass}) {
		t.Errorf("cells = %+v: one per release and boundary", p.Cells)
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir, in := project(t)
	priv, pub := keyPair(t, t.TempDir(), "release")
	_, otherPub := keyPair(t, t.TempDir(), "other")
	signer, err := LoadKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert := write(t, in, signer)
	if !strings.Contains(string(cert), `"payloadType": "application/vnd.in-toto+json"`) {
		t.Fatalf("a signed certificate is a DSSE envelope:\n%s", cert)
	}
	verify := func(cert []byte, keyPath string) ([]Change, error) {
		c, err := Parse(cert)
		if err != nil {
			return nil, err
		}
		var k *Key
		if keyPath != "" {
			if k, err = LoadKey(keyPath); err != nil {
				t.Fatal(err)
			}
		}
		return Verify(ctx, c, in, k)
	}

	// Unchanged inputs, the right key (public or private): nothing changed.
	for _, k := range []string{pub, priv, ""} {
		if ch, err := verify(cert, k); err != nil || len(ch) != 0 {
			t.Errorf("unchanged, key %q: changes %v, err %v; want none", k, ch, err)
		}
	}
	// The wrong key fails, whatever the files.
	if _, err := verify(cert, otherPub); !errors.Is(err, ErrSignature) {
		t.Errorf("wrong key: err = %v, want ErrSignature", err)
	}
	// A payload edited after signing fails with the right key.
	var env map[string]any
	json.Unmarshal(cert, &env)
	env["payload"] = env["payload"].(string)[:40] + "A" + env["payload"].(string)[41:]
	forged, _ := json.Marshal(env)
	if _, err := verify(forged, pub); err == nil {
		t.Errorf("a forged payload verified")
	}
	// An unsigned certificate fails when a key is required.
	if _, err := verify(write(t, in, nil), pub); !errors.Is(err, ErrSignature) {
		t.Errorf("unsigned with --key: err = %v, want ErrSignature", err)
	}

	// One byte of one migration changed: named, and nothing else.
	mig := filepath.Join(dir, "migrations/mysql/0002_email.up.sql")
	data, _ := os.ReadFile(mig)
	data[len(data)-3] ^= 1
	os.WriteFile(mig, data, 0o644)
	// A file removed and one added are named too.
	os.Remove(filepath.Join(dir, "migrations/postgres/0001_users.up.sql"))
	os.WriteFile(filepath.Join(dir, "migrations/postgres/0003_more.up.sql"), []byte("SELECT 1;\n"), 0o644)
	ch, err := verify(cert, pub)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range ch {
		got = append(got, c.Kind+" "+strings.TrimPrefix(c.Name, filepath.ToSlash(dir)+"/"))
	}
	want := []string{"changed migrations/mysql/0002_email.up.sql", "missing migrations/postgres/0001_users.up.sql", "added migrations/postgres/0003_more.up.sql"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got)\n%s", diff)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, data, want string
		reason           string
	}{
		{"not json", "hello", "not a certificate", "garbage in"},
		{"other predicate", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, "is not straddle's", "another tool's attestation certifies something else"},
		{"other envelope", `{"payloadType":"text/plain","payload":"aGk=","signatures":[]}`, "payload type", "a DSSE envelope of something else"},
	}
	for _, tt := range tests {
		if _, err := Parse([]byte(tt.data)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q (%s)", tt.name, err, tt.want, tt.reason)
		}
	}
}
