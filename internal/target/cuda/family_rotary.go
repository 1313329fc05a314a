package cuda

import (
	"fmt"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// RotaryEmbedding: one thread per element of x, which reads its pair's
// other element and the pair's cosine and sine and computes
// x1·cos - x2·sin (the pair's first) or x2·cos + x1·sin (its second) in
// float, each product and the sum rounded on its own as the CPU engine's
// float32 arithmetic is (no fused multiply-add); elements past the rotary
// dim are copied. With position ids (data), the cache row of token (b, t)
// is ids[b, t], checked against the cache's rows: a bad id records a fault
// (the CPU engine's error; where several are bad, which one it names may
// differ) and its elements are copied.
//
// Meta: [heads, sequence, head size, rotary dim / 2, interleaved, cache
// rows]; n is x's volume.
func init() {
	registerFamily(dsl.LayerRotaryEmbedding, &kernelFamily{
		source: rotaryKernel,
		plan:   rotaryPlan,
		fault: func(l dsl.Layer, v shapeValues, pos, val int64) error {
			return fmt.Errorf("position id %d at index %d is outside the cache rows [0, %d)", val, pos, v.dims[l.Input(1)][0])
		},
	})
}

func rotaryKernel(name string, l dsl.Layer) (string, bool) {
	x, ok1 := typeOf(l.Input(0).Type())
	c, ok2 := typeOf(l.Input(1).Type())
	if !ok1 || !ok2 || !isFloat(l.Input(0).Type()) || !isFloat(l.Input(1).Type()) {
		return "", false
	}
	ids, row := "", "b * S + t"
	if t := l.Input(3); t != nil {
		ix, ok := indexCType(t.Type())
		if !ok {
			return "", false
		}
		ids = fmt.Sprintf(", const %s* __restrict__ ids", ix)
		row = "(i64)ids[b * S + t]"
	}
	check := ""
	if ids != "" {
		check = "if (row < 0 || row >= rows) { trtc_fault(fault, b * S + t, row); out[i] = x[i]; continue; }\n    "
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[2]s* __restrict__ x, const %[3]s* __restrict__ cs, const %[3]s* __restrict__ sn%[4]s) {
  const i64 H = m[0], S = m[1], D = m[2], half = m[3], inter = m[4], rows = m[5];
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    const i64 e = i %% D, vec = i / D, t = vec %% S, b = vec / (S * H);
    if (e >= 2 * half) { out[i] = x[i]; continue; }
    const bool first = inter ? (e %% 2) == 0 : e < half;
    const i64 p = inter ? e / 2 : (first ? e : e - half);
    const i64 partner = inter ? (first ? i + 1 : i - 1) : (first ? i + half : i - half);
    const i64 row = %[5]s;
    %[6]sconst float c = %[7]s, s = %[8]s, xi = %[9]s, xp = %[10]s;
    const float v = first ? __fsub_rn(__fmul_rn(xi, c), __fmul_rn(xp, s)) : __fadd_rn(__fmul_rn(xi, c), __fmul_rn(xp, s));
    out[i] = %[11]s;
  }
}
`, name, x.store, c.store, ids, row, check, c.loadf("cs[row * half + p]"), c.loadf("sn[row * half + p]"), x.loadf("x[i]"), x.loadf("x[partner]"), x.savef("v")), true
}

func rotaryPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	r := l.(*dsl.RotaryEmbeddingLayer)
	d := v.dims[l.Input(0)]
	cs, sn := v.dims[l.Input(1)], v.dims[l.Input(2)]
	b, h, s, hd := d[0], d[1], d[2], d[3]
	rot := int64(r.RotaryEmbeddingDim())
	if rot == 0 {
		rot = hd
	}
	if rot > hd || rot%2 != 0 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: rotary dim %d does not fit the head size %d", dsl.LayerString(l), rot, hd)
	}
	half := rot / 2
	if l.Input(3) == nil && (len(cs) != 3 || cs[0] != b || cs[1] != s) {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: caches %v do not match batch %d and sequence %d", dsl.LayerString(l), cs, b, s)
	}
	if len(cs) == 0 || cs[len(cs)-1] != half || !slices.Equal(cs, sn) {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: caches %v and %v need %d values per row", dsl.LayerString(l), cs, sn, half)
	}
	inter := int64(0)
	if r.Interleaved() {
		inter = 1
	}
	n := volume(d)
	return []int64{h, max(s, 1), max(hd, 1), half, inter, cs[0]}, launch{n: n, grid: grid(n)}, nil
}
