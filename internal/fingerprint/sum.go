// Package fingerprint hashes file contents, builds the canonical
// fingerprint of a task and keeps the stat index that spares rehashing
// unchanged files (docs/design.md, "Fingerprints and the stat index").
// It knows nothing of Lua or of the runner; it is not yet wired in.
package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
)

// Sum is a SHA-256 content hash. The zero Sum is the hash of nothing in
// particular: no content hashes to it in practice.
type Sum [sha256.Size]byte

// String returns s as 64 lower-case hex digits.
func (s Sum) String() string { return hex.EncodeToString(s[:]) }

// MarshalText encodes s as its String, so JSON holds hex.
func (s Sum) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes 64 hex digits into s.
func (s *Sum) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(s) {
		return fmt.Errorf("fingerprint: hash %q: want %d hex digits", b, 2*len(s))
	}
	_, err := hex.Decode(s[:], b)
	if err != nil {
		return fmt.Errorf("fingerprint: hash %q: %w", b, err)
	}
	return nil
}

// Hasher computes a Sum from what is written to it. The zero Hasher is not
// usable; get one from NewHasher. A Hasher is not safe for concurrent use.
type Hasher struct{ h hash.Hash }

// NewHasher returns an empty Hasher.
func NewHasher() *Hasher { return &Hasher{sha256.New()} }

// Write adds p to the hash; it never fails.
func (h *Hasher) Write(p []byte) (int, error) { return h.h.Write(p) }

// Sum returns the hash of everything written so far.
func (h *Hasher) Sum() Sum {
	var s Sum
	h.h.Sum(s[:0])
	return s
}

// HashBytes returns the content hash of b.
func HashBytes(b []byte) Sum { return sha256.Sum256(b) }

// HashFile returns the content hash of the file at path (symlinks
// followed).
func HashFile(path string) (Sum, error) {
	f, err := os.Open(path)
	if err != nil {
		return Sum{}, err
	}
	defer f.Close()
	return hashReader(f)
}

// hashReader hashes r to its end.
func hashReader(r io.Reader) (Sum, error) {
	h := NewHasher()
	if _, err := io.Copy(h.h, r); err != nil {
		return Sum{}, err
	}
	return h.Sum(), nil
}
