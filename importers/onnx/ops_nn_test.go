package onnx_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// Behaviour the ONNX backend test data does not cover. Expected values
// come from naive loops written here.

func TestNNGroupNormalizationOpsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const N, C, H, W, G = 2, 4, 2, 3, 2
	x, xv := nnRand(t, rng, N, C, H, W)
	for _, opset := range []int64{18, 21} {
		np := int64(G)
		if opset == 21 {
			np = C
		}
		s, sv := nnRand(t, rng, np)
		b, bv := nnRand(t, rng, np)
		eps := 1e-3
		want := make([]float64, len(xv))
		per := C / G * H * W
		for n := range N {
			for g := range G {
				base := (n*C + g*C/G) * H * W
				mean, v := 0.0, 0.0
				for i := range per {
					mean += xv[base+i]
				}
				mean /= float64(per)
				for i := range per {
					v += (xv[base+i] - mean) * (xv[base+i] - mean)
				}
				v /= float64(per)
				for i := range per {
					p := g
					if opset == 21 {
						p = g*C/G + i/(H*W)
					}
					want[base+i] = (xv[base+i]-mean)/math.Sqrt(v+eps)*sv[p] + bv[p]
				}
			}
		}
		nnNode{op: "GroupNormalization", opset: opset, outs: []string{"y"},
			attrs:  []*onnxpbAttr{nnAttrInt("num_groups", G), nnAttrFloat("epsilon", float32(eps))},
			inputs: []nnVal{{"x", x}, {"s", s}, {"b", b}}}.check(t, "y", []int64{N, C, H, W}, want)
	}
}

func TestNNLpPoolAndGlobalLpPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, xv := nnRand(t, rng, 1, 2, 3, 4)
	// kernel 2x2, stride 1, pads top 1, right 1: out 3x4.
	want := []float64{}
	for c := range 2 {
		for i := range 3 {
			for j := range 4 {
				s := 0.0
				for kh := range 2 {
					for kw := range 2 {
						h, w := i+kh-1, j+kw
						if h >= 0 && h < 3 && w < 4 {
							s += xv[(c*3+h)*4+w] * xv[(c*3+h)*4+w]
						}
					}
				}
				want = append(want, math.Sqrt(s))
			}
		}
	}
	nnNode{op: "LpPool", opset: 18, outs: []string{"y"}, inputs: []nnVal{{"x", x}},
		attrs: []*onnxpbAttr{nnAttrInts("kernel_shape", 2, 2), nnAttrInts("pads", 1, 0, 0, 1), nnAttrInt("p", 2)}}.
		check(t, "y", []int64{1, 2, 3, 4}, want)
	g := make([]float64, 2)
	for c := range 2 {
		for i := range 12 {
			g[c] += math.Pow(math.Abs(xv[c*12+i]), 3)
		}
		g[c] = math.Pow(g[c], 1.0/3)
	}
	nnNode{op: "GlobalLpPool", opset: 2, outs: []string{"y"}, inputs: []nnVal{{"x", x}},
		attrs: []*onnxpbAttr{nnAttrInt("p", 3)}}.check(t, "y", []int64{1, 2, 1, 1}, g)
}

func TestNNConvTransposeOutputPaddingWithBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const C, M, I, K, S = 2, 3, 3, 3, 2
	x, xv := nnRand(t, rng, 1, C, I, I)
	w, wv := nnRand(t, rng, C, M, K, K)
	b, bv := nnRand(t, rng, M)
	const full = (I-1)*S + K + 1 // with output_padding 1
	acc := make([]float64, M*full*full)
	for ci := range C {
		for h := range I {
			for ww := range I {
				for m := range M {
					for kh := range K {
						for kw := range K {
							acc[(m*full+h*S+kh)*full+ww*S+kw] += xv[(ci*I+h)*I+ww] * wv[((ci*M+m)*K+kh)*K+kw]
						}
					}
				}
			}
		}
	}
	const out = full - 1 // pads begin 1, end 0
	want := make([]float64, 0, M*out*out)
	for m := range M {
		for i := range out {
			for j := range out {
				want = append(want, acc[(m*full+i+1)*full+j+1]+bv[m])
			}
		}
	}
	nnNode{op: "ConvTranspose", opset: 11, outs: []string{"y"},
		inputs: []nnVal{{"x", x}, {"w", w}, {"b", b}}, inits: map[string]*tensor.Tensor{"w": w, "b": b},
		attrs: []*onnxpbAttr{nnAttrInts("strides", S, S), nnAttrInts("pads", 1, 1, 0, 0), nnAttrInts("output_padding", 1, 1)}}.
		check(t, "y", []int64{1, M, out, out}, want)
}

func TestNNConv1DRuntimeWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const N, C, L, M, K = 2, 3, 7, 4, 3
	x, xv := nnRand(t, rng, N, C, L)
	w, wv := nnRand(t, rng, M, C, K)
	b, bv := nnRand(t, rng, M)
	// stride 2, dilation 2, pads 1/2: out = (7+3-5)/2+1 = 3.
	const out = 3
	want := []float64{}
	for n := range N {
		for m := range M {
			for o := range out {
				s := bv[m]
				for c := range C {
					for k := range K {
						p := o*2 + k*2 - 1
						if p >= 0 && p < L {
							s += xv[(n*C+c)*L+p] * wv[(m*C+c)*K+k]
						}
					}
				}
				want = append(want, s)
			}
		}
	}
	nnNode{op: "Conv", opset: 11, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"w", w}, {"b", b}},
		attrs: []*onnxpbAttr{nnAttrInts("strides", 2), nnAttrInts("dilations", 2), nnAttrInts("pads", 1, 2)}}.
		check(t, "y", []int64{N, M, out}, want)
}

func TestNNBatchNormRuntimeStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const N, C, L = 2, 3, 4
	x, xv := nnRand(t, rng, N, C, L)
	s, sv := nnRand(t, rng, C)
	b, bv := nnRand(t, rng, C)
	m, mv := nnRand(t, rng, C)
	vv := []float64{0.5, 1.25, 2}
	v, _ := tensor.FromFloat64s(tensor.Float32, []int64{C}, vv)
	want := make([]float64, len(xv))
	for i := range xv {
		c := i / L % C
		want[i] = (xv[i]-mv[c])/math.Sqrt(vv[c]+1e-5)*sv[c] + bv[c]
	}
	nnNode{op: "BatchNormalization", opset: 15, outs: []string{"y"},
		inputs: []nnVal{{"x", x}, {"s", s}, {"b", b}, {"m", m}, {"v", v}}}.check(t, "y", []int64{N, C, L}, want)
}

func TestNNAveragePoolCeilCountIncludePad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x, xv := nnRand(t, rng, 1, 1, 6, 6)
	// kernel 3, stride 2, pads 1: ceil gives 4 windows per dim; the last
	// overhangs the end padding, which does not count.
	want := []float64{}
	for i := range 4 {
		for j := range 4 {
			hs, ws := i*2-1, j*2-1
			s := 0.0
			for h := hs; h < hs+3; h++ {
				for w := ws; w < ws+3; w++ {
					if h >= 0 && h < 6 && w >= 0 && w < 6 {
						s += xv[h*6+w]
					}
				}
			}
			cnt := float64((min(hs+3, 7) - hs) * (min(ws+3, 7) - ws))
			want = append(want, s/cnt)
		}
	}
	nnNode{op: "AveragePool", opset: 11, outs: []string{"y"}, inputs: []nnVal{{"x", x}},
		attrs: []*onnxpbAttr{nnAttrInts("kernel_shape", 3, 3), nnAttrInts("strides", 2, 2), nnAttrInts("pads", 1, 1, 1, 1),
			nnAttrInt("ceil_mode", 1), nnAttrInt("count_include_pad", 1)}}.check(t, "y", []int64{1, 1, 4, 4}, want)
}

func TestNNAveragePoolDilations(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x, xv := nnRand(t, rng, 1, 2, 5, 5)
	want := []float64{}
	for c := range 2 {
		for i := range 3 {
			for j := range 3 {
				s := 0.0
				for kh := range 2 {
					for kw := range 2 {
						s += xv[(c*5+i+2*kh)*5+j+2*kw]
					}
				}
				want = append(want, s/4)
			}
		}
	}
	nnNode{op: "AveragePool", opset: 19, outs: []string{"y"}, inputs: []nnVal{{"x", x}},
		attrs: []*onnxpbAttr{nnAttrInts("kernel_shape", 2, 2), nnAttrInts("dilations", 2, 2)}}.check(t, "y", []int64{1, 2, 3, 3}, want)
}

func TestNNSoftmaxOpset11DynamicDims(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	x, xv := nnRand(t, rng, 2, 3, 4)
	want := make([]float64, len(xv))
	for n := range 2 {
		s := 0.0
		for i := range 12 {
			s += math.Exp(xv[n*12+i])
		}
		for i := range 12 {
			want[n*12+i] = math.Exp(xv[n*12+i]) / s
		}
	}
	nnNode{op: "Softmax", opset: 11, outs: []string{"y"}, inputs: []nnVal{{"x", x}},
		dims: map[string][]int64{"x": {-1, -1, -1}}}.check(t, "y", []int64{2, 3, 4}, want)
}

func TestNNMatMulVectorTimesBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	a, av := nnRand(t, rng, 3)
	b, bv := nnRand(t, rng, 2, 3, 4)
	want := []float64{}
	for n := range 2 {
		for j := range 4 {
			s := 0.0
			for k := range 3 {
				s += av[k] * bv[(n*3+k)*4+j]
			}
			want = append(want, s)
		}
	}
	nnNode{op: "MatMul", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"a", a}, {"b", b}}}.check(t, "y", []int64{2, 4}, want)
}

func TestNNErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	x6, _ := nnRand(t, rng, 1, 1, 2, 2, 2, 2)
	w6, _ := nnRand(t, rng, 1, 1, 1, 1, 1, 1)
	nnNode{op: "Conv", opset: 11, outs: []string{"y"}, inputs: []nnVal{{"x", x6}, {"w", w6}}, inits: map[string]*tensor.Tensor{"w": w6}}.
		wantErr(t, diag.UnsupportedAttr, "spatial dims are supported")
	x4, _ := nnRand(t, rng, 1, 4, 2, 2)
	nnNode{op: "LRN", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"x", x4}}}.
		wantErr(t, diag.UnsupportedAttr, "size=0 must be >= 1")
	nnNode{op: "MaxPool", opset: 12, outs: []string{"y"}, inputs: []nnVal{{"x", x4}}, attrs: []*onnxpbAttr{nnAttrInts("kernel_shape", 2)}}.
		wantErr(t, diag.UnsupportedAttr, "kernel_shape=[2] has 1 values")
	nnNode{op: "Resize", opset: 18, outs: []string{"y"}, inputs: []nnVal{{"x", x4}}, attrs: []*onnxpbAttr{nnAttrInt("antialias", 1)}}.
		wantErr(t, diag.UnsupportedAttr, "antialias")
	rois, _ := tensor.FromFloat32([]int64{1, 4}, []float32{0, 0, 1, 1})
	bi, _ := tensor.FromInt64([]int64{1}, []int64{0})
	nnNode{op: "RoiAlign", opset: 16, outs: []string{"y"}, inputs: []nnVal{{"x", x4}, {"r", rois}, {"i", bi}},
		attrs: []*onnxpbAttr{nnAttrString("mode", "min"), nnAttrInt("sampling_ratio", 1)}}.wantErr(t, diag.UnsupportedAttr, "want avg or max")
	nnNode{op: "RoiAlign", opset: 16, outs: []string{"y"}, inputs: []nnVal{{"x", x4}, {"r", rois}, {"i", bi}}}.
		wantErr(t, diag.UnsupportedAttr, "needs the rois at import time")
	nnNode{op: "Softmax", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"x", x4}}, attrs: []*onnxpbAttr{nnAttrInt("axis", 4)}}.
		wantErr(t, diag.UnsupportedAttr, "axis=4 is out of range")
}

func TestNNMaxPoolIndicesColumnMajor(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const C, H, W = 2, 3, 4
	x, xv := nnRand(t, rng, 1, C, H, W)
	var vals, idx []float64
	for c := range C {
		for j := range 2 { // output width 2, height 1
			best, bh, bw := math.Inf(-1), 0, 0
			for kh := range 2 {
				for kw := range 2 {
					h, w := kh, j*2+kw
					if v := xv[(c*H+h)*W+w]; v > best {
						best, bh, bw = v, h, w
					}
				}
			}
			vals = append(vals, best)
			idx = append(idx, float64(c*H*W+bw*H+bh))
		}
	}
	n := nnNode{op: "MaxPool", opset: 12, outs: []string{"y", "i"}, inputs: []nnVal{{"x", x}},
		attrs: []*onnxpbAttr{nnAttrInts("kernel_shape", 2, 2), nnAttrInts("strides", 2, 2), nnAttrInt("storage_order", 1)}}
	n.check(t, "y", []int64{1, C, 1, 2}, vals)
	n.check(t, "i", []int64{1, C, 1, 2}, idx)
}

func TestNNEinsumUpperCase(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	a, av := nnRand(t, rng, 2, 3)
	b, bv := nnRand(t, rng, 3, 4)
	want := []float64{}
	for i := range 2 {
		for k := range 4 {
			s := 0.0
			for j := range 3 {
				s += av[i*3+j] * bv[j*4+k]
			}
			want = append(want, s)
		}
	}
	nnNode{op: "Einsum", opset: 12, outs: []string{"y"}, inputs: []nnVal{{"a", a}, {"b", b}},
		attrs: []*onnxpbAttr{nnAttrString("equation", "Aj, jB -> AB")}}.check(t, "y", []int64{2, 4}, want)
}

func TestNNMissingInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	x, _ := nnRand(t, rng, 1, 2, 3, 3)
	for _, c := range []struct {
		op    string
		opset int64
	}{{"Conv", 11}, {"ConvTranspose", 11}, {"MatMul", 13}, {"Gemm", 13}, {"BatchNormalization", 15}, {"InstanceNormalization", 6},
		{"LayerNormalization", 17}, {"GroupNormalization", 21}, {"GridSample", 16}, {"MaxUnpool", 11}, {"RoiAlign", 16}, {"TopK", 11}} {
		nnNode{op: c.op, opset: c.opset, outs: []string{"y"}, inputs: []nnVal{{"x", x}}}.wantErr(t, diag.InvalidNode, "needs input")
	}
}

func TestNNResizeRuntimeScalesChannelAssertion(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	x, _ := nnRand(t, rng, 1, 2, 3, 3)
	sc, _ := tensor.FromFloat32([]int64{4}, []float32{1, 2, 2, 2})
	_, err := nnNode{op: "Resize", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"", nil}, {"s", sc}},
		attrs: []*onnxpbAttr{nnAttrString("mode", "linear")}}.run(t)
	if err == nil || !strings.Contains(err.Error(), "N and C scales must be 1") {
		t.Fatalf("got error %v; want the N and C scale assertion", err)
	}
}

func TestNNResizeHalfPixelSymmetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	x, xv := nnRand(t, rng, 1, 1, 2, 5)
	sc, _ := tensor.FromFloat32([]int64{4}, []float32{1, 1, 1, 0.7})
	s := float64(float32(0.7))
	const out = 3 // floor(5*0.7)
	off := 2.5 * (1 - out/(5*s))
	want := []float64{}
	for h := range 2 {
		for j := range out {
			p := (float64(j)+0.5)/s - 0.5 + off
			p = math.Min(math.Max(p, 0), 4)
			lo := math.Floor(p)
			hi := math.Min(lo+1, 4)
			f := p - lo
			want = append(want, xv[h*5+int(lo)]*(1-f)+xv[h*5+int(hi)]*f)
		}
	}
	nnNode{op: "Resize", opset: 19, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"", nil}, {"s", sc}},
		inits: map[string]*tensor.Tensor{"s": sc},
		attrs: []*onnxpbAttr{nnAttrString("mode", "linear"), nnAttrString("coordinate_transformation_mode", "half_pixel_symmetric")}}.
		check(t, "y", []int64{1, 1, 2, out}, want)
}

func TestNNFloat16ConvBatchNormPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	half := func(shape ...int64) (*tensor.Tensor, []float64) {
		f, _ := nnRand(t, rng, shape...)
		h, err := f.Convert(tensor.Float16)
		if err != nil {
			t.Fatal(err)
		}
		return h, h.Float64s()
	}
	const C, M, H = 2, 3, 4
	x, xv := half(1, C, H, H)
	w, wv := half(M, C, 1, 1)
	conv := make([]float64, M*H*H)
	for m := range M {
		for p := range H * H {
			for c := range C {
				conv[m*H*H+p] += xv[c*H*H+p] * wv[m*C+c]
			}
		}
	}
	nnNode{op: "Conv", opset: 11, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"w", w}}, inits: map[string]*tensor.Tensor{"w": w}}.
		check(t, "y", []int64{1, M, H, H}, conv)
	s, sv := half(C)
	b, bv := half(C)
	mu, mv := half(C)
	v, _ := tensor.FromFloat64s(tensor.Float16, []int64{C}, []float64{0.5, 2})
	bn := make([]float64, len(xv))
	for i := range xv {
		c := i / (H * H)
		bn[i] = (xv[i]-mv[c])/math.Sqrt(v.Float64s()[c]+1e-5)*sv[c] + bv[c]
	}
	nnNode{op: "BatchNormalization", opset: 15, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"s", s}, {"b", b}, {"m", mu}, {"v", v}},
		inits: map[string]*tensor.Tensor{"s": s, "b": b, "m": mu, "v": v}}.check(t, "y", []int64{1, C, H, H}, bn)
	gap := make([]float64, C)
	for i := range xv {
		gap[i/(H*H)] += xv[i] / (H * H)
	}
	nnNode{op: "GlobalAveragePool", opset: 1, outs: []string{"y"}, inputs: []nnVal{{"x", x}}}.check(t, "y", []int64{1, C, 1, 1}, gap)
}

func TestNNResizeRuntimeScalesNearestRank2(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	x, xv := nnRand(t, rng, 2, 5)
	sc, _ := tensor.FromFloat32([]int64{2}, []float32{1, 0.7})
	s := float64(float32(0.7))
	want := []float64{}
	for i := range 2 {
		for j := range 3 { // floor(5*0.7)
			k := min(int(math.Floor(float64(j)/s+0.5)), 4)
			want = append(want, xv[i*5+k])
		}
	}
	nnNode{op: "Resize", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"", nil}, {"s", sc}},
		attrs: []*onnxpbAttr{nnAttrString("coordinate_transformation_mode", "asymmetric"), nnAttrString("nearest_mode", "round_prefer_ceil")}}.
		check(t, "y", []int64{2, 3}, want)
}

func TestNNArgMaxTopKEarlyAxis(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	x, xv := nnRand(t, rng, 3, 1, 1, 1, 1, 2)
	arg, top := []float64{}, []float64{}
	for j := range 2 {
		best := 0
		for i := range 3 {
			if xv[i*2+j] > xv[best*2+j] {
				best = i
			}
		}
		arg = append(arg, float64(best))
	}
	for j := range 2 {
		top = append(top, xv[int(arg[j])*2+j])
	}
	nnNode{op: "ArgMax", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"x", x}}, attrs: []*onnxpbAttr{nnAttrInt("keepdims", 0)}}.
		check(t, "y", []int64{1, 1, 1, 1, 2}, arg)
	k, _ := tensor.FromInt64([]int64{1}, []int64{1})
	n := nnNode{op: "TopK", opset: 11, outs: []string{"v", "i"}, inputs: []nnVal{{"x", x}, {"k", k}}, inits: map[string]*tensor.Tensor{"k": k},
		attrs: []*onnxpbAttr{nnAttrInt("axis", 0)}}
	n.check(t, "v", []int64{1, 1, 1, 1, 1, 2}, top)
	n.check(t, "i", []int64{1, 1, 1, 1, 1, 2}, arg)
}

func TestNNTopKValuesOnly(t *testing.T) {
	x, _ := tensor.FromFloat32([]int64{4}, []float32{3, -1, 7, 2})
	k, _ := tensor.FromInt64([]int64{1}, []int64{2})
	nnNode{op: "TopK", opset: 11, outs: []string{"v"}, inputs: []nnVal{{"x", x}, {"k", k}}, inits: map[string]*tensor.Tensor{"k": k}}.
		check(t, "v", []int64{2}, []float64{7, 3})
}

func TestNNBatchNormNonSpatial(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	const N, C, L = 2, 3, 2
	x, xv := nnRand(t, rng, N, C, L)
	s, sv := nnRand(t, rng, C, L)
	b, bv := nnRand(t, rng, C, L)
	m, mv := nnRand(t, rng, C, L)
	vv := []float64{0.5, 1, 1.5, 2, 2.5, 3}
	v, _ := tensor.FromFloat64s(tensor.Float32, []int64{C, L}, vv)
	want := make([]float64, len(xv))
	for i := range xv {
		e := i % (C * L)
		want[i] = (xv[i]-mv[e])/math.Sqrt(vv[e]+1e-5)*sv[e] + bv[e]
	}
	nnNode{op: "BatchNormalization", opset: 7, outs: []string{"y"}, attrs: []*onnxpbAttr{nnAttrInt("spatial", 0)},
		inputs: []nnVal{{"x", x}, {"s", s}, {"b", b}, {"m", m}, {"v", v}},
		inits:  map[string]*tensor.Tensor{"s": s, "b": b, "m": m, "v": v}}.check(t, "y", []int64{N, C, L}, want)
}

func TestNNLRNEvenSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(39, 40))
	const C, P = 5, 3
	x, xv := nnRand(t, rng, 1, C, 1, P)
	const size, alpha, beta, bias = 4, 0.3, 0.005, 1.5 // even size, beta below the layer's range
	want := make([]float64, len(xv))
	for c := range C {
		for p := range P {
			s := 0.0
			for k := c - (size-1)/2; k <= c+size/2; k++ { // ceil((size-1)/2) = size/2 for even sizes
				if k >= 0 && k < C {
					s += xv[k*P+p] * xv[k*P+p]
				}
			}
			want[c*P+p] = xv[c*P+p] / math.Pow(bias+alpha/size*s, beta)
		}
	}
	nnNode{op: "LRN", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"x", x}},
		attrs: []*onnxpbAttr{nnAttrInt("size", size), nnAttrFloat("alpha", alpha), nnAttrFloat("beta", beta), nnAttrFloat("bias", bias)}}.
		check(t, "y", []int64{1, C, 1, P}, want)
}

func TestNNInstanceNorm1DAndLayerNormNoBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	const N, C, L = 2, 3, 4
	x, xv := nnRand(t, rng, N, C, L)
	s, sv := nnRand(t, rng, C)
	b, bv := nnRand(t, rng, C)
	norm := func(v []float64) []float64 {
		mean, vr := 0.0, 0.0
		for _, e := range v {
			mean += e
		}
		mean /= float64(len(v))
		for _, e := range v {
			vr += (e - mean) * (e - mean)
		}
		vr /= float64(len(v))
		out := make([]float64, len(v))
		for i, e := range v {
			out[i] = (e - mean) / math.Sqrt(vr+1e-5)
		}
		return out
	}
	inst := []float64{}
	for p := range N * C {
		for _, e := range norm(xv[p*L : (p+1)*L]) {
			inst = append(inst, e*sv[p%C]+bv[p%C])
		}
	}
	nnNode{op: "InstanceNormalization", opset: 6, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"s", s}, {"b", b}}}.
		check(t, "y", []int64{N, C, L}, inst)
	w, wv := nnRand(t, rng, C, L)
	ln := []float64{}
	for n := range N {
		for i, e := range norm(xv[n*C*L : (n+1)*C*L]) {
			ln = append(ln, e*wv[i])
		}
	}
	nnNode{op: "LayerNormalization", opset: 17, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"w", w}},
		inits: map[string]*tensor.Tensor{"w": w}, attrs: []*onnxpbAttr{nnAttrInt("axis", 1)}}.check(t, "y", []int64{N, C, L}, ln)
}

// roiAlignRef is RoiAlign as the ONNX reference and onnxruntime compute it.
func roiAlignRef(xv []float64, C, H, W int, rois []float64, bidx []int, outH, outW, sr int, scale, off float64, clampSize, isMax bool) []float64 {
	var out []float64
	for r := range len(bidx) {
		x1, y1 := rois[4*r]*scale-off, rois[4*r+1]*scale-off
		rw, rh := rois[4*r+2]*scale-off-x1, rois[4*r+3]*scale-off-y1
		if clampSize {
			rw, rh = math.Max(rw, 1), math.Max(rh, 1)
		}
		bh, bw := rh/float64(outH), rw/float64(outW)
		gh, gw := sr, sr
		if sr == 0 {
			gh, gw = int(math.Ceil(rh/float64(outH))), int(math.Ceil(rw/float64(outW)))
		}
		for c := range C {
			px := func(y, x int) float64 { return xv[((bidx[r]*C+c)*H+y)*W+x] }
			for ph := range outH {
				for pw := range outW {
					acc := 0.0
					first := true
					for iy := range gh {
						y := y1 + float64(ph)*bh + (float64(iy)+0.5)*bh/float64(gh)
						for ix := range gw {
							x := x1 + float64(pw)*bw + (float64(ix)+0.5)*bw/float64(gw)
							var v float64
							if !(y < -1 || y > float64(H) || x < -1 || x > float64(W)) {
								yy, xx := math.Max(y, 0), math.Max(x, 0)
								yl, xl := int(yy), int(xx)
								yh, xh := yl+1, xl+1
								if yl >= H-1 {
									yl, yh, yy = H-1, H-1, float64(H-1)
								}
								if xl >= W-1 {
									xl, xh, xx = W-1, W-1, float64(W-1)
								}
								ly, lx := yy-float64(yl), xx-float64(xl)
								hy, hx := 1-ly, 1-lx
								t := []float64{hy * hx * px(yl, xl), hy * lx * px(yl, xh), ly * hx * px(yh, xl), ly * lx * px(yh, xh)}
								if isMax {
									v = math.Max(math.Max(t[0], t[1]), math.Max(t[2], t[3]))
								} else {
									v = t[0] + t[1] + t[2] + t[3]
								}
							}
							switch {
							case !isMax:
								acc += v
							case first:
								acc = v
							default:
								acc = math.Max(acc, v)
							}
							first = false
						}
					}
					if !isMax {
						acc /= float64(gh * gw)
					}
					out = append(out, acc)
				}
			}
		}
	}
	return out
}

func TestNNRoiAlignMaxAndAdaptive(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	const N, C, H, W = 2, 2, 6, 7
	x, xv := nnRand(t, rng, N, C, H, W)
	rv := []float64{0.5, 1, 4.5, 5.5, 1, 0, 6.5, 3, -1, -0.5, 2, 7}
	rois, _ := tensor.FromFloat64s(tensor.Float32, []int64{3, 4}, rv)
	rv = rois.Float64s()
	bi, _ := tensor.FromInt64([]int64{3}, []int64{1, 0, 1})
	for _, tc := range []struct {
		name string
		sr   int
		max  bool
	}{{"max", 2, true}, {"adaptive avg", 0, false}, {"adaptive max", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			mode := "avg"
			if tc.max {
				mode = "max"
			}
			want := roiAlignRef(xv, C, H, W, rv, []int{1, 0, 1}, 3, 2, tc.sr, 0.9, 0.5, false, tc.max)
			nnNode{op: "RoiAlign", opset: 16, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"r", rois}, {"i", bi}},
				inits: map[string]*tensor.Tensor{"r": rois, "i": bi},
				attrs: []*onnxpbAttr{nnAttrString("mode", mode), nnAttrInt("sampling_ratio", int64(tc.sr)), nnAttrInt("output_height", 3),
					nnAttrInt("output_width", 2), nnAttrFloat("spatial_scale", 0.9)}}.check(t, "y", []int64{3, C, 3, 2}, want)
		})
	}
}

func TestNNLpPoolCeilMode(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	x, xv := nnRand(t, rng, 1, 1, 1, 5)
	// 1-d window 2, stride 2, ceil: windows [0,1], [2,3], [4] (overhang).
	want := []float64{}
	for _, w := range [][]int{{0, 1}, {2, 3}, {4}} {
		s := 0.0
		for _, i := range w {
			s += xv[i] * xv[i]
		}
		want = append(want, math.Sqrt(s))
	}
	nnNode{op: "LpPool", opset: 18, outs: []string{"y"}, inputs: []nnVal{{"x", x}},
		attrs: []*onnxpbAttr{nnAttrInts("kernel_shape", 1, 2), nnAttrInts("strides", 1, 2), nnAttrInt("ceil_mode", 1)}}.
		check(t, "y", []int64{1, 1, 1, 3}, want)
}

func TestNNResizeLinearAllDims(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	x, xv := nnRand(t, rng, 2, 1, 1, 1)
	sc, _ := tensor.FromFloat32([]int64{4}, []float32{2, 1, 1, 1})
	// Linear along dim 0 (beyond the layer's last 3), asymmetric: out j
	// reads j/2, clamped to the last element.
	want := []float64{xv[0], (xv[0] + xv[1]) / 2, xv[1], xv[1]}
	nnNode{op: "Resize", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"x", x}, {"", nil}, {"s", sc}}, inits: map[string]*tensor.Tensor{"s": sc},
		attrs: []*onnxpbAttr{nnAttrString("mode", "linear"), nnAttrString("coordinate_transformation_mode", "asymmetric")}}.
		check(t, "y", []int64{4, 1, 1, 1}, want)
}

func TestNNHardmaxDynamicAxis(t *testing.T) {
	x, _ := tensor.FromFloat32([]int64{2, 3}, []float32{1, 5, 5, -2, -1, -3})
	nnNode{op: "Hardmax", opset: 13, outs: []string{"y"}, inputs: []nnVal{{"x", x}}, dims: map[string][]int64{"x": {-1, -1}}}.
		check(t, "y", []int64{2, 3}, []float64{0, 1, 0, 0, 1, 0})
}
