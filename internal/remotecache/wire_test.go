package remotecache

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// protowireFields is fields written with protowire: the reference.
func protowireFields(b []byte) (out []string, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			return out, false
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			x, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return out, false
			}
			out, b = append(out, string(protowire.AppendVarint(protowire.AppendVarint(nil, uint64(num)), x))), b[m:]
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return out, false
			}
			out, b = append(out, string(protowire.AppendVarint(nil, uint64(num)))+"b"+string(v)), b[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return out, false
			}
			out, b = append(out, string(protowire.AppendVarint(nil, uint64(num)))+"f"), b[m:]
		}
	}
	return out, true
}

// oursFields is the same walk with fields.
func oursFields(b []byte) (out []string, ok bool) {
	err := fields(b, func(num int, typ wireType, v []byte, x uint64) error {
		switch typ {
		case varintType:
			out = append(out, string(appendVarint(appendVarint(nil, uint64(num)), x)))
		case bytesType:
			out = append(out, string(appendVarint(nil, uint64(num)))+"b"+string(v))
		default:
			out = append(out, string(appendVarint(nil, uint64(num)))+"f")
		}
		return nil
	})
	return out, err == nil
}

// TestWireMatchesProtowire: what this package writes is byte for byte
// what protowire writes, and it reads every message (valid, truncated or
// damaged) as protowire does.
func TestWireMatchesProtowire(t *testing.T) {
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	for i := range 2000 {
		var ours, ref []byte
		for range r.IntN(8) {
			num := 1 + r.IntN(1<<29-1)
			if r.IntN(2) == 0 {
				num = 1 + r.IntN(20)
			}
			switch r.IntN(4) {
			case 0:
				x := r.Uint64() >> r.IntN(64)
				ours = appendVarint(appendTag(ours, num, varintType), x)
				ref = protowire.AppendVarint(protowire.AppendTag(ref, protowire.Number(num), protowire.VarintType), x)
			case 1:
				v := make([]byte, r.IntN(300))
				for j := range v {
					v[j] = byte(r.Uint32())
				}
				ours = appendBytes(appendTag(ours, num, bytesType), v)
				ref = protowire.AppendBytes(protowire.AppendTag(ref, protowire.Number(num), protowire.BytesType), v)
			case 2:
				ours = appendString(appendTag(ours, num, bytesType), "a string")
				ref = protowire.AppendString(protowire.AppendTag(ref, protowire.Number(num), protowire.BytesType), "a string")
			case 3:
				// Fixed-size fields: written by protowire, read by both.
				ref = protowire.AppendFixed32(protowire.AppendTag(ref, protowire.Number(num), protowire.Fixed32Type), math.MaxUint32)
				ours = append(appendTag(ours, num, fixed32Type), 0xff, 0xff, 0xff, 0xff)
			}
		}
		if !bytes.Equal(ours, ref) {
			t.Fatalf("message %d: wrote %x, protowire %x", i, ours, ref)
		}
		check := func(what string, b []byte) {
			want, wok := protowireFields(b)
			got, gok := oursFields(b)
			if gok != wok || wok && !equal(got, want) {
				t.Fatalf("message %d, %s %x: read %q (ok %v), protowire %q (ok %v)", i, what, b, got, gok, want, wok)
			}
		}
		check("whole", ref)
		if len(ref) > 0 {
			check("truncated", ref[:r.IntN(len(ref))])
			damaged := bytes.Clone(ref)
			damaged[r.IntN(len(damaged))] ^= byte(1 + r.IntN(255))
			check("damaged", damaged)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
