package fingerprint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// The files this package keeps (the stat index, the task state) share one
// framing: a magic string whose last byte is the format version, the
// body as fixed-size big-endian integers, length-prefixed strings and
// hashes, then the SHA-256 of all that, so that truncation and
// corruption are detected.

// encoder builds a framed file.
type encoder struct{ b []byte }

func newEncoder(magic string, sizeHint int) *encoder {
	e := &encoder{b: make([]byte, 0, len(magic)+sizeHint+sha256.Size)}
	e.b = append(e.b, magic...)
	return e
}

func (e *encoder) u64(x uint64)  { e.b = binary.BigEndian.AppendUint64(e.b, x) }
func (e *encoder) str(s string)  { e.u64(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) sum(s Sum)     { e.b = append(e.b, s[:]...) }
func (e *encoder) bytes() []byte { sum := sha256.Sum256(e.b); return append(e.b, sum[:]...) }

// errTruncated is a body that ends early.
var errTruncated = errors.New("truncated")

// decoder reads a framed file; after the first short read every read
// returns zero and err is set.
type decoder struct {
	r   []byte
	err error
}

// newDecoder checks data's magic and checksum; what says what the file
// is, for the error ("not a stat index of this version").
func newDecoder(data []byte, magic, what string) (*decoder, error) {
	if len(data) < len(magic)+sha256.Size || string(data[:len(magic)]) != magic {
		return nil, errors.New("not " + what + " of this version")
	}
	body, tail := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], tail) {
		return nil, errors.New("checksum mismatch")
	}
	return &decoder{r: body[len(magic):]}, nil
}

func (d *decoder) take(n uint64) []byte {
	if d.err != nil || n > uint64(len(d.r)) {
		d.err = errTruncated
		return nil
	}
	b := d.r[:n]
	d.r = d.r[n:]
	return b
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) str() string { return string(d.take(d.u64())) }

func (d *decoder) sum() (s Sum) {
	copy(s[:], d.take(uint64(len(s))))
	return s
}

// count reads a count of items of at least min bytes each, refusing one
// the rest of the body cannot hold (so a corrupt count allocates nothing).
func (d *decoder) count(min uint64) uint64 {
	n := d.u64()
	if d.err == nil && n > uint64(len(d.r))/min {
		d.err = errTruncated
		return 0
	}
	return n
}

// end returns the first error, or an error if bytes are left over.
func (d *decoder) end() error {
	if d.err == nil && len(d.r) != 0 {
		return errors.New("trailing bytes")
	}
	return d.err
}
