package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/straddle-dev/straddle/harness/certify"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// certifyFlags are check's certificate flags: --certify and --sign-key.
type certifyFlags struct {
	path    string
	signKey string
	key     *certify.Key // loaded by validate
}

func (c *certifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.path, "certify", "", "write an in-toto attestation of the check to `FILE`: the sha256 of every migration and workload file, the engines and server versions, the policy and every cell's verdict (predicate type "+certify.PredicateType+")")
	fs.StringVar(&c.signKey, "sign-key", "", "sign the --certify attestation (a DSSE envelope) with this ed25519 private `KEY` (PEM, PKCS #8: openssl genpkey -algorithm ed25519)")
}

// validate loads the signing key before any server starts.
func (c *certifyFlags) validate() error {
	if c.signKey == "" {
		return nil
	}
	if c.path == "" {
		return fmt.Errorf("%w: --sign-key signs the --certify FILE: give --certify too", ErrUsage)
	}
	k, err := certify.LoadKey(c.signKey)
	if err != nil {
		return fmt.Errorf("%w: --sign-key: %v", ErrUsage, err)
	}
	if !k.CanSign() {
		return fmt.Errorf("%w: --sign-key %s is a public key: signing needs the private key", ErrUsage, c.signKey)
	}
	c.key = k
	return nil
}

// write writes the certificate of a check's result, when --certify asks for one.
func (c *certifyFlags) write(ctx context.Context, f *checkFlags, specs []engine.Spec, res *verdict.Result) error {
	if c.path == "" {
		return nil
	}
	in := f.certifyInputs(specs)
	subs, err := certify.Subjects(ctx, in)
	if err != nil {
		return fmt.Errorf("certify: %w", err)
	}
	v, _ := version()
	pol := certify.Policy{Stalls: f.traffic.stalls}
	if d := f.traffic.stall(); d != 0 {
		pol.MaxStall = d.String()
	}
	st, err := certify.Statement(subs, certify.NewPredicate(v, in, pol, res))
	if err != nil {
		return err
	}
	data, err := certify.Write(ctx, st, c.key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.path, data, 0o644); err != nil {
		return fmt.Errorf("write the certificate: %w", err)
	}
	return nil
}

// certifyInputs are the check's inputs as the certificate records them.
func (f *checkFlags) certifyInputs(specs []engine.Spec) certify.Inputs {
	in := certify.Inputs{Migrations: f.migrations, Old: f.old, New: f.new, OldCmd: f.oldCmd, NewCmd: f.newCmd, Baseline: f.baseline}
	seen := map[string]bool{}
	for _, sp := range specs {
		if fam := string(sp.Family()); !seen[fam] {
			seen[fam] = true
			in.Families = append(in.Families, fam)
		}
	}
	sort.Strings(in.Families)
	return in
}

// runCertify is `straddle certify verify CERT`: exit 0 when every certified file
// is unchanged (and the signature holds, with --key), 1 naming every file that
// changed, 2 for a certificate or key it cannot read.
func runCertify(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fs := newFlags(e, "certify")
			fs.SetOutput(e.stdout)
			fs.Usage()
			return nil
		}
		return fmt.Errorf("%w: straddle certify: want a subcommand: verify", ErrUsage)
	}
	fs := newFlags(e, "certify")
	var in certify.Inputs
	fs.StringVar(&in.Migrations, "migrations", "", "the migrations `DIR` to check (default: the certified one)")
	fs.StringVar(&in.Old, "old", "", "the old release's queries `SRC` (default: the certified one)")
	fs.StringVar(&in.New, "new", "", "the new release's queries `SRC` (default: the certified one)")
	keyPath := fs.String("key", "", "check the signature with this ed25519 `KEY` (PEM public key, or the private key)")
	// The certificate comes first (straddle certify verify cert.json --migrations …);
	// flags may also come before it.
	rest := args[1:]
	var certPath string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		certPath, rest = rest[0], rest[1:]
	}
	if err := parseFlags(e, fs, rest); err != nil {
		return err
	}
	if certPath == "" && fs.NArg() > 0 {
		certPath = fs.Arg(0)
	}
	if certPath == "" {
		return fmt.Errorf("%w: straddle certify verify: give the certificate file", ErrUsage)
	}
	data, err := os.ReadFile(certPath)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	cert, err := certify.Parse(data)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUsage, certPath, err)
	}
	var key *certify.Key
	if *keyPath != "" {
		if key, err = certify.LoadKey(*keyPath); err != nil {
			return fmt.Errorf("%w: --key: %v", ErrUsage, err)
		}
	}
	rec := cert.Predicate.Inputs
	if in.Migrations == "" {
		in.Migrations = rec.Migrations
	}
	if in.Old == "" {
		in.Old = rec.Old
	}
	if in.New == "" {
		in.New = rec.New
	}
	in.Families = rec.Families
	changes, err := certify.Verify(ctx, cert, in, key)
	if errors.Is(err, certify.ErrSignature) {
		fmt.Fprintf(e.stdout, "FAIL %s: %v\n", certPath, err)
		return &exitError{"signature does not verify", ErrIncompatible}
	}
	if err != nil {
		return err
	}
	p := cert.Predicate
	if len(changes) > 0 {
		fmt.Fprintf(e.stdout, "FAIL %s: %s not as certified:\n", certPath, plural(len(changes), "file is", "files are"))
		for _, c := range changes {
			fmt.Fprintf(e.stdout, "  %s\n", c)
		}
		return &exitError{fmt.Sprintf("%s changed since the certificate", plural(len(changes), "file", "files")), ErrIncompatible}
	}
	sig := "unsigned"
	switch {
	case cert.Signed && key != nil:
		sig = "signature verified"
	case cert.Signed:
		sig = "signed, signature not checked (give --key)"
	}
	fmt.Fprintf(e.stdout, "ok   %s: %s unchanged; verdict %s on %s; straddle %s; %s\n", certPath,
		plural(len(cert.Statement.GetSubject()), "file", "files"), p.Verdict, plural(len(p.Engines), "engine", "engines"), p.Straddle, sig)
	return nil
}
