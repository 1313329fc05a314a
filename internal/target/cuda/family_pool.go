package cuda

import (
	"fmt"
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Pooling, direct, over any number of spatial dims: one thread per output
// element walks its window's overlap with the input, in the CPU engine's
// order (depth, row, column), so sums are the CPU's bit for bit. Every
// pooling type: max (NaN propagates, an empty window gives -inf), average
// with the padding counted (the window's overlap with the padded input)
// or not, and the max-average blend. The built-in 2-d kernel (poolKernel)
// keeps the 2-d max and average layers it writes.
//
// Meta: [ns, input spatial dims (ns), output spatial dims (ns), window
// (ns), strides (ns), pre-padding (ns), end of the padded input (ns:
// input dim + post-padding), blend factor's float32 bits].
func init() {
	registerFamily(dsl.LayerPooling, &kernelFamily{
		takes: func(l dsl.Layer) bool { return !poolBuiltin(l.(*dsl.PoolingLayer)) },
		lower: func(l dsl.Layer) (bool, string) {
			if dt := l.Input(0).Type(); !isFloat(dt) {
				return false, "no pooling kernel for " + dt.String()
			}
			return true, ""
		},
		source: poolNdKernel,
		plan:   poolNdPlan,
	})
}

// poolBuiltin reports whether the built-in kernel runs l: chooseKind
// takes 2-d pooling, and poolKernel writes max pooling of a float type
// (TestPoolFamilyTakes checks the two agree). Average pooling is this
// family's: its divisor is the window's overlap with the padded input, as
// on the CPU, where the built-in kernel divided by the whole window (which
// differs where a rounded-up window hangs past the padding). It is called
// for every launch, so it does not write the kernel to find out.
func poolBuiltin(l *dsl.PoolingLayer) bool {
	return len(l.WindowSizeNd()) == 2 && l.Input(0).Rank() == 4 && isFloat(l.Input(0).Type()) &&
		l.PoolingType() == dsl.PoolingMax
}

func poolNdKernel(name string, l dsl.Layer) (string, bool) {
	pl := l.(*dsl.PoolingLayer)
	dt := l.Input(0).Type()
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) {
		return "", false
	}
	count := "padded"
	if pl.AverageCountExcludesPadding() {
		count = "inside"
	}
	avg := fmt.Sprintf("(%s > 0 ? sum / (float)%s : 0.f)", count, count)
	var res string
	switch pl.PoolingType() {
	case dsl.PoolingMax:
		res = "mx"
	case dsl.PoolingAverage:
		res = avg
	case dsl.PoolingMaxAverageBlend:
		// Rounded step by step, as Go computes (1-blend)*max + blend*avg.
		res = fmt.Sprintf("__fadd_rn(__fmul_rn(1.f - blend, mx), __fmul_rn(blend, %s))", avg)
	default:
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[2]s* __restrict__ x) {
  const int ns = (int)m[0];
  const i64* id = m + 1; const i64* od = id + ns; const i64* wn = od + ns;
  const i64* st = wn + ns; const i64* pr = st + ns; const i64* en = pr + ns;
  const float blend = __int_as_float((int)en[ns]);
  i64 I = 1, P = 1;
  for (int d = 0; d < ns; ++d) { I *= id[d]; P *= od[d]; }
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    const %[2]s* src = x + (i / P) * I;
    i64 a[%[3]d], b[%[3]d], c[%[3]d];
    i64 inside = 1, padded = 1;
    { i64 r = i %% P;
      for (int d = ns - 1; d >= 0; --d) {
        const i64 lo = (r %% od[d]) * st[d] - pr[d]; r /= od[d];
        a[d] = min(max(lo, 0LL), id[d]);
        b[d] = max(min(lo + wn[d], id[d]), a[d]);
        inside *= b[d] - a[d];
        padded *= max(min(lo + wn[d], en[d]) - max(lo, -pr[d]), 0LL);
        c[d] = a[d];
      } }
    float mx = -__int_as_float(0x7f800000), sum = 0.f;
    if (inside > 0) {
      for (;;) {
        i64 off = 0;
        for (int d = 0; d < ns; ++d) off = off * id[d] + c[d];
        const float v = %[4]s;
        mx = (v > mx || v != v) ? v : mx;
        sum += v;
        int d = ns - 1;
        while (d >= 0 && ++c[d] == b[d]) { c[d] = a[d]; --d; }
        if (d < 0) break;
      }
    }
    out[i] = %[5]s;
  }
  (void)fault; (void)blend;
}
`, name, c.store, convMaxDims, c.loadf("src[off]"), c.savef(res)), true
}

func poolNdPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	pl := l.(*dsl.PoolingLayer)
	in, out := v.dims[l.Input(0)], v.dims[l.Output(0)]
	win := pl.WindowSizeNd()
	ns := len(win)
	if ns < 1 || ns > convMaxDims || len(in) != ns+2 || len(out) != ns+2 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: input %v and output %v for a %d-d window (1 to %d dims)", dsl.LayerString(l), in, out, ns, convMaxDims)
	}
	g := pl.Geometry(dsl.Dims(in[2:]))
	for i, o := range g.Out {
		if o <= 0 && in[2+i] != 0 {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: window %v does not fit input dims %v: output spatial dim %d would be %d", dsl.LayerString(l), win, in, i, o)
		}
		if o != out[2+i] {
			return nil, launch{}, diag.Errorf(diag.Internal, "%s: output dims %v, but the geometry gives spatial dims %v", dsl.LayerString(l), out, g.Out)
		}
	}
	m := []int64{int64(ns)}
	m = append(m, in[2:]...)
	m = append(m, g.Out...)
	m = append(m, win...)
	m = append(m, pl.StrideNd()...)
	m = append(m, g.Pre...)
	for i, p := range g.Post {
		m = append(m, in[2+i]+p)
	}
	m = append(m, int64(math.Float32bits(pl.BlendFactor())))
	n := volume(out)
	return m, launch{n: n, grid: grid(n)}, nil
}
