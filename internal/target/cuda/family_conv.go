package cuda

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Convolution, direct: one thread per output element, looping over the
// kernel's taps and the group's input channels, accumulating in float as
// the CPU engine does. It runs the convolutions the built-in path
// (kindConv: im2col + cuBLASLt, or cuDNN) does not take: those that are
// not 2-d and those whose kernel or bias is a tensor (inputs 1 and 2),
// with groups, dilation, strides, the padding the layer's Geometry
// resolves, and a bias from the layer's weights or input 2. Kernel and bias held as the layer's
// Weights reach the kernel as the family's weights (kernelFamily.weights).
//
// Meta: [ns, C, K, G, input spatial dims (ns), output spatial dims (ns),
// kernel dims (ns), strides (ns), dilations (ns), pre-padding (ns)].
func init() {
	registerFamily(dsl.LayerConvolution, &kernelFamily{
		takes: func(l dsl.Layer) bool {
			// chooseKind keeps 2-d float convolutions with the kernel as
			// weights on kindConv, except those with the bias as input 2,
			// which kindConv would leave out (it adds only bias weights).
			cl := l.(*dsl.ConvolutionLayer)
			return len(cl.KernelSizeNd()) != 2 || l.Input(1) != nil || l.Input(2) != nil || !isFloat(l.Input(0).Type())
		},
		lower:   func(l dsl.Layer) (bool, string) { return convLower(l.(convLike)) },
		source:  func(name string, l dsl.Layer) (string, bool) { return convKernel(name, l.(convLike), false) },
		plan:    func(l dsl.Layer, v shapeValues) ([]int64, launch, error) { return convPlan(l.(convLike), v, false) },
		weights: func(l dsl.Layer) []dsl.Weights { return convWeights(l.(convLike)) },
	})
}

// convLike is what convolution and deconvolution layers share.
type convLike interface {
	dsl.Layer
	NbOutputMaps() int64
	NbGroups() int64
	KernelWeights() dsl.Weights
	BiasWeights() dsl.Weights
	KernelSizeNd() dsl.Dims
	StrideNd() dsl.Dims
	DilationNd() dsl.Dims
	Geometry(in dsl.Dims) dsl.SpatialGeometry
}

// convMaxDims is the most spatial dims the direct kernels take (the
// coordinates live in a fixed array).
const convMaxDims = 8

// convWeights are the kernel and bias the layer holds as weights, in the
// order the kernel takes them: the kernel unless input 1 is, the bias
// unless input 2 is or there is none.
func convWeights(l convLike) []dsl.Weights {
	var w []dsl.Weights
	if l.Input(1) == nil {
		w = append(w, l.KernelWeights())
	}
	if l.Input(2) == nil && !l.BiasWeights().IsEmpty() {
		w = append(w, l.BiasWeights())
	}
	return w
}

// convLower checks the layer's types have a kernel.
func convLower(l convLike) (bool, string) {
	dt := l.Input(0).Type()
	if !isFloat(dt) {
		return false, "no direct convolution kernel for " + dt.String()
	}
	if l.Input(1) == nil && !isFloat(l.KernelWeights().Type()) {
		return false, "no direct convolution kernel for " + l.KernelWeights().Type().String() + " weights"
	}
	if l.Input(2) == nil && !l.BiasWeights().IsEmpty() && !isFloat(l.BiasWeights().Type()) {
		return false, "no direct convolution kernel for a " + l.BiasWeights().Type().String() + " bias"
	}
	return true, ""
}

// convValue is the C expression of weight element e of type wt as the CPU
// engine computes with it in a layer of type dt: float32 weights of an
// fp16/bf16 layer are rounded to the layer's type first (cpu
// convWeightValues).
func convValue(wt, dt dsl.DataType, e string) (string, bool) {
	wc, ok := typeOf(wt)
	dc, ok2 := typeOf(dt)
	if !ok || !ok2 || !isFloat(wt) || !isFloat(dt) {
		return "", false
	}
	v := wc.loadf(e)
	if wt == dt || dt == dsl.Float32 {
		return v, true
	}
	return dc.loadf(dc.savef(v)), true
}

// convSignature is the kernel's parameters after out (the input, the kernel
// w and the bias, from inputs or weights in the order the family's
// signature has them) and the float expressions of w[e] and bias[e]; bias
// is "" without one.
func convSignature(l convLike) (params string, wval, bval func(string) string, ok bool) {
	dt := l.Input(0).Type()
	c, _ := typeOf(dt)
	p := []string{fmt.Sprintf("const %s* __restrict__ x", c.store)}
	var ws []string
	wt, bt := dt, dt
	if l.Input(1) != nil {
		p = append(p, fmt.Sprintf("const %s* __restrict__ w", c.store))
	} else {
		wt = l.KernelWeights().Type()
		wc, ok := typeOf(wt)
		if !ok {
			return "", nil, nil, false
		}
		ws = append(ws, fmt.Sprintf("const %s* __restrict__ w", wc.store))
	}
	hasBias := true
	switch {
	case l.Input(2) != nil:
		p = append(p, fmt.Sprintf("const %s* __restrict__ bias", c.store))
	case !l.BiasWeights().IsEmpty():
		bt = l.BiasWeights().Type()
		bc, ok := typeOf(bt)
		if !ok {
			return "", nil, nil, false
		}
		ws = append(ws, fmt.Sprintf("const %s* __restrict__ bias", bc.store))
	default:
		hasBias = false
	}
	if _, ok := convValue(wt, dt, "0"); !ok {
		return "", nil, nil, false
	}
	if _, ok := convValue(bt, dt, "0"); hasBias && !ok {
		return "", nil, nil, false
	}
	wval = func(e string) string { v, _ := convValue(wt, dt, e); return v }
	bval = func(string) string { return "" }
	if hasBias {
		bval = func(e string) string { v, _ := convValue(bt, dt, e); return v }
	}
	return strings.Join(append(p, ws...), ", "), wval, bval, true
}

// convKernel writes the direct convolution (deconv false) or transposed
// convolution (deconv true) of l.
func convKernel(name string, l convLike, deconv bool) (string, bool) {
	dt := l.Input(0).Type()
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) {
		return "", false
	}
	params, wval, bval, ok := convSignature(l)
	if !ok {
		return "", false
	}
	bias := "0.f"
	if b := bval("bias[k]"); b != "" {
		bias = b
	}
	var body string
	if !deconv {
		// Weights (K, C/G, taps...): the output map's filter over its
		// group's channels; a tap outside the input (padding) is skipped.
		body = fmt.Sprintf(`    const %[1]s* xg = x + (b * C + (k / Kg) * Cg) * I;
    const i64 wk = k * Cg * KK;
    float acc = 0.f;
    for (i64 t = 0; t < KK; ++t) {
      i64 r = t, off = 0, s = 1; bool inside = true;
      for (int d = ns - 1; d >= 0; --d) {
        const i64 q = oc[d] * st[d] - pr[d] + (r %% kd[d]) * dl[d]; r /= kd[d];
        if (q < 0 || q >= id[d]) { inside = false; break; }
        off += q * s; s *= id[d];
      }
      if (!inside) continue;
      for (i64 ch = 0; ch < Cg; ++ch) acc += %[2]s * %[3]s;
    }
    acc += %[4]s;
`, c.store, wval("w[wk + ch * KK + t]"), c.loadf("xg[ch * I + off]"), bias)
	} else {
		// Weights (C, K/G, taps...): input position q feeds output
		// q*stride - pre + tap*dilation, so an output gathers, per tap,
		// the input position that lands on it, if there is one. As in
		// the CPU engine, the bias comes first and each tap's sum over
		// the group's channels is added to it in tap order.
		body = fmt.Sprintf(`    const %[1]s* xg = x + (b * C + (k / Kg) * Cg) * I;
    const i64 wk = ((k / Kg) * Cg * Kg + k %% Kg) * KK;
    float acc = %[4]s;
    for (i64 t = 0; t < KK; ++t) {
      i64 r = t, off = 0, s = 1; bool inside = true;
      for (int d = ns - 1; d >= 0; --d) {
        const i64 u = oc[d] + pr[d] - (r %% kd[d]) * dl[d]; r /= kd[d];
        if (u < 0 || u %% st[d] != 0 || u / st[d] >= id[d]) { inside = false; break; }
        off += (u / st[d]) * s; s *= id[d];
      }
      if (!inside) continue;
      float part = 0.f;
      for (i64 ch = 0; ch < Cg; ++ch) part += %[2]s * %[3]s;
      acc += part;
    }
`, c.store, wval("w[wk + ch * Kg * KK + t]"), c.loadf("xg[ch * I + off]"), bias)
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, %[3]s) {
  const int ns = (int)m[0];
  const i64 C = m[1], K = m[2], G = m[3];
  const i64* id = m + 4; const i64* od = id + ns; const i64* kd = od + ns;
  const i64* st = kd + ns; const i64* dl = st + ns; const i64* pr = dl + ns;
  i64 I = 1, P = 1, KK = 1;
  for (int d = 0; d < ns; ++d) { I *= id[d]; P *= od[d]; KK *= kd[d]; }
  const i64 Cg = C / G, Kg = K / G;
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    const i64 k = (i / P) %% K, b = i / (P * K);
    i64 oc[%[4]d];
    { i64 r = i %% P; for (int d = ns - 1; d >= 0; --d) { oc[d] = r %% od[d]; r /= od[d]; } }
%[5]s    out[i] = %[6]s;
  }
  (void)fault;
}
`, name, c.store, params, convMaxDims, body, c.savef("acc")), true
}

// convPlan checks the run-time shapes as the CPU engine does and lays out
// the metadata: one thread per output element.
func convPlan(l convLike, v shapeValues, deconv bool) ([]int64, launch, error) {
	in, out := v.dims[l.Input(0)], v.dims[l.Output(0)]
	ns := len(l.KernelSizeNd())
	if len(in) != ns+2 || len(out) != ns+2 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: input %v and output %v for a %d-d kernel", dsl.LayerString(l), in, out, ns)
	}
	if ns < 1 || ns > convMaxDims {
		return nil, launch{}, diag.Errorf(diag.UnsupportedAttr, "%s: %d spatial dims; the direct kernel takes 1 to %d", dsl.LayerString(l), ns, convMaxDims)
	}
	C, K, G := in[1], l.NbOutputMaps(), l.NbGroups()
	if G < 1 || C%G != 0 || K%G != 0 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: %d groups for %d input channels and %d output maps", dsl.LayerString(l), G, C, K)
	}
	g := l.Geometry(dsl.Dims(in[2:]))
	for i, o := range g.Out {
		if o <= 0 && in[2+i] != 0 {
			what := "kernel %v does not fit input dims %v"
			if deconv {
				what = "padding of kernel %v crops the whole output for input dims %v"
			}
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: "+what+": output spatial dim %d would be %d", dsl.LayerString(l), l.KernelSizeNd(), in, i, o)
		}
		if o != out[2+i] {
			return nil, launch{}, diag.Errorf(diag.Internal, "%s: output dims %v, but the geometry gives spatial dims %v", dsl.LayerString(l), out, g.Out)
		}
	}
	ks := l.KernelSizeNd()
	kshape := append([]int64{K, C / G}, ks...)
	if deconv {
		kshape = append([]int64{C, K / G}, ks...)
	}
	if t := l.Input(1); t != nil {
		if d := v.dims[t]; fmt.Sprint(d) != fmt.Sprint(kshape) {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: kernel has %d values, want shape %v", dsl.LayerString(l), volume(d), kshape)
		}
	} else if n := l.KernelWeights().Count(); n != volume(kshape) {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: kernel has %d values, want shape %v", dsl.LayerString(l), n, kshape)
	}
	if t := l.Input(2); t != nil {
		if n := volume(v.dims[t]); n != K {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: bias has %d values, want %d", dsl.LayerString(l), n, K)
		}
	} else if n := l.BiasWeights().Count(); !l.BiasWeights().IsEmpty() && n != K {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: bias has %d values, want %d", dsl.LayerString(l), n, K)
	}
	m := []int64{int64(ns), C, K, G}
	m = append(m, in[2:]...)
	m = append(m, g.Out...)
	m = append(m, ks...)
	m = append(m, l.StrideNd()...)
	m = append(m, l.DilationNd()...)
	m = append(m, g.Pre...)
	n := volume(out)
	return m, launch{n: n, grid: grid(n)}, nil
}
