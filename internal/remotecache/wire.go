package remotecache

import (
	"encoding/binary"
	"errors"
	"math"
)

// The protobuf wire format, the part an ActionResult needs
// (protobuf.dev/programming-guides/encoding): tags, varints and
// length-delimited fields, and skipping fixed-size ones. It is written
// here rather than taken from google.golang.org/protobuf/encoding/protowire
// because importing that package runs the initialisation of its internal
// packages (internal/detrand hashes the executable) in every hazlua run,
// ~80 µs of a 2 ms start; wire_test.go checks this code against protowire.

// wireType is a field's wire type.
type wireType byte

const (
	varintType  wireType = 0
	fixed64Type wireType = 1
	bytesType   wireType = 2
	fixed32Type wireType = 5
)

// errMalformed is the error of a message that does not parse.
var errMalformed = errors.New("malformed protobuf message")

// appendTag appends the tag of field num of wire type t.
func appendTag(b []byte, num int, t wireType) []byte {
	return binary.AppendUvarint(b, uint64(num)<<3|uint64(t))
}

// appendVarint appends x as a varint.
func appendVarint(b []byte, x uint64) []byte { return binary.AppendUvarint(b, x) }

// appendBytes appends v, length-delimited.
func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// appendString appends s, length-delimited.
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// fields calls f for each field of the message b: a varint field's value
// in x, a length-delimited field's bytes in v; fixed-size fields are
// passed with neither. It fails, never panics, on malformed input (groups,
// a deprecated wire type, count as malformed).
func fields(b []byte, f func(num int, typ wireType, v []byte, x uint64) error) error {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 || tag>>3 == 0 || tag>>3 > math.MaxInt32 { // protowire's bounds
			return errMalformed
		}
		b = b[n:]
		num, typ := int(tag>>3), wireType(tag&7)
		var v []byte
		var x uint64
		switch typ {
		case varintType:
			if x, n = binary.Uvarint(b); n <= 0 {
				return errMalformed
			}
		case bytesType:
			l, m := binary.Uvarint(b)
			if m <= 0 || l > uint64(len(b)-m) {
				return errMalformed
			}
			v, n = b[m:m+int(l)], m+int(l)
		case fixed64Type:
			n = 8
		case fixed32Type:
			n = 4
		default:
			return errMalformed
		}
		if n > len(b) {
			return errMalformed
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
