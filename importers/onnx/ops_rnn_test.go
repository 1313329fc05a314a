package onnx

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// rnnRef is a naive RNN/GRU/LSTM written from the ONNX equations, the
// oracle of these tests. Tensors are flat, row-major, layout 0.
type rnnRef struct {
	kind              rnnKind
	seq, batch, in, h int
	dirs              int
	reverseOnly       bool
	x, w, r, b        []float64
	lens              []int
	h0, c0, p         []float64
	acts              [][]func(float64) float64 // per direction
	clip              float64
	lbr               bool
}

func rnnSigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// run returns Y [seq, dirs, batch, h], Y_h and Y_c [dirs, batch, h].
func (m rnnRef) run() (y, yh, yc []float64) {
	G, H := int(m.kind.gates()), m.h
	y = make([]float64, m.seq*m.dirs*m.batch*H)
	yh = make([]float64, m.dirs*m.batch*H)
	yc = make([]float64, m.dirs*m.batch*H)
	clip := func(v float64) float64 {
		if m.clip > 0 {
			return math.Max(-m.clip, math.Min(m.clip, v))
		}
		return v
	}
	for d := 0; d < m.dirs; d++ {
		rev := m.reverseOnly || d == 1
		W := func(g, i, k int) float64 { return m.w[((d*G+g)*H+i)*m.in+k] }
		R := func(g, i, k int) float64 { return m.r[((d*G+g)*H+i)*H+k] }
		bias := func(part, g, i int) float64 {
			if m.b == nil {
				return 0
			}
			return m.b[d*2*G*H+part*G*H+g*H+i]
		}
		for bt := 0; bt < m.batch; bt++ {
			L := m.seq
			if m.lens != nil {
				L = m.lens[bt]
			}
			h := make([]float64, H)
			c := make([]float64, H)
			if m.h0 != nil {
				copy(h, m.h0[(d*m.batch+bt)*H:])
			}
			if m.c0 != nil {
				copy(c, m.c0[(d*m.batch+bt)*H:])
			}
			for step := 0; step < L; step++ {
				t := step
				if rev {
					t = L - 1 - step
				}
				xt := m.x[(t*m.batch+bt)*m.in:]
				xw := func(g, i int) float64 {
					s := bias(0, g, i)
					for k := 0; k < m.in; k++ {
						s += xt[k] * W(g, i, k)
					}
					return s
				}
				hr := func(g, i int, hv []float64) float64 {
					s := 0.0
					for k := 0; k < H; k++ {
						s += hv[k] * R(g, i, k)
					}
					return s
				}
				f := m.acts[d]
				nh := make([]float64, H)
				switch m.kind {
				case rnnPlain:
					for i := range nh {
						nh[i] = f[0](clip(xw(0, i) + hr(0, i, h) + bias(1, 0, i)))
					}
				case rnnGRU:
					z, r := make([]float64, H), make([]float64, H)
					for i := range z {
						z[i] = f[0](clip(xw(0, i) + hr(0, i, h) + bias(1, 0, i)))
						r[i] = f[0](clip(xw(1, i) + hr(1, i, h) + bias(1, 1, i)))
					}
					rh := make([]float64, H)
					for i := range rh {
						rh[i] = r[i] * h[i]
					}
					for i := range nh {
						var pre float64
						if m.lbr {
							pre = xw(2, i) + r[i]*(hr(2, i, h)+bias(1, 2, i))
						} else {
							pre = xw(2, i) + hr(2, i, rh) + bias(1, 2, i)
						}
						hh := f[1](clip(pre))
						nh[i] = (1-z[i])*hh + z[i]*h[i]
					}
				case rnnLSTM: // W gates i, o, f, c; P i, o, f
					P := func(g, i int) float64 {
						if m.p == nil {
							return 0
						}
						return m.p[d*3*H+g*H+i]
					}
					nc := make([]float64, H)
					for i := range nc {
						ig := f[0](clip(xw(0, i) + hr(0, i, h) + bias(1, 0, i) + P(0, i)*c[i]))
						fg := f[0](clip(xw(2, i) + hr(2, i, h) + bias(1, 2, i) + P(2, i)*c[i]))
						cg := f[1](clip(xw(3, i) + hr(3, i, h) + bias(1, 3, i)))
						nc[i] = fg*c[i] + ig*cg
						og := f[0](clip(xw(1, i) + hr(1, i, h) + bias(1, 1, i) + P(1, i)*nc[i]))
						nh[i] = og * f[2](nc[i])
					}
					c = nc
				}
				h = nh
				copy(y[((t*m.dirs+d)*m.batch+bt)*H:], h)
			}
			copy(yh[(d*m.batch+bt)*H:], h)
			copy(yc[(d*m.batch+bt)*H:], c)
		}
	}
	return y, yh, yc
}

// rnnRand fills n values in [-1, 1) from a fixed sequence (never zeros).
func rnnRand(n int, seed uint64) []float64 {
	out := make([]float64, n)
	s := seed*2654435761 + 1
	for i := range out {
		s = s*6364136223846793005 + 1442695040888963407
		v := float64(s>>11)/float64(1<<53)*2 - 1
		if v == 0 {
			v = 0.5
		}
		out[i] = v
	}
	return out
}

func rnnF32(t *testing.T, shape []int64, v []float64) *tensor.Tensor {
	f := make([]float32, len(v))
	for i := range v {
		f[i] = float32(v[i])
		v[i] = float64(f[i]) // the reference sees the float32 inputs
	}
	return ctlF32T(t, shape, f...)
}

// rnnToLayout1 turns [seq, A, batch, h] into [batch, seq, A, h].
func rnnToLayout1(v []float64, seq, a, batch, h int) []float64 {
	out := make([]float64, len(v))
	for s := 0; s < seq; s++ {
		for i := 0; i < a; i++ {
			for b := 0; b < batch; b++ {
				copy(out[((b*seq+s)*a+i)*h:((b*seq+s)*a+i)*h+h], v[((s*a+i)*batch+b)*h:])
			}
		}
	}
	return out
}

func TestLSTMBidirectionalSequenceLensPeepholesClip(t *testing.T) {
	const S, B, I, H = 3, 2, 2, 3
	m := rnnRef{kind: rnnLSTM, seq: S, batch: B, in: I, h: H, dirs: 2, clip: 0.9,
		x: rnnRand(S*B*I, 1), w: rnnRand(2*4*H*I, 2), r: rnnRand(2*4*H*H, 3), b: rnnRand(2*8*H, 4),
		lens: []int{3, 1}, h0: rnnRand(2*B*H, 5), c0: rnnRand(2*B*H, 6), p: rnnRand(2*3*H, 7)}
	in := map[string]*tensor.Tensor{
		"X": rnnF32(t, []int64{S, B, I}, m.x), "W": rnnF32(t, []int64{2, 4 * H, I}, m.w), "R": rnnF32(t, []int64{2, 4 * H, H}, m.r),
		"B": rnnF32(t, []int64{2, 8 * H}, m.b), "h0": rnnF32(t, []int64{2, B, H}, m.h0), "c0": rnnF32(t, []int64{2, B, H}, m.c0),
		"P": rnnF32(t, []int64{2, 3 * H}, m.p),
	}
	in["L"], _ = tensor.FromInt32([]int64{B}, []int32{3, 1})
	for d := 0; d < 2; d++ {
		m.acts = append(m.acts, []func(float64) float64{rnnSigmoid, math.Tanh, math.Tanh})
	}
	g := &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{ctlNode("LSTM", []string{"X", "W", "R", "B", "L", "h0", "c0", "P"}, []string{"Y", "Y_h", "Y_c"},
			ctlAttrInt("hidden_size", H), ctlAttrString("direction", "bidirectional"), ctlAttrFloat("clip", 0.9))},
		Input: []*onnxpb.ValueInfoProto{vinfo("X", ctlFloat, S, -1, I), vinfo("W", ctlFloat, 2, 4*H, I), vinfo("R", ctlFloat, 2, 4*H, H),
			vinfo("B", ctlFloat, 2, 8*H), vinfo("L", onnxpb.TensorProto_INT32, -1), vinfo("h0", ctlFloat, 2, -1, H),
			vinfo("c0", ctlFloat, 2, -1, H), vinfo("P", ctlFloat, 2, 3*H)},
		Output: []*onnxpb.ValueInfoProto{vinfo("Y", ctlFloat), vinfo("Y_h", ctlFloat), vinfo("Y_c", ctlFloat)},
	}
	out := ctlRun(t, g, 14, in)
	y, yh, yc := m.run()
	ctlCheck(t, "Y", out["Y"], []int64{S, 2, B, H}, y, tensor.Float32, I+H)
	ctlCheck(t, "Y_h", out["Y_h"], []int64{2, B, H}, yh, tensor.Float32, I+H)
	ctlCheck(t, "Y_c", out["Y_c"], []int64{2, B, H}, yc, tensor.Float32, I+H)
}

func TestGRUBidirectionalLinearBeforeResetLayout1(t *testing.T) {
	const S, B, I, H = 4, 2, 3, 2
	for _, lbr := range []bool{true, false} {
		m := rnnRef{kind: rnnGRU, seq: S, batch: B, in: I, h: H, dirs: 2, lbr: lbr,
			x: rnnRand(S*B*I, 11), w: rnnRand(2*3*H*I, 12), r: rnnRand(2*3*H*H, 13), b: rnnRand(2*6*H, 14)}
		for d := 0; d < 2; d++ {
			m.acts = append(m.acts, []func(float64) float64{rnnSigmoid, math.Tanh})
		}
		x1 := rnnToLayout1(m.x, S, 1, B, I) // [batch, seq, in]
		in := map[string]*tensor.Tensor{
			"X": rnnF32(t, []int64{B, S, I}, x1), "W": rnnF32(t, []int64{2, 3 * H, I}, m.w), "R": rnnF32(t, []int64{2, 3 * H, H}, m.r),
			"B": rnnF32(t, []int64{2, 6 * H}, m.b),
		}
		m.x = rnnToLayoutBack(x1, S, B, I)
		lbrAttr := int64(0)
		if lbr {
			lbrAttr = 1
		}
		g := &onnxpb.GraphProto{
			Node: []*onnxpb.NodeProto{ctlNode("GRU", []string{"X", "W", "R", "B"}, []string{"Y", "Y_h"},
				ctlAttrInt("hidden_size", H), ctlAttrString("direction", "bidirectional"), ctlAttrInt("layout", 1),
				ctlAttrInt("linear_before_reset", lbrAttr))},
			Input: []*onnxpb.ValueInfoProto{vinfo("X", ctlFloat, -1, S, I), vinfo("W", ctlFloat, 2, 3*H, I),
				vinfo("R", ctlFloat, 2, 3*H, H), vinfo("B", ctlFloat, 2, 6*H)},
			Output: []*onnxpb.ValueInfoProto{vinfo("Y", ctlFloat), vinfo("Y_h", ctlFloat)},
		}
		out := ctlRun(t, g, 14, in)
		y, yh, _ := m.run()
		ctlCheck(t, "Y", out["Y"], []int64{B, S, 2, H}, rnnToLayout1(y, S, 2, B, H), tensor.Float32, I+H)
		// Y_h [dirs, batch, H] becomes [batch, dirs, H].
		yh1 := make([]float64, len(yh))
		for d := 0; d < 2; d++ {
			for b := 0; b < B; b++ {
				copy(yh1[(b*2+d)*H:(b*2+d)*H+H], yh[(d*B+b)*H:])
			}
		}
		ctlCheck(t, "Y_h", out["Y_h"], []int64{B, 2, H}, yh1, tensor.Float32, I+H)
	}
}

// rnnToLayoutBack turns [batch, seq, in] into [seq, batch, in].
func rnnToLayoutBack(v []float64, seq, batch, in int) []float64 {
	out := make([]float64, len(v))
	for b := 0; b < batch; b++ {
		for s := 0; s < seq; s++ {
			copy(out[(s*batch+b)*in:(s*batch+b)*in+in], v[(b*seq+s)*in:])
		}
	}
	return out
}

func TestRNNReverseAffineAndLeakyRelu(t *testing.T) {
	const S, B, I, H = 3, 1, 2, 2
	for _, tc := range []struct {
		attrs []*onnxpb.AttributeProto
		f     func(float64) float64
	}{
		{[]*onnxpb.AttributeProto{ctlAttrStrings("activations", "Affine"), ctlAttrFloats("activation_alpha", 0.5), ctlAttrFloats("activation_beta", -0.25)},
			func(v float64) float64 { return 0.5*v - 0.25 }},
		{[]*onnxpb.AttributeProto{ctlAttrStrings("activations", "LeakyRelu")}, // default alpha 0.01
			func(v float64) float64 { return math.Max(v, 0.01*v) }},
	} {
		m := rnnRef{kind: rnnPlain, seq: S, batch: B, in: I, h: H, dirs: 1, reverseOnly: true,
			x: rnnRand(S*B*I, 21), w: rnnRand(H*I, 22), r: rnnRand(H*H, 23), acts: [][]func(float64) float64{{tc.f}}}
		in := map[string]*tensor.Tensor{"X": rnnF32(t, []int64{S, B, I}, m.x), "W": rnnF32(t, []int64{1, H, I}, m.w), "R": rnnF32(t, []int64{1, H, H}, m.r)}
		attrs := append([]*onnxpb.AttributeProto{ctlAttrInt("hidden_size", H), ctlAttrString("direction", "reverse")}, tc.attrs...)
		g := &onnxpb.GraphProto{
			Node:   []*onnxpb.NodeProto{ctlNode("RNN", []string{"X", "W", "R"}, []string{"Y", "Y_h"}, attrs...)},
			Input:  []*onnxpb.ValueInfoProto{vinfo("X", ctlFloat, -1, B, I), vinfo("W", ctlFloat, 1, H, I), vinfo("R", ctlFloat, 1, H, H)},
			Output: []*onnxpb.ValueInfoProto{vinfo("Y", ctlFloat), vinfo("Y_h", ctlFloat)},
		}
		out := ctlRun(t, g, 14, in)
		y, yh, _ := m.run()
		ctlCheck(t, "Y", out["Y"], []int64{S, 1, B, H}, y, tensor.Float32, I+H)
		ctlCheck(t, "Y_h", out["Y_h"], []int64{1, B, H}, yh, tensor.Float32, I+H)
	}
}

func TestRNNUnknownActivation(t *testing.T) {
	g := &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{ctlNode("RNN", []string{"X", "W", "R"}, []string{"Y"},
			ctlAttrInt("hidden_size", 2), ctlAttrStrings("activations", "Swish"))},
		Input:  []*onnxpb.ValueInfoProto{vinfo("X", ctlFloat, 3, 1, 2), vinfo("W", ctlFloat, 1, 2, 2), vinfo("R", ctlFloat, 1, 2, 2)},
		Output: []*onnxpb.ValueInfoProto{vinfo("Y", ctlFloat)},
	}
	_, err := ImportBytes(ctlModel(t, g, 14), Options{})
	if !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), "Swish") {
		t.Fatalf("got %v, want UnsupportedAttr naming Swish", err)
	}
}
