// Package attention recognizes scaled dot-product attention as PyTorch
// and TensorFlow export it,
//
//	MatMul(softmax(MatMul(Q, Kᵀ) · c + mask), V)
//
// (the scale c, a Mul or Div by a scalar constant, and the additive mask
// optional) and rewrites it into one Attention layer reading Q · c, as
// TensorRT's builder fuses multi-head attention and onnx-tensorrt maps
// ONNX's Attention. On the GPU the layer is one fused kernel: the scores
// and probabilities never reach memory, and four launches (two products,
// the scaled masked softmax, and the key transpose where it stays a copy)
// become one. The scale moves onto Q because TensorRT's IAttention, whose
// semantics the layer has, applies none: (Q·c)·Kᵀ equals (Q·Kᵀ)·c up to
// rounding.
package attention

import (
	"slices"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// Fuse rewrites every attention pattern of g into an Attention layer, or
// returns g when it has none. The scores, the scaled scores, the masked
// scores and the probabilities must each be read by the next layer of
// the pattern alone; Q, K and V must be rank 4 ([batch, heads, sequence,
// head dim]) of one float type, with the keys read transposed by the
// first product (the matmul-transposes pass makes the exported transpose
// that) and the softmax over the last axis.
//
// Only attention that computes in half or bfloat16 is rewritten (the
// network's or the build's precision), as TensorRT fuses multi-head
// attention only below float32: in float32 the two products run as
// float32 GEMMs, which a fused kernel on CUDA cores does not beat.
func Fuse(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	net := g.Net
	uses := ir.UseCounts(net)
	found := map[dsl.Layer]match{} // the second product -> its match
	inner := map[dsl.Layer]bool{}  // the pattern's other layers
	for _, l := range net.TopoLayers() {
		if m, ok := find(l, uses); ok && (o.Compute == dsl.Float16 || o.Compute == dsl.BFloat16 || m.q.Type() != dsl.Float32) {
			found[l] = m
			for _, p := range m.inner {
				inner[p] = true
			}
		}
	}
	if len(found) == 0 {
		return g, nil
	}
	r := ir.NewRebuilder(net)
	for _, l := range net.TopoLayers() {
		m, last := found[l]
		switch {
		case last:
			q := r.Map(m.q)
			if m.scale != 1 {
				w, err := scaleWeights(m.scale, q.Type())
				if err != nil {
					return nil, err
				}
				c := r.Dst.AddConstant(dsl.Dims{1, 1, 1, 1}, w)
				c.SetName(l.Name() + "/scale")
				mul := r.Dst.AddElementWise(q, c.Output(0), dsl.ElementWiseProd)
				mul.SetName(l.Name() + "/scaled_query")
				q = mul.Output(0)
			}
			k := m.k
			if m.kShuffle != nil {
				k = keyShuffle(r, m)
			} else {
				k = r.Map(k)
			}
			a := r.Dst.AddAttention(q, k, r.Map(m.v), dsl.AttentionNormSoftmax, false)
			a.SetName(l.Name())
			if m.mask != nil {
				a.SetMask(r.Map(m.mask))
			}
			r.Alias(l.Output(0), a.Output(0))
		case inner[l]:
		default:
			r.Copy(l)
		}
	}
	out, err := r.Finish()
	if err != nil {
		return nil, err
	}
	return g.Derive(out), nil
}

// keyShuffle adds K's shuffle: m.kShuffle with its transposes replaced
// (none at all when it would do nothing).
func keyShuffle(r *ir.Rebuilder, m match) *dsl.Tensor {
	in := []*dsl.Tensor{r.Map(m.kShuffle.Input(0)), nil}
	if t := m.kShuffle.Input(1); t != nil {
		in[1] = r.Map(t)
	} else {
		in = in[:1]
	}
	if m.kShuffle.ReshapeDimensions() == nil && in[0].Rank() == 4 && m.kFirst.IsIdentity() && m.kSecond.IsIdentity() && len(in) == 1 {
		return in[0]
	}
	sh := r.Dst.CopyLayer(m.kShuffle, in).(*dsl.ShuffleLayer)
	sh.SetFirstTranspose(m.kFirst)
	sh.SetSecondTranspose(m.kSecond)
	sh.SetName(m.kShuffle.Name() + "/keys")
	return sh.Output(0)
}

// match is one attention pattern: its operands, the scale of the scores
// (nil for none), the additive mask (nil for none) and the layers the
// Attention layer replaces but the last.
type match struct {
	q, k, v, mask *dsl.Tensor
	// kShuffle is the shuffle that makes Kᵀ when the product does not
	// transpose its operand; kFirst and kSecond are its transposes with
	// the swap of the last two axes undone (K's shuffle).
	kShuffle        *dsl.ShuffleLayer
	kFirst, kSecond dsl.Permutation
	scale           float64 // Q's factor, 1 for none
	inner           []dsl.Layer
}

// find matches the pattern ending at pv, the product of the
// probabilities with V.
func find(pv dsl.Layer, uses map[*dsl.Tensor]int) (match, bool) {
	m := match{scale: 1}
	mm2, ok := pv.(*dsl.MatrixMultiplyLayer)
	if !ok || mm2.Operation(0) != dsl.MatrixOpNone || mm2.Operation(1) != dsl.MatrixOpNone {
		return m, false
	}
	only := func(t *dsl.Tensor) bool { return uses[t] == 1 && !t.IsNetworkOutput() }
	probs := mm2.Input(0)
	sl, _ := probs.Producer()
	sm, ok := sl.(*dsl.SoftMaxLayer)
	if !ok || !only(probs) || probs.Rank() != 4 || sm.Axes() != 1<<3 {
		return m, false
	}
	m.inner = []dsl.Layer{sm}
	x := sm.Input(0)
	if !only(x) {
		return m, false
	}
	// The additive mask: one operand of a sum whose other traces back to
	// the scores' product.
	xl, _ := x.Producer()
	if e, ok := xl.(*dsl.ElementWiseLayer); ok && e.Operation() == dsl.ElementWiseSum {
		for i := 0; i < 2; i++ {
			if s, mask := e.Input(i), e.Input(1-i); only(s) && fromScores(s) && broadcastsTo(mask, x) {
				m.mask, x = mask, s
				m.inner = append(m.inner, e)
				break
			}
		}
		if m.mask == nil {
			return m, false
		}
	}
	// The scale: scores times or over a scalar constant.
	xl, _ = x.Producer()
	if e, ok := xl.(*dsl.ElementWiseLayer); ok {
		s, c, ok := scaled(e)
		if !ok || !only(s) {
			return m, false
		}
		m.scale, x = c, s
		m.inner = append(m.inner, e)
	}
	xl, _ = x.Producer()
	mm1, ok := xl.(*dsl.MatrixMultiplyLayer)
	if !ok || mm1.Operation(0) != dsl.MatrixOpNone || !only(x) {
		return m, false
	}
	m.inner = append(m.inner, mm1)
	// Q and K may each be scaled before the product (PyTorch's export of
	// scaled_dot_product_attention scales both by the scale's root).
	unscaled := func(t *dsl.Tensor) *dsl.Tensor {
		p, _ := t.Producer()
		if e, ok := p.(*dsl.ElementWiseLayer); ok && only(t) {
			if s, c, ok := scaled(e); ok {
				m.scale *= c
				m.inner = append(m.inner, e)
				return s
			}
		}
		return t
	}
	m.q, m.v = unscaled(mm1.Input(0)), mm2.Input(1)
	switch mm1.Operation(1) {
	case dsl.MatrixOpTranspose:
		m.k = unscaled(mm1.Input(1))
	case dsl.MatrixOpNone:
		// Kᵀ exported as a transpose that moves the innermost axis next
		// to last: K is that transpose with its last two entries swapped.
		kt := unscaled(mm1.Input(1))
		p, _ := kt.Producer()
		sh, ok := p.(*dsl.ShuffleLayer)
		if !ok || !only(kt) || kt.Rank() != 4 {
			return m, false
		}
		first, second := sh.FirstTranspose(), sh.SecondTranspose()
		switch {
		case !second.IsIdentity() && second[2] == 3:
			second[2], second[3] = second[3], second[2]
		case second.IsIdentity() && sh.ReshapeDimensions() == nil && sh.Input(1) == nil && len(first) == 4 && first[2] == 3:
			first[2], first[3] = first[3], first[2]
		default:
			return m, false
		}
		m.kShuffle, m.kFirst, m.kSecond = sh, first, second
		m.inner = append(m.inner, sh)
	default:
		return m, false
	}
	if !operands(m.q, m.keys(), m.v) || (m.mask != nil && m.mask.Type() != m.q.Type()) {
		return m, false
	}
	return m, true
}

// keys are the dims and type of the keys, [B, H, S, D].
func (m match) keys() operand {
	if m.kShuffle == nil {
		return of(m.k)
	}
	d := m.kShuffle.Output(0).Dims() // Kᵀ's
	d[2], d[3] = d[3], d[2]
	return operand{d, m.kShuffle.Output(0).Type()}
}

// fromScores reports whether t is the scores' product, or the product
// scaled by a scalar constant.
func fromScores(t *dsl.Tensor) bool {
	p, _ := t.Producer()
	if e, ok := p.(*dsl.ElementWiseLayer); ok {
		s, _, ok := scaled(e)
		if !ok {
			return false
		}
		p, _ = s.Producer()
	}
	_, ok := p.(*dsl.MatrixMultiplyLayer)
	return ok
}

// operand is a tensor's dims and type.
type operand struct {
	dims dsl.Dims
	dt   dsl.DataType
}

func of(t *dsl.Tensor) operand { return operand{t.Dims(), t.Type()} }

// operands reports whether q, k and v are attention's: rank 4 of one
// float type, k and v of one shape, the same batch and head dim as q and
// a number of heads that divides q's (grouped-query attention), where
// dims are known.
func operands(qt *dsl.Tensor, k operand, vt *dsl.Tensor) bool {
	q, v := of(qt), of(vt)
	if len(q.dims) != 4 || len(k.dims) != 4 || len(v.dims) != 4 || !isFloat(qt) || k.dt != q.dt || v.dt != q.dt {
		return false
	}
	qd, kd, vd := q.dims, k.dims, v.dims
	// Unknown dims (-1) count as equal: the Attention layer checks them
	// at run time.
	if !slices.Equal(kd, vd) || qd[0] != kd[0] || qd[3] != kd[3] {
		return false
	}
	return kd[1] > 0 && qd[1] > 0 && qd[1]%kd[1] == 0 || kd[1] < 0 && qd[1] < 0
}

// broadcastsTo reports whether mask is rank 4 and each of its dims is 1
// or the scores' (x's).
func broadcastsTo(mask, x *dsl.Tensor) bool {
	if mask.Rank() != 4 || mask.Type() != x.Type() {
		return false
	}
	md, xd := mask.Dims(), x.Dims()
	for i := range 4 {
		if md[i] != 1 && md[i] != xd[i] {
			return false
		}
	}
	return true
}

// scaleWeights is factor as one-element weights of type dt.
func scaleWeights(factor float64, dt dsl.DataType) (dsl.Weights, error) {
	w := dsl.Float32Weights(float32(factor))
	if dt == dsl.Float32 {
		return w, nil
	}
	t, err := w.Tensor().Convert(dt)
	return dsl.NewWeights(t), err
}

// scaled is the tensor e multiplies by a scalar constant (either operand)
// or divides by one (the second), with the factor.
func scaled(e *dsl.ElementWiseLayer) (*dsl.Tensor, float64, bool) {
	switch e.Operation() {
	case dsl.ElementWiseProd:
		for i := 0; i < 2; i++ {
			if c, ok := ir.ScalarConstant(e.Input(i)); ok {
				return e.Input(1 - i), c, true
			}
		}
	case dsl.ElementWiseDiv:
		if c, ok := ir.ScalarConstant(e.Input(1)); ok && c != 0 {
			return e.Input(0), 1 / c, true
		}
	}
	return nil, 0, false
}

func isFloat(t *dsl.Tensor) bool {
	switch t.Type() {
	case dsl.Float32, dsl.Float16, dsl.BFloat16:
		return true
	}
	return false
}
