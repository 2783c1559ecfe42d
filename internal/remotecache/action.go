package remotecache

import (
	"encoding/hex"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// Digest names a blob: its SHA-256 and its size, as REAPI's Digest does.
type Digest struct {
	Hash fingerprint.Sum
	Size int64
}

// OutputFile is one file of an ActionResult.
type OutputFile struct {
	Path       string // relative, slash-separated
	Digest     Digest
	Executable bool
}

// ActionResult is the part of REAPI's build.bazel.remote.execution.v2
// ActionResult message that this package reads and writes: the output
// files, the exit code and the stdout blob. It is encoded as that
// protobuf message, so servers that check what is stored under /ac/
// (bazel-remote does by default) accept it.
type ActionResult struct {
	OutputFiles []OutputFile
	ExitCode    int32
	Stdout      *Digest // nil: none
}

// Field numbers of REAPI v2's messages.
const (
	arOutputFiles  = 2 // ActionResult.output_files
	arExitCode     = 4 // ActionResult.exit_code
	arStdoutDigest = 6 // ActionResult.stdout_digest
	ofPath         = 1 // OutputFile.path
	ofDigest       = 2 // OutputFile.digest
	ofExecutable   = 4 // OutputFile.is_executable
	dgHash         = 1 // Digest.hash
	dgSize         = 2 // Digest.size_bytes
)

func appendDigest(b []byte, num int, d Digest) []byte {
	var m []byte
	m = appendTag(m, dgHash, bytesType)
	m = appendString(m, d.Hash.String())
	if d.Size != 0 {
		m = appendTag(m, dgSize, varintType)
		m = appendVarint(m, uint64(d.Size))
	}
	b = appendTag(b, num, bytesType)
	return appendBytes(b, m)
}

// Encode returns r as the protobuf ActionResult. Paths that are not
// valid UTF-8 (a protobuf string must be) are left out.
func (r *ActionResult) Encode() []byte {
	var b []byte
	for _, f := range r.OutputFiles {
		if !utf8.ValidString(f.Path) {
			continue
		}
		var m []byte
		m = appendTag(m, ofPath, bytesType)
		m = appendString(m, f.Path)
		m = appendDigest(m, ofDigest, f.Digest)
		if f.Executable {
			m = appendTag(m, ofExecutable, varintType)
			m = appendVarint(m, 1)
		}
		b = appendTag(b, arOutputFiles, bytesType)
		b = appendBytes(b, m)
	}
	if r.ExitCode != 0 {
		b = appendTag(b, arExitCode, varintType)
		b = appendVarint(b, uint64(int64(r.ExitCode)))
	}
	if r.Stdout != nil {
		b = appendDigest(b, arStdoutDigest, *r.Stdout)
	}
	return b
}

// File returns the output file at path, if r has one.
func (r *ActionResult) File(path string) (OutputFile, bool) {
	for _, f := range r.OutputFiles {
		if f.Path == path {
			return f, true
		}
	}
	return OutputFile{}, false
}

func decodeDigest(b []byte) (Digest, error) {
	var d Digest
	var hash string
	err := fields(b, func(num int, typ wireType, v []byte, x uint64) error {
		switch {
		case num == dgHash && typ == bytesType:
			hash = string(v)
		case num == dgSize && typ == varintType:
			d.Size = int64(x)
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	raw, err := hex.DecodeString(hash)
	if err != nil || len(raw) != len(d.Hash) {
		return d, fmt.Errorf("digest hash %q is not a SHA-256", hash)
	}
	if d.Size < 0 {
		return d, fmt.Errorf("digest size %d", d.Size)
	}
	copy(d.Hash[:], raw)
	return d, nil
}

// DecodeAction parses a protobuf ActionResult, keeping the fields
// ActionResult has and skipping the others.
func DecodeAction(b []byte) (*ActionResult, error) {
	r := &ActionResult{}
	err := fields(b, func(num int, typ wireType, v []byte, x uint64) error {
		switch {
		case num == arOutputFiles && typ == bytesType:
			var f OutputFile
			var hasDigest bool
			err := fields(v, func(num int, typ wireType, v []byte, x uint64) error {
				switch {
				case num == ofPath && typ == bytesType:
					f.Path = string(v)
				case num == ofDigest && typ == bytesType:
					d, err := decodeDigest(v)
					f.Digest, hasDigest = d, true
					return err
				case num == ofExecutable && typ == varintType:
					f.Executable = x != 0
				}
				return nil
			})
			if err == nil && !hasDigest {
				err = errors.New("an output file without a digest")
			}
			r.OutputFiles = append(r.OutputFiles, f)
			return err
		case num == arExitCode && typ == varintType:
			r.ExitCode = int32(x)
		case num == arStdoutDigest && typ == bytesType:
			d, err := decodeDigest(v)
			r.Stdout = &d
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("remotecache: action result: %w", err)
	}
	return r, nil
}
