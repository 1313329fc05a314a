package weightfold

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/tensor"
)

// ScaleIntoMatMul folds a per-column scale that follows a matrix multiply
// with a constant 2-d right operand into that operand: x·W followed by
// y*c (c one value per output column: an ElementWise Prod with a constant
// broadcast along the last dim) is x·(W diag c). This is BatchNorm1d after
// a Linear layer once its shift has become a separate bias add, and the
// scale PyTorch exports for attention logits when the key projection is
// constant. (Scale layers need rank 4 inputs, so they never follow a 2-d
// product; a shift cannot fold: a matrix multiply has no bias.) It returns
// g itself when nothing folds.
func ScaleIntoMatMul(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	net := g.Net
	if net.Err() != nil {
		return g, nil
	}
	uses := ir.UseCounts(net)
	inRegion := ir.RegionMembers(net)
	type match struct {
		mm    *dsl.MatrixMultiplyLayer
		w     *dsl.ConstantLayer
		scale []float64
	}
	byFollower := map[dsl.Layer]*match{}
	skip := map[dsl.Layer]bool{}
	for _, l := range net.TopoLayers() {
		if inRegion[l] || l.NbInputs() == 0 {
			continue
		}
		for i := 0; i < l.NbInputs() && i < 2; i++ {
			mm, ok := producer(l.Input(i)).(*dsl.MatrixMultiplyLayer)
			if !ok || inRegion[mm] || skip[mm] || uses[mm.Output(0)] != 1 || mm.Output(0).IsNetworkOutput() {
				continue
			}
			w, ok := producer(mm.Input(1)).(*dsl.ConstantLayer)
			if !ok || uses[w.Output(0)] != 1 || w.Output(0).IsNetworkOutput() || w.Output(0).Rank() != 2 || mm.Operation(1) == dsl.MatrixOpVector {
				continue
			}
			n := w.Output(0).Dims()[1]
			if mm.Operation(1) == dsl.MatrixOpTranspose {
				n = w.Output(0).Dims()[0]
			}
			c, ok := columnScale(l, i, n, mm.Output(0).Dims())
			if !ok {
				continue
			}
			byFollower[l] = &match{mm: mm, w: w, scale: c}
			skip[mm], skip[w] = true, true
			if f := producer(l.Input(1 - i)); uses[f.Output(0)] == 1 && !f.Output(0).IsNetworkOutput() {
				skip[f] = true // the factors live on in the folded weights
			}
			break
		}
	}
	if len(byFollower) == 0 {
		return g, nil
	}
	r := ir.NewRebuilder(net)
	renamed := map[string]string{}
	for _, l := range net.TopoLayers() {
		m, matched := byFollower[l]
		switch {
		case matched:
			kw, err := scaleColumns(m.w.Weights().Tensor(), m.scale, m.mm.Operation(1) == dsl.MatrixOpTranspose)
			if err != nil {
				return nil, err
			}
			c := r.Dst.AddConstant(m.w.Dimensions(), dsl.NewWeights(kw))
			c.SetName(m.w.Name() + "*" + l.Name())
			mm := r.Dst.CopyLayer(m.mm, []*dsl.Tensor{r.Map(m.mm.Input(0)), c.Output(0)})
			name := m.mm.Name() + "+" + l.Name()
			mm.SetName(name)
			mm.Output(0).SetName(l.Output(0).Name())
			renamed[name] = m.mm.Name()
			r.Alias(l.Output(0), mm.Output(0))
		case skip[l]:
			// emitted with its follower
		default:
			r.Copy(l)
		}
	}
	out, err := r.Finish()
	if err != nil {
		return nil, err
	}
	ng := g.Derive(out)
	for name, first := range renamed {
		if d, ok := g.Precisions[first]; ok {
			ng.Precisions[name] = d
		}
	}
	return ng, nil
}

func producer(t *dsl.Tensor) dsl.Layer {
	if t == nil {
		return nil
	}
	l, _ := t.Producer()
	return l
}

// columnScale returns the per-column factors with which l, reading the
// matrix multiply's output (dims d, n columns) as input i, computes y*c,
// or ok=false.
func columnScale(l dsl.Layer, i int, n int64, d dsl.Dims) ([]float64, bool) {
	switch l := l.(type) {
	case *dsl.ElementWiseLayer:
		if l.Operation() != dsl.ElementWiseProd {
			return nil, false
		}
		cl, ok := producer(l.Input(1 - i)).(*dsl.ConstantLayer)
		if !ok || !floatWeights(cl.Weights()) {
			return nil, false
		}
		cd := cl.Dimensions()
		if len(cd) == 0 || len(cd) > len(d) || l.Output(0).Rank() != len(d) {
			return nil, false
		}
		for j, v := range cd {
			if want := int64(1); j == len(cd)-1 {
				if v != n && v != 1 {
					return nil, false
				}
			} else if v != want {
				return nil, false
			}
		}
		return expand(cl.Weights().Tensor().Float64s(), n)
	}
	return nil, false
}

// expand gives n factors from one value or n values; non-finite factors
// do not fold.
func expand(v []float64, n int64) ([]float64, bool) {
	if !allFinite(v) {
		return nil, false
	}
	out := make([]float64, n)
	switch int64(len(v)) {
	case 1:
		for j := range out {
			out[j] = v[0]
		}
	case n:
		copy(out, v)
	default:
		return nil, false
	}
	return out, true
}

// scaleColumns multiplies column j of w ([K, N], or [N, K] when
// transposed) by c[j], in float64, rounded once to w's type.
func scaleColumns(w *tensor.Tensor, c []float64, transposed bool) (*tensor.Tensor, error) {
	s := w.Shape()
	v := w.Float64s()
	for i := range v {
		j := int64(i) % s[1]
		if transposed {
			j = int64(i) / s[1]
		}
		v[i] *= c[j]
	}
	return tensor.FromFloat64s(w.DType(), s, v)
}
