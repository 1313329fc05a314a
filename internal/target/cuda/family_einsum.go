package cuda

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Einsum: the compiler's einsum pass turns an Einsum into matrix
// multiplies wherever it can; what reaches the target (a diagonal of a
// size known only at run time) runs as this kernel: one thread per output
// element sums the product of the operands over every contracted label,
// in the CPU engine's order (the last contracted label fastest) and, as
// the CPU engine's general path, in float64, rounded to float32 once.
//
// Meta: [operands K, output labels O, contracted labels S, the O output
// label sizes, the S contracted sizes, then per operand its element
// stride along each of the O and S labels (a repeated label walks the
// diagonal; 0 where the operand broadcasts)].
func init() {
	registerFamily(dsl.LayerEinsum, &kernelFamily{
		source: einsumKernel,
		plan:   einsumPlan,
	})
}

func einsumKernel(name string, l dsl.Layer) (string, bool) {
	k := l.NbInputs()
	var params, load strings.Builder
	for i := range k {
		t, ok := typeOf(l.Input(i).Type())
		if !ok || !isFloat(l.Input(i).Type()) {
			return "", false
		}
		fmt.Fprintf(&params, ", const %s* __restrict__ in%d", t.store, i)
		fmt.Fprintf(&load, " * (double)%s", t.loadf(fmt.Sprintf("in%d[off[%d]]", i, i)))
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, float* __restrict__ out%[2]s) {
  const int K = %[3]d, O = (int)m[1], S = (int)m[2];
  const i64* os = m + 3; const i64* ss = os + O; const i64* st = ss + S;
  i64 nsum = 1;
  for (int d = 0; d < S; ++d) nsum *= ss[d];
  for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (i64)gridDim.x * blockDim.x) {
    i64 base[K], off[K];
    for (int i = 0; i < K; ++i) base[i] = 0;
    i64 rem = e;
    for (int d = O - 1; d >= 0; --d) {
      const i64 x = rem %% os[d];
      rem /= os[d];
      for (int i = 0; i < K; ++i) base[i] += x * st[i * (O + S) + d];
    }
    double acc = 0.0;
    for (i64 s = 0; s < nsum; ++s) {
      for (int i = 0; i < K; ++i) off[i] = base[i];
      i64 r = s;
      for (int d = S - 1; d >= 0; --d) {
        const i64 x = r %% ss[d];
        r /= ss[d];
        for (int i = 0; i < K; ++i) off[i] += x * st[i * (O + S) + O + d];
      }
      acc += 1.0%[4]s;
    }
    out[e] = (float)acc;
  }
}
`, name, params.String(), k, load.String()), true
}

func einsumPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	eq := l.(*dsl.EinsumLayer).Equation()
	k := l.NbInputs()
	ranks := make([]int, k)
	dims := make([]dsl.Dims, k)
	for i := range k {
		dims[i] = dsl.Dims(v.dims[l.Input(i)])
		ranks[i] = len(dims[i])
	}
	spec, err := dsl.ParseEinsum(eq, ranks)
	if err != nil {
		return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: %v", dsl.LayerString(l), err)
	}
	size, err := dsl.EinsumLabelSizes(spec, dims)
	if err != nil {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time, equation %q: %v", dsl.LayerString(l), eq, err)
	}
	inOut := map[int]bool{}
	for _, id := range spec.Output {
		inOut[id] = true
	}
	var sum []int // contracted labels, in first use
	seen := map[int]bool{}
	for _, ids := range spec.Operands {
		for _, id := range ids {
			if !inOut[id] && !seen[id] {
				seen[id] = true
				sum = append(sum, id)
			}
		}
	}
	meta := []int64{int64(k), int64(len(spec.Output)), int64(len(sum))}
	var n int64 = 1
	for _, id := range spec.Output {
		meta = append(meta, size[id])
		n *= size[id]
	}
	for _, id := range sum {
		meta = append(meta, size[id])
	}
	for i, ids := range spec.Operands {
		st := make([]int64, len(size))
		cs := contiguous(dims[i])
		for j, id := range ids {
			if dims[i][j] == 1 && size[id] != 1 {
				continue // broadcast
			}
			st[id] += cs[j]
		}
		for _, id := range spec.Output {
			meta = append(meta, st[id])
		}
		for _, id := range sum {
			meta = append(meta, st[id])
		}
	}
	return meta, launch{n: n, grid: grid(n)}, nil
}
