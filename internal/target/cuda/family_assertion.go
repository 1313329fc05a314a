package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Assertion: the condition is checked on the device, and its first false
// element (the lowest index, as the CPU engine reports it) records a
// fault that becomes the CPU engine's AssertionFailed error with the
// layer's message. The layer has no outputs, so nothing reads what it
// computes; one block scans the condition (a shape tensor: rank 0 or 1,
// a few elements) 256 elements at a time and stops at the first chunk
// with a false element.
//
// Meta: [the condition's element count] (unread: n says it too).
func init() {
	registerFamily(dsl.LayerAssertion, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if l.Input(0).Type() != dsl.Bool {
				return false, "an assertion on " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: assertionKernel,
		plan: func(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
			n := volume(v.dims[l.Input(0)])
			// The kernel reads no metadata; one word keeps an engine
			// whose only metadata this is from having none.
			return []int64{n}, launch{n: n, grid: grid(1)}, nil
		},
		fault: func(l dsl.Layer, _ shapeValues, pos, _ int64) error {
			return &diag.Error{Code: diag.AssertionFailed, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(), Loc: l.Location(),
				Msg: fmt.Sprintf("assertion failed (element %d of %q is false): %s", pos, l.Input(0).Name(), l.(*dsl.AssertionLayer).Message())}
		},
	})
}

func assertionKernel(name string, l dsl.Layer) (string, bool) {
	if l.Input(0).Type() != dsl.Bool {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, const unsigned char* __restrict__ cond) {
  __shared__ int bad;
  if (blockIdx.x != 0) return;
  for (i64 base = 0; base < n; base += blockDim.x) {
    if (threadIdx.x == 0) bad = 0x7fffffff;
    __syncthreads();
    i64 j = base + threadIdx.x;
    if (j < n && cond[j] == 0) atomicMin(&bad, (int)threadIdx.x);
    __syncthreads();
    int b = bad;
    __syncthreads();
    if (b != 0x7fffffff) {
      if (threadIdx.x == 0) trtc_fault(fault, base + b, 0);
      return;
    }
  }
}
`, name), true
}
