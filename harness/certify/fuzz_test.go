package certify

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
)

// fuzzKey is a fixed ed25519 key (from a fixed seed), so seeds are the same on
// every machine.
func fuzzKey() *Key {
	sk := ed25519.NewKeyFromSeed([]byte("straddle-fuzz-seed-0123456789abc"))
	return &Key{priv: sk, pub: sk.Public().(ed25519.PublicKey)}
}

// FuzzParse feeds certificates to Parse, as straddle certify verify reads them:
// an error says what the file is not (the CLI puts the file's name before it),
// parsing is deterministic, and a parsed statement written again parses to the
// same subjects and predicate. Seeds: an unsigned and a signed certificate.
func FuzzParse(f *testing.F) {
	ctx := context.Background()
	st, err := Statement([]Subject{{Name: "migrations/0001.sql", SHA256: strings.Repeat("ab", 32)}, {Name: "git:v1:q.sql", SHA256: strings.Repeat("cd", 32), Revision: "0123abcd"}},
		NewPredicate("v0.test", Inputs{Migrations: "migrations", Old: "git:v1:q.sql", New: "q.sql", Families: []string{"postgres"}}, Policy{}, result()))
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range []*Key{nil, fuzzKey()} {
		data, err := Write(ctx, st, k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	for _, s := range []string{`{}`, `{"payloadType":"x","payload":""}`, `{"payloadType":"application/vnd.in-toto+json","payload":"e30="}`, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"x","predicate":{}}`, `[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Parse([]byte(src))
		c2, err2 := Parse([]byte(src))
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("Parse is not deterministic: %v, then %v", err, err2)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "certify: ") {
				t.Fatalf("error %q does not say what is wrong with the certificate", err)
			}
			return
		}
		if !proto.Equal(c.Statement, c2.Statement) || !cmp.Equal(c.Predicate, c2.Predicate) {
			t.Fatal("Parse is not deterministic")
		}
		data, err := Marshal(c.Statement)
		if err != nil {
			t.Fatalf("a parsed statement does not marshal: %v", err)
		}
		back, err := Parse(data)
		if err != nil {
			t.Fatalf("a parsed statement, written again, does not parse: %v\n%s", err, data)
		}
		if !proto.Equal(c.Statement, back.Statement) {
			t.Fatalf("the statement changes through Marshal and Parse")
		}
		if diff := cmp.Diff(c.Predicate, back.Predicate); diff != "" {
			t.Fatalf("the predicate changes through Marshal and Parse (-first +again):\n%s", diff)
		}
		if c.Signed {
			// A signature that is not the key's fails as a signature, never a panic.
			if err := fuzzKey().verify(context.Background(), c.env); err != nil && !strings.Contains(err.Error(), "envelope") && !strings.Contains(err.Error(), "with this key") {
				t.Fatalf("verify: %v", err)
			}
		}
	})
}

// FuzzParseKey feeds --sign-key and --key files to ParseKey: an error starts
// with "key:"; a private key signs what its public half verifies.
func FuzzParseKey(f *testing.F) {
	k := fuzzKey()
	skDER, _ := x509.MarshalPKCS8PrivateKey(k.priv)
	pkDER, _ := x509.MarshalPKIXPublicKey(k.pub)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: skDER}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkDER}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2, 3}}))
	f.Add([]byte("not pem"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParseKey(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "key: ") {
				t.Fatalf("error %q does not say it is about the key", err)
			}
			return
		}
		if _, err := key.KeyID(); err != nil {
			t.Fatalf("KeyID: %v", err)
		}
		msg := []byte("payload")
		if !key.CanSign() {
			if _, err := key.Sign(context.Background(), msg); err == nil {
				t.Fatal("a public key signed")
			}
			return
		}
		sig, err := key.Sign(context.Background(), msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := (&Key{pub: key.pub}).Verify(context.Background(), msg, sig); err != nil {
			t.Fatalf("the public half does not verify the private key's signature: %v", err)
		}
	})
}
