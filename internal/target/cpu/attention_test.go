package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// attnRef is a naive reference: for every (b, h, i), scores over j, the mask
// rules, softmax (or none), then the weighted sum of values. No scaling of
// Q·Kᵀ, as in TensorRT's IAttention.
type attnRef struct {
	b, hq, hkv, sq, skv, d int
	softmax                bool
	keep                   func(b, h, i, j int) bool    // nil: all kept
	add                    func(b, h, i, j int) float64 // nil: nothing added
	round                  func(p float64) float64      // nil: weights unchanged
}

func (r attnRef) run(q, k, v []float64) []float64 {
	out := make([]float64, r.b*r.hq*r.sq*r.d)
	for b := 0; b < r.b; b++ {
		for h := 0; h < r.hq; h++ {
			kh := h * r.hkv / r.hq
			for i := 0; i < r.sq; i++ {
				w := make([]float64, r.skv)
				kept := make([]bool, r.skv)
				for j := 0; j < r.skv; j++ {
					kept[j] = r.keep == nil || r.keep(b, h, i, j)
					dot := 0.0
					for x := 0; x < r.d; x++ {
						dot += q[((b*r.hq+h)*r.sq+i)*r.d+x] * k[((b*r.hkv+kh)*r.skv+j)*r.d+x]
					}
					if r.add != nil {
						dot += r.add(b, h, i, j)
					}
					w[j] = dot
				}
				if r.softmax {
					m, sum := math.Inf(-1), 0.0
					for j := range w {
						if kept[j] {
							m = math.Max(m, w[j])
						}
					}
					for j := range w {
						if kept[j] {
							w[j] = math.Exp(w[j] - m)
							sum += w[j]
						}
					}
					for j := range w {
						if kept[j] {
							w[j] /= sum
						}
					}
				}
				for j := range w {
					if !kept[j] {
						w[j] = 0
					}
					if r.round != nil {
						w[j] = r.round(w[j])
					}
				}
				for x := 0; x < r.d; x++ {
					acc := 0.0
					for j := range w {
						acc += w[j] * v[((b*r.hkv+kh)*r.skv+j)*r.d+x]
					}
					out[((b*r.hq+h)*r.sq+i)*r.d+x] = acc
				}
			}
		}
	}
	return out
}

// attnCase builds and runs one attention network on random inputs and
// compares with the reference.
func attnCase(t *testing.T, dt tensor.DataType, r attnRef, setup func(net *dsl.Network, l *dsl.AttentionLayer, ins map[string]*tensor.Tensor)) {
	t.Helper()
	rng := newRNG(uint64(r.sq*100 + r.skv*10 + r.hq))
	q, qv := randTensor(t, rng, dt, int64(r.b), int64(r.hq), int64(r.sq), int64(r.d))
	k, kv := randTensor(t, rng, dt, int64(r.b), int64(r.hkv), int64(r.skv), int64(r.d))
	v, vv := randTensor(t, rng, dt, int64(r.b), int64(r.hkv), int64(r.skv), int64(r.d))
	net := dsl.NewNetwork()
	// Batch and sequence dims dynamic: resolved at run time.
	iq := net.AddInput("q", dt, dsl.Dims{-1, int64(r.hq), -1, int64(r.d)})
	ik := net.AddInput("k", dt, dsl.Dims{-1, int64(r.hkv), -1, int64(r.d)})
	iv := net.AddInput("v", dt, dsl.Dims{-1, int64(r.hkv), -1, int64(r.d)})
	norm := dsl.AttentionNormNone
	if r.softmax {
		norm = dsl.AttentionNormSoftmax
	}
	l := net.AddAttention(iq, ik, iv, norm, false)
	ins := map[string]*tensor.Tensor{"q": q, "k": k, "v": v}
	if setup != nil {
		setup(net, l, ins)
	}
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, ins)[l.Output(0).Name()]
	want := r.run(qv, kv, vv)
	if dt != tensor.Float32 {
		want = roundTo(dt, want)
	}
	checkClose(t, got, []int64{int64(r.b), int64(r.hq), int64(r.sq), int64(r.d)}, want, r.skv*r.d)
}

func TestAttentionSoftmax(t *testing.T) {
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		t.Run(dt.String(), func(t *testing.T) {
			attnCase(t, dt, attnRef{b: 2, hq: 2, hkv: 2, sq: 3, skv: 5, d: 4, softmax: true}, nil)
		})
	}
}

func TestAttentionCausal(t *testing.T) {
	// Sq < Skv: upper-left lets query i see keys 0..i; lower-right keys 0..i+2.
	r := attnRef{b: 1, hq: 2, hkv: 2, sq: 3, skv: 5, d: 4, softmax: true,
		keep: func(b, h, i, j int) bool { return j <= i }}
	attnCase(t, tensor.Float32, r, func(_ *dsl.Network, l *dsl.AttentionLayer, _ map[string]*tensor.Tensor) { l.SetCausal(true) })
	r.keep = func(b, h, i, j int) bool { return j <= i+2 }
	attnCase(t, tensor.Float32, r, func(_ *dsl.Network, l *dsl.AttentionLayer, _ map[string]*tensor.Tensor) {
		l.SetCausalKind(dsl.CausalMaskLowerRight)
	})
	// Sq > Skv lower-right: the first rows see nothing and come out zero.
	r = attnRef{b: 1, hq: 1, hkv: 1, sq: 4, skv: 2, d: 3, softmax: true,
		keep: func(b, h, i, j int) bool { return j <= i-2 }}
	attnCase(t, tensor.Float16, r, func(_ *dsl.Network, l *dsl.AttentionLayer, _ map[string]*tensor.Tensor) {
		l.SetCausalKind(dsl.CausalMaskLowerRight)
	})
}

func TestAttentionGQA(t *testing.T) {
	attnCase(t, tensor.Float32, attnRef{b: 2, hq: 6, hkv: 2, sq: 4, skv: 4, d: 8, softmax: true,
		keep: func(b, h, i, j int) bool { return j <= i }}, func(_ *dsl.Network, l *dsl.AttentionLayer, _ map[string]*tensor.Tensor) {
		l.SetCausal(true)
	})
}

func TestAttentionMasks(t *testing.T) {
	const b, hq, sq, skv = 2, 2, 3, 4
	// Bool mask [1, 1, Sq, Skv], broadcast over batch and heads; row 1 fully masked.
	bm := []bool{true, false, true, true, false, false, false, false, true, true, false, true}
	r := attnRef{b: b, hq: hq, hkv: hq, sq: sq, skv: skv, d: 3, softmax: true,
		keep: func(_, _, i, j int) bool { return bm[i*skv+j] }}
	attnCase(t, tensor.Float32, r, func(net *dsl.Network, l *dsl.AttentionLayer, ins map[string]*tensor.Tensor) {
		l.SetMask(net.AddInput("m", tensor.Bool, dsl.Dims{1, 1, sq, skv}))
		m, _ := tensor.FromBool([]int64{1, 1, sq, skv}, bm)
		ins["m"] = m
	})
	// Additive mask [B, 1, Sq, Skv] in float16, with -inf entries.
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		rng := newRNG(5)
		av := randFloats(rng, b*sq*skv, -2, 2)
		av[3], av[7] = math.Inf(-1), math.Inf(-1)
		am := mustTensor(t, dt, []int64{b, 1, sq, skv}, av)
		avs := am.Float64s()
		r := attnRef{b: b, hq: hq, hkv: hq, sq: sq, skv: skv, d: 3, softmax: true,
			keep: func(bb, _, i, j int) bool { return !math.IsInf(avs[(bb*sq+i)*skv+j], -1) },
			add: func(bb, _, i, j int) float64 {
				if v := avs[(bb*sq+i)*skv+j]; !math.IsInf(v, -1) {
					return v
				}
				return 0
			}}
		attnCase(t, dt, r, func(net *dsl.Network, l *dsl.AttentionLayer, ins map[string]*tensor.Tensor) {
			l.SetMask(net.AddInput("m", dt, dsl.Dims{-1, 1, sq, skv}))
			ins["m"] = am
		})
	}
}

func TestAttentionNoNormalization(t *testing.T) {
	attnCase(t, tensor.Float32, attnRef{b: 1, hq: 2, hkv: 1, sq: 2, skv: 3, d: 4, softmax: false,
		keep: func(b, h, i, j int) bool { return j <= i }}, func(_ *dsl.Network, l *dsl.AttentionLayer, _ map[string]*tensor.Tensor) {
		l.SetCausal(true)
	})
}

func TestAttentionKVLengthsAndQuant(t *testing.T) {
	lens := []int32{2, 4}
	r := attnRef{b: 2, hq: 1, hkv: 1, sq: 2, skv: 4, d: 4, softmax: true,
		keep: func(b, _, _, j int) bool { return j < int(lens[b]) }}
	attnCase(t, tensor.Float32, r, func(net *dsl.Network, l *dsl.AttentionLayer, ins map[string]*tensor.Tensor) {
		l.SetKeyValueLengths(net.AddInput("len", tensor.Int32, dsl.Dims{2}))
		ins["len"], _ = tensor.FromInt32([]int64{2}, lens)
	})
	// Int8 quantization of the probabilities with scale 1/127: p -> round(p*127)/127.
	r = attnRef{b: 1, hq: 2, hkv: 2, sq: 3, skv: 3, d: 4, softmax: true,
		round: func(p float64) float64 {
			return math.RoundToEven(p/float64(float32(1.0/127))) * float64(float32(1.0/127))
		}}
	attnCase(t, tensor.Float32, r, func(net *dsl.Network, l *dsl.AttentionLayer, ins map[string]*tensor.Tensor) {
		l.SetNormalizationQuantizeScale(net.AddInput("qs", tensor.Float32, dsl.Dims{}))
		l.SetNormalizationQuantizeToType(tensor.Int8)
		ins["qs"] = mustTensor(t, tensor.Float32, []int64{}, []float64{1.0 / 127})
	})
}

func TestAttentionRuntimeErrors(t *testing.T) {
	net := dsl.NewNetwork()
	iq := net.AddInput("q", tensor.Float32, dsl.Dims{1, 1, 2, 2})
	ik := net.AddInput("k", tensor.Float32, dsl.Dims{1, 1, -1, 2})
	l := net.AddAttention(iq, ik, ik, dsl.AttentionNormSoftmax, false)
	l.SetKeyValueLengths(net.AddInput("len", tensor.Int32, dsl.Dims{1}))
	net.MarkOutput(l.Output(0))
	q, _ := randTensor(t, newRNG(3), tensor.Float32, 1, 1, 2, 2)
	k, _ := randTensor(t, newRNG(4), tensor.Float32, 1, 1, 3, 2)
	n, _ := tensor.FromInt32([]int64{1}, []int32{4})
	err := runErr(net, map[string]*tensor.Tensor{"q": q, "k": k, "len": n})
	if !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("length 4 > 3 keys: %v, want OutOfRange", err)
	}
}

func TestAttentionEmpty(t *testing.T) {
	// No keys at all: every softmax row is fully masked, so the output is zero.
	attnCase(t, tensor.Float32, attnRef{b: 1, hq: 1, hkv: 1, sq: 2, skv: 0, d: 3, softmax: true}, nil)
}
