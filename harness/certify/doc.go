// Package certify writes and verifies straddle's upgrade certificates: in-toto
// attestations (Statement v1) saying which migration and workload files (by
// sha256, and the git revision they came from) were certified, on which engines
// and server versions, under which policy, with which verdict per cell.
//
// Inputs: the paths a check was given (Inputs) and its verdict.Result. Outputs: the
// Statement JSON, or a DSSE envelope around it signed with an ed25519 key; and
// Verify's list of files whose content is no longer the certified one.
//
// The predicate type is PredicateType; the predicate alone (Statement.predicate)
// is what `cosign attest --type <PredicateType> --predicate FILE` and GitHub's
// actions/attest (predicate-type, predicate-path) take as a custom predicate.
//
// It reads files and runs git for git:REV:PATH sources; it runs no engine and
// renders no report.
package certify
