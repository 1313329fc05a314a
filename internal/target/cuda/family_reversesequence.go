package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// ReverseSequence: one thread per output element, which copies (as bits)
// the input element at its own coordinates, with the sequence coordinate
// s mirrored to len-1-s where s < len, the length of its batch entry.
// The lengths are data, checked as the CPU engine checks them: the first
// threads check one entry each, and where one is outside [0, sequence
// length] the thread looks for the first bad entry and records it (every
// thread that finds a bad entry records that same one, the CPU engine's).
// An element whose length is bad is copied unmirrored.
//
// Meta: [sequence axis stride, sequence length, batch axis stride, batch
// length]; n is the output's volume (the grid also covers the entries).
func init() {
	registerFamily(dsl.LayerReverseSequence, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if _, ok := bitsOf(l.Input(0).Type()); !ok {
				return false, "no ReverseSequence kernel for " + l.Input(0).Type().String()
			}
			if _, ok := indexCType(l.Input(1).Type()); !ok {
				return false, "no ReverseSequence kernel for lengths of " + l.Input(1).Type().String()
			}
			return true, ""
		},
		source: reverseSequenceKernel,
		plan:   reverseSequencePlan,
		fault: func(l dsl.Layer, v shapeValues, pos, val int64) error {
			sa := l.(*dsl.ReverseSequenceLayer).SequenceAxis()
			d := v.dims[l.Input(0)]
			return fmt.Errorf("sequence length %d (entry %d of %q) is outside [0, %d], the length of sequence axis %d",
				val, pos, l.Input(1).Name(), d[sa], sa)
		},
	})
}

// bitsOf is elementBits for types of whole bytes only (a packed 4-bit
// type has no element of its own to move).
func bitsOf(dt dsl.DataType) (string, bool) {
	if dt.Bits() < 8 {
		return "", false
	}
	return elementBits(dt)
}

func reverseSequenceKernel(name string, l dsl.Layer) (string, bool) {
	t, ok1 := bitsOf(l.Input(0).Type())
	ix, ok2 := indexCType(l.Input(1).Type())
	if !ok1 || !ok2 {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ in, const %s* __restrict__ lens) {
  const i64 ss = m[0], S = m[1], bs = m[2], B = m[3];
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n || i < B; i += (i64)gridDim.x * blockDim.x) {
    if (i < B) {
      i64 len = (i64)lens[i];
      if (len < 0 || len > S) {
        for (i64 j = 0; j <= i; ++j) {
          i64 e = (i64)lens[j];
          if (e < 0 || e > S) { trtc_fault(fault, j, e); break; }
        }
      }
    }
    if (i >= n) continue;
    i64 s = (i / ss) %% S, len = (i64)lens[(i / bs) %% B], src = i;
    if (len >= 0 && len <= S && s < len) src += (len - 1 - 2 * s) * ss;
    out[i] = in[src];
  }
}
`, name, t, t, ix), true
}

func reverseSequencePlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	rs := l.(*dsl.ReverseSequenceLayer)
	d := v.dims[l.Input(0)]
	ba, sa := rs.BatchAxis(), rs.SequenceAxis()
	if ba < 0 || ba >= len(d) || sa < 0 || sa >= len(d) || ba == sa {
		return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: batch axis %d and sequence axis %d for an input of rank %d", dsl.LayerString(l), ba, sa, len(d))
	}
	if n := volume(v.dims[l.Input(1)]); n != d[ba] {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time, %d sequence lengths for a batch axis of %d (input %v)", dsl.LayerString(l), n, d[ba], d)
	}
	st := contiguous(d)
	n := volume(d)
	return []int64{st[sa], d[sa], st[ba], d[ba]}, launch{n: n, grid: grid(max(n, d[ba]))}, nil
}
