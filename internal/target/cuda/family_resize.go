package cuda

import (
	"fmt"
	"math"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
)

// Resize: every mode (nearest, linear, cubic), coordinate transformation,
// single-pixel selector, nearest rounding, cubic coefficient and
// exclude-outside, over any number of resized axes. The taps (input index
// and weight of each output index along each resized axis) are worked out
// on the host by the CPU engine's own ResizeTaps (coordinates in float64,
// weights rounded to float32) and travel in the metadata, so the index
// selection at exact halves is the CPU engine's by construction.
//
// The CPU engine resizes one axis at a time, innermost first, into float32
// intermediates; each thread evaluates the same nested sums for its output
// element: the innermost resized axis's taps summed first, each level's
// sum a float32 accumulation from 0 in tap order, with products and sums
// rounded separately (__fmul_rn, __fadd_rn: no contraction into FMAs), so
// the result is bit-identical to the CPU's before the final store.
//
// Input 1 (the output dims as a shape tensor) is a parameter: its values
// decide the output dims and are read on the host.
//
// Meta: [r, D, output dims (r), input strides (r), resized axes in
// increasing order (D), taps per output index of each (D), offset in meta
// of each one's taps (D), taps]. A level's taps are K slots per output
// index, each (input index << 32 | float32 weight bits), -1 past the last.
func init() {
	registerFamily(dsl.LayerResize, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if !isFloat(l.Input(0).Type()) {
				return false, "no resize kernel for " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: resizeKernel,
		plan:   resizePlan,
		params: []int{1},
	})
}

// resizeMaxLevels is the most axes any mode resizes (nearest: the last 8).
const resizeMaxLevels = 8

func resizeKernel(name string, l dsl.Layer) (string, bool) {
	dt := l.Input(0).Type()
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) {
		return "", false
	}
	sizes := ""
	if l.Input(1) != nil {
		sizes = ", const void* __restrict__ sizes"
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[2]s* __restrict__ in%[3]s) {
  int r = (int)m[0], D = (int)m[1];
  const i64* od = m + 2;
  const i64* is = od + r;
  const i64* ax = is + r;
  const i64* K = ax + D;
  const i64* to = K + D;
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    const i64* tp[%[6]d];
    int cnt[%[6]d], t[%[6]d];
    float acc[%[6]d];
    i64 off[%[6]d + 1];
    i64 rem = i, base = 0;
    bool none = false;
    int k = D - 1;
    for (int d = r - 1; d >= 0; --d) {
      i64 c = rem %% od[d];
      rem /= od[d];
      if (k >= 0 && ax[k] == d) {
        tp[k] = m + to[k] + c * K[k];
        int q = 0;
        while (q < (int)K[k] && tp[k][q] >= 0) ++q;
        cnt[k] = q;
        none = none || q == 0;
        --k;
      } else {
        base += c * is[d];
      }
    }
    if (D == 0) { out[i] = %[4]s; continue; }
    if (none) { out[i] = %[5]s; continue; }
    off[0] = base;
    for (int j = 0; j < D; ++j) {
      t[j] = 0;
      acc[j] = 0.f;
      off[j + 1] = off[j] + (tp[j][0] >> 32) * is[ax[j]];
    }
    float val;
    for (;;) {
      val = %[7]s;
      int j = D - 1;
      for (;;) {
        acc[j] = __fadd_rn(acc[j], __fmul_rn(__uint_as_float((unsigned)tp[j][t[j]]), val));
        if (++t[j] < cnt[j]) break;
        val = acc[j];
        acc[j] = 0.f;
        t[j] = 0;
        if (--j < 0) break;
      }
      if (j < 0) break;
      for (int q = j; q < D; ++q) off[q + 1] = off[q] + (tp[q][t[q]] >> 32) * is[ax[q]];
    }
    out[i] = %[8]s;
  }
}
`, name, c.store, sizes, c.savef(c.loadf("in[base]")), c.savef("0.f"), resizeMaxLevels, c.loadf("in[off[D]]"), c.savef("val")), true
}

func resizePlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	rl := l.(*dsl.ResizeLayer)
	shape := v.dims[l.Input(0)]
	r := len(shape)
	scales := rl.Scales()
	var out []int64
	switch {
	case l.Input(1) != nil:
		vals, ok := v.values[l.Input(1)]
		if !ok {
			return nil, launch{}, diag.Errorf(diag.UnsupportedNode, "%s: the values of its output shape tensor are not known when its launch is planned", dsl.LayerString(l))
		}
		if len(vals) != r {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: output shape tensor holds %d values; the input has %d dims", dsl.LayerString(l), len(vals), r)
		}
		for i, d := range vals {
			if d < 0 {
				return nil, launch{}, diag.Errorf(diag.OutOfRange, "%s: output shape tensor holds %v; dim %d is negative", dsl.LayerString(l), vals, i)
			}
		}
		out = slices.Clone(vals)
		scales = nil // a dynamic resize ignores static scales
	case scales != nil:
		if len(scales) != r {
			return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: %d scales for an input of rank %d", dsl.LayerString(l), len(scales), r)
		}
		out = make([]int64, r)
		for i, s := range scales {
			out[i] = dsl.ResizeScaledDim(shape[i], s)
		}
	default:
		out = rl.OutputDimensions()
		if len(out) != r {
			return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: output dims %v for an input of rank %d", dsl.LayerString(l), out, r)
		}
	}
	limit := resizeLimit(rl.ResizeMode())
	for i := 0; i < r; i++ {
		if i < r-limit && out[i] != shape[i] {
			return nil, launch{}, diag.Errorf(diag.UnsupportedAttr, "%s: %v resize changes dim %d (%d to %d); it may only resize the last %d dims", dsl.LayerString(l), rl.ResizeMode(), i, shape[i], out[i], limit)
		}
		if shape[i] == 0 && out[i] != 0 {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: cannot resize empty dim %d to %d", dsl.LayerString(l), i, out[i])
		}
		if shape[i] > math.MaxInt32 {
			return nil, launch{}, diag.Errorf(diag.UnsupportedNode, "%s: dim %d of the input (%d) is too large for the resize kernel", dsl.LayerString(l), i, shape[i])
		}
	}
	if got := v.dims[l.Output(0)]; !slices.Equal(got, out) {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: the output dims are %v but the resize gives %v", dsl.LayerString(l), got, out)
	}
	n := volume(out)
	var axes []int64
	if n > 0 {
		for a := 0; a < r; a++ {
			if !(out[a] == shape[a] && (scales == nil || scales[a] == 1)) {
				axes = append(axes, int64(a))
			}
		}
	}
	D := len(axes)
	m := []int64{int64(r), int64(D)}
	m = append(m, out...)
	m = append(m, contiguous(shape)...)
	m = append(m, axes...)
	k := int64(resizeSlots(rl.ResizeMode()))
	for range axes {
		m = append(m, k)
	}
	offs := len(m)
	m = append(m, make([]int64, D)...)
	for j, a := range axes {
		m[offs+j] = int64(len(m))
		scale := float32(0)
		if scales != nil {
			scale = scales[a]
		}
		for _, taps := range cpueng.ResizeTaps(rl, int(shape[a]), int(out[a]), scale) {
			for q := range int(k) {
				if q < len(taps) {
					m = append(m, int64(taps[q].Idx)<<32|int64(math.Float32bits(taps[q].W)))
				} else {
					m = append(m, -1)
				}
			}
		}
	}
	return m, launch{n: n, grid: grid(n)}, nil
}

// resizeLimit is how many innermost dims a mode may resize (the CPU
// engine's limits).
func resizeLimit(m dsl.InterpolationMode) int {
	switch m {
	case dsl.InterpolationNearest:
		return resizeMaxLevels
	case dsl.InterpolationLinear:
		return 3
	}
	return 2
}

// resizeSlots is the most taps a mode has per output index.
func resizeSlots(m dsl.InterpolationMode) int {
	switch m {
	case dsl.InterpolationNearest:
		return 1
	case dsl.InterpolationLinear:
		return 2
	}
	return 4
}
