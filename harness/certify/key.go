package certify

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Key is an ed25519 key: a private key signs (and verifies), a public key
// verifies. Keys are PEM files: PKCS #8 "PRIVATE KEY" (openssl genpkey
// -algorithm ed25519) or PKIX "PUBLIC KEY" (openssl pkey -pubout).
type Key struct {
	priv ed25519.PrivateKey // nil for a public key
	pub  ed25519.PublicKey
}

var _ dsse.SignerVerifier = (*Key)(nil)

// LoadKey reads a PEM ed25519 key file.
func LoadKey(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	return ParseKey(data)
}

// ParseKey parses a PEM ed25519 private or public key.
func ParseKey(data []byte) (*Key, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("key: not a PEM file (want an ed25519 PRIVATE KEY or PUBLIC KEY)")
	}
	switch b.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("key: a %T, want ed25519", k)
		}
		return &Key{priv: priv, pub: priv.Public().(ed25519.PublicKey)}, nil
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("key: a %T, want ed25519", k)
		}
		return &Key{pub: pub}, nil
	}
	return nil, fmt.Errorf("key: PEM block %q, want PRIVATE KEY or PUBLIC KEY", b.Type)
}

// CanSign reports whether k is a private key.
func (k *Key) CanSign() bool { return k.priv != nil }

// Sign implements dsse.Signer: data is the envelope's PAE.
func (k *Key) Sign(_ context.Context, data []byte) ([]byte, error) {
	if k.priv == nil {
		return nil, errors.New("key: a public key cannot sign")
	}
	return ed25519.Sign(k.priv, data), nil
}

// Verify implements dsse.Verifier.
func (k *Key) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(k.pub, data, sig) {
		return ErrSignature
	}
	return nil
}

// KeyID is the sha256 of the public key (dsse.SHA256KeyID).
func (k *Key) KeyID() (string, error) { return dsse.SHA256KeyID(k.pub) }

// Public returns the public key.
func (k *Key) Public() crypto.PublicKey { return k.pub }

func (k *Key) sign(ctx context.Context, payload []byte) ([]byte, error) {
	s, err := dsse.NewEnvelopeSigner(k)
	if err != nil {
		return nil, err
	}
	env, err := s.SignPayload(ctx, PayloadType, payload)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	data, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func (k *Key) verify(ctx context.Context, envelope []byte) error {
	var env dsse.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return fmt.Errorf("certify: envelope: %w", err)
	}
	v, err := dsse.NewEnvelopeVerifier(k)
	if err != nil {
		return err
	}
	if _, err := v.Verify(ctx, &env); err != nil {
		return fmt.Errorf("%w with this key: %v", ErrSignature, err)
	}
	return nil
}
