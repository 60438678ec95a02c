package certify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/straddle-dev/straddle/harness/verdict"
)

// PredicateType identifies straddle's predicate: a claim that the old and new
// releases of an application run side by side through the certified upgrade, on
// the listed engines. Version 1; fields are added, never repurposed.
const PredicateType = "https://straddle.dev/attestation/upgrade/v1"

// PayloadType is the DSSE payload type of an in-toto Statement.
const PayloadType = "application/vnd.in-toto+json"

// Predicate is the body of the certificate.
type Predicate struct {
	Straddle string   `json:"straddle"` // straddle's version
	Inputs   Inputs   `json:"inputs"`
	Engines  []Engine `json:"engines"`
	Policy   Policy   `json:"policy"`
	Cells    []Cell   `json:"cells"`
	// Verdict is the overall verdict: compatible, incompatible or error.
	Verdict    verdict.Verdict `json:"verdict"`
	Violations int             `json:"violations"`
}

// Engine is an engine a check ran on and the server version it reported.
type Engine struct {
	Engine        string `json:"engine"`
	ServerVersion string `json:"server_version"`
	Error         string `json:"error,omitempty"` // the run did not complete
}

// Policy is the policy the verdicts were decided under: the default table of
// shared/DESIGN.md unless Overrides say otherwise; each cell states its own
// requirement too.
type Policy struct {
	Table     string   `json:"table"`               // "default"
	Stalls    string   `json:"stalls"`              // violation or warning
	MaxStall  string   `json:"max_stall,omitempty"` // the stall threshold, "1s"
	Overrides []string `json:"overrides,omitempty"`
}

// Cell is the verdict of one release at one boundary on one engine.
type Cell struct {
	Scenario   string         `json:"scenario"`
	Engine     string         `json:"engine"`
	Boundary   string         `json:"boundary"`
	Migration  string         `json:"migration"` // the step's status: ok, failed, not-run
	Release    string         `json:"release"`
	Required   bool           `json:"required"`
	Status     verdict.Status `json:"status"`
	Violations int            `json:"violations"`
}

// NewPredicate summarizes a check's result.
func NewPredicate(version string, in Inputs, pol Policy, r *verdict.Result) Predicate {
	p := Predicate{Straddle: version, Inputs: in, Policy: pol, Engines: []Engine{}, Cells: []Cell{},
		Verdict: r.Verdict, Violations: len(r.Violations)}
	if p.Policy.Table == "" {
		p.Policy.Table = "default"
	}
	if p.Policy.Stalls == "" {
		p.Policy.Stalls = "violation"
	}
	for _, run := range r.Runs {
		p.Engines = append(p.Engines, Engine{Engine: run.Engine, ServerVersion: run.ServerVersion, Error: run.Error})
		for _, b := range run.Boundaries {
			for _, c := range b.Releases {
				p.Cells = append(p.Cells, Cell{Scenario: run.Scenario, Engine: run.Engine, Boundary: b.String(),
					Migration: string(b.Migration.Status), Release: string(c.Release), Required: c.Required,
					Status: c.Status, Violations: c.Violations()})
			}
		}
	}
	return p
}

// Statement builds the in-toto Statement v1 of subjects and p.
func Statement(subjects []Subject, p Predicate) (*intoto.Statement, error) {
	if len(subjects) == 0 {
		return nil, errors.New("certify: no files to certify")
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	pred, err := structpb.NewStruct(m)
	if err != nil {
		return nil, fmt.Errorf("certify: predicate: %w", err)
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: PredicateType, Predicate: pred}
	for _, s := range subjects {
		rd := &intoto.ResourceDescriptor{Name: s.Name, Digest: map[string]string{"sha256": s.SHA256}}
		if s.Revision != "" {
			rd.Annotations, err = structpb.NewStruct(map[string]any{"git_revision": s.Revision})
			if err != nil {
				return nil, err
			}
		}
		st.Subject = append(st.Subject, rd)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("certify: statement: %w", err)
	}
	return st, nil
}

// Marshal encodes st as indented JSON (the unsigned certificate).
func Marshal(st *intoto.Statement) ([]byte, error) {
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(st)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Write returns the certificate for st: the Statement JSON, or with a signer, a
// DSSE envelope whose payload is that JSON.
func Write(ctx context.Context, st *intoto.Statement, signer *Key) ([]byte, error) {
	data, err := Marshal(st)
	if err != nil {
		return nil, err
	}
	if signer == nil {
		return data, nil
	}
	return signer.sign(ctx, data)
}

// Certificate is a parsed certificate.
type Certificate struct {
	Statement *intoto.Statement
	Predicate Predicate
	// Signed is true for a DSSE envelope; Payload is then its payload.
	Signed  bool
	payload []byte
	env     []byte
}

// Parse reads a certificate: a Statement, or a DSSE envelope around one (its
// signature is checked by Verify, not here).
func Parse(data []byte) (*Certificate, error) {
	c := &Certificate{}
	var probe struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("certify: not a certificate: %w", err)
	}
	stmt := data
	if probe.PayloadType != "" {
		if probe.PayloadType != PayloadType {
			return nil, fmt.Errorf("certify: envelope payload type %q, want %s", probe.PayloadType, PayloadType)
		}
		c.Signed, c.payload, c.env, stmt = true, probe.Payload, data, probe.Payload
	}
	var st intoto.Statement
	if err := protojson.Unmarshal(stmt, &st); err != nil {
		return nil, fmt.Errorf("certify: not an in-toto statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("certify: statement: %w", err)
	}
	if st.GetPredicateType() != PredicateType {
		return nil, fmt.Errorf("certify: predicate type %q is not straddle's (%s)", st.GetPredicateType(), PredicateType)
	}
	pj, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(pj, &c.Predicate); err != nil {
		return nil, fmt.Errorf("certify: predicate: %w", err)
	}
	c.Statement = &st
	return c, nil
}

// Change is a certified file whose content is not the certified one.
type Change struct {
	Name string
	// Kind: "changed" (other content), "missing" (gone), "added" (a file the
	// certificate does not list, among the inputs).
	Kind       string
	Want, Have string // sha256, "" where absent
}

func (c Change) String() string {
	switch c.Kind {
	case "missing":
		return fmt.Sprintf("%s: missing (certified sha256:%s)", c.Name, c.Want)
	case "added":
		return fmt.Sprintf("%s: added, not certified (sha256:%s)", c.Name, c.Have)
	}
	return fmt.Sprintf("%s: changed (certified sha256:%s, now sha256:%s)", c.Name, c.Want, c.Have)
}

// ErrSignature is returned when a certificate's signature does not verify with
// the key given, or a signature was required and absent.
var ErrSignature = errors.New("signature does not verify")

// Verify recomputes the digests of in's files and compares them with the
// certificate's subjects; with key, it first checks the envelope's signature.
// It returns every changed, missing or added file, sorted by name.
func Verify(ctx context.Context, c *Certificate, in Inputs, key *Key) ([]Change, error) {
	if key != nil {
		if !c.Signed {
			return nil, fmt.Errorf("%w: the certificate is not signed", ErrSignature)
		}
		if err := key.verify(ctx, c.env); err != nil {
			return nil, err
		}
	}
	now, err := Subjects(ctx, in)
	if err != nil {
		return nil, err
	}
	want := map[string]string{}
	for _, s := range c.Statement.GetSubject() {
		want[s.GetName()] = s.GetDigest()["sha256"]
	}
	var out []Change
	have := map[string]bool{}
	for _, s := range now {
		have[s.Name] = true
		w, ok := want[s.Name]
		switch {
		case !ok:
			out = append(out, Change{Name: s.Name, Kind: "added", Have: s.SHA256})
		case w != s.SHA256:
			out = append(out, Change{Name: s.Name, Kind: "changed", Want: w, Have: s.SHA256})
		}
	}
	for name, w := range want {
		if !have[name] {
			out = append(out, Change{Name: name, Kind: "missing", Want: w})
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}
