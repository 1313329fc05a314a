package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Loop and if-conditional boundary layers run inside their region's step
// (loopStep, ifStep), which sets their outputs directly. Their kernels
// exist so the engine accepts these kinds; reaching one means a boundary
// layer was scheduled as a plain step, a scheduler bug.
func init() {
	for _, k := range []dsl.LayerType{dsl.LayerTripLimit, dsl.LayerRecurrence, dsl.LayerIterator,
		dsl.LayerLoopOutput, dsl.LayerCondition, dsl.LayerConditionalOutput} {
		register(k, runBoundaryOutsideRegion)
	}
	register(dsl.LayerConditionalInput, runConditionalInput)
}

func runBoundaryOutsideRegion(x *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return nil, layerErr(l, diag.Internal, "a %v layer runs only as part of its loop or if-conditional step: scheduling bug", l.Type())
}

// runConditionalInput passes its input into the conditional unchanged.
func runConditionalInput(x *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return []*tensor.Tensor{in[0]}, nil
}

// ifStep runs an if-conditional: the condition picks one branch, only
// that branch's layers run, and each output takes that branch's value.
type ifStep struct {
	name      string
	layers    []dsl.Layer
	condition *dsl.ConditionLayer
	inputs    []*dsl.ConditionalInputLayer
	outputs   []*dsl.ConditionalOutputLayer
	then, els []step
}

func (s *ifStep) run(x *execCtx) error {
	c := x.value(s.condition.Input(0))
	if c == nil || c.Len() != 1 {
		return layerErr(s.condition, diag.Internal, "the condition has no scalar value: scheduling bug")
	}
	taken := c.Int64At(0) != 0
	for _, l := range s.inputs {
		if err := runLayer(x, l); err != nil {
			return err
		}
	}
	branch, side := s.els, 1
	if taken {
		branch, side = s.then, 0
	}
	if err := runSteps(x, branch); err != nil {
		return err
	}
	for _, o := range s.outputs {
		if err := setRegionValue(x, o, o.Input(side)); err != nil {
			return err
		}
	}
	return nil
}

// setRegionValue makes the value of src the output of boundary layer l,
// checked against what was inferred for it.
func setRegionValue(x *execCtx, l dsl.Layer, src *dsl.Tensor) error {
	v := x.value(src)
	if v == nil {
		return layerErr(l, diag.Internal, "%q has no value: scheduling bug", src.Name())
	}
	return setChecked(x, l, v)
}

// setChecked stores v as output 0 of l after checking its type and dims.
func setChecked(x *execCtx, l dsl.Layer, v *tensor.Tensor) error {
	t := l.Output(0)
	if v.DType() != t.Type() {
		return layerErr(l, diag.Internal, "value is %v at run time but was inferred as %v", v.DType(), t.Type())
	}
	if err := matchDims(t.Dims(), v.Shape()); err != nil {
		return layerErr(l, diag.ShapeMismatch, "value disagrees with the inferred dims: %v", err)
	}
	x.vals[t.ID()] = v
	return nil
}

// loopStep runs a loop. Each iteration sets the recurrences' outputs to
// the carried values, evaluates the While condition (cond steps) and stops
// when it is false, sets the iterators' slices, runs the rest of the body,
// records the loop outputs' contributions and carries the next values.
type loopStep struct {
	name   string
	layers []dsl.Layer
	recs   []*dsl.RecurrenceLayer
	iters  []*dsl.IteratorLayer
	outs   []*dsl.LoopOutputLayer
	count  *dsl.TripLimitLayer
	while  *dsl.TripLimitLayer
	cond   []step // steps the While condition needs
	body   []step // the other body steps
}

func (s *loopStep) run(x *execCtx) error {
	limit := int64(math.MaxInt64)
	if s.count != nil {
		c := x.value(s.count.Input(0))
		if c == nil || c.Len() != 1 {
			return layerErr(s.count, diag.Internal, "the trip count has no scalar value: scheduling bug")
		}
		limit = max(c.Int64At(0), 0)
	}
	state := make([]*tensor.Tensor, len(s.recs))
	for k, r := range s.recs {
		state[k] = x.value(r.Input(0))
	}
	contrib := make([][]*tensor.Tensor, len(s.outs))
	iterSrc := make([]*tensor.Tensor, len(s.iters))
	for k, it := range s.iters {
		iterSrc[k] = x.value(it.Input(0))
	}
	var trips int64
	for ; trips < limit; trips++ {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		for k, r := range s.recs {
			if err := setChecked(x, r, state[k]); err != nil {
				return err
			}
		}
		if s.while != nil {
			if err := runSteps(x, s.cond); err != nil {
				return err
			}
			c := x.value(s.while.Input(0))
			if c == nil || c.Len() != 1 {
				return layerErr(s.while, diag.Internal, "the While condition has no scalar value: scheduling bug")
			}
			if c.Int64At(0) == 0 {
				break
			}
		}
		for k, it := range s.iters {
			if err := s.setIterator(x, it, iterSrc[k], trips, limit); err != nil {
				return err
			}
		}
		if err := runSteps(x, s.body); err != nil {
			return err
		}
		for k, o := range s.outs {
			if o.LoopOutput() != dsl.LoopOutputLastValue {
				contrib[k] = append(contrib[k], x.value(o.Input(0)))
			}
		}
		for k, r := range s.recs {
			next := x.value(r.Input(1))
			if next == nil {
				return layerErr(r, diag.Internal, "the next value %q has no value: scheduling bug", r.Input(1).Name())
			}
			if !sameShape(next.Shape(), state[k].Shape()) {
				return layerErr(r, diag.ShapeMismatch, "next value %q has shape %v in iteration %d but the initial value has %v; a recurrence keeps its shape",
					r.Input(1).Name(), next.Shape(), trips, state[k].Shape())
			}
			state[k] = next
		}
	}
	for k, o := range s.outs {
		var v *tensor.Tensor
		var err error
		if o.LoopOutput() == dsl.LoopOutputLastValue {
			rec, _ := o.Input(0).Producer()
			for j, r := range s.recs {
				if r == rec {
					v = state[j]
				}
			}
			if v == nil {
				return layerErr(o, diag.Internal, "a LastValue output that is not a recurrence of its loop")
			}
		} else if v, err = stackLoopOutput(x, o, contrib[k]); err != nil {
			return err
		}
		if err := setChecked(x, o, v); err != nil {
			return err
		}
	}
	return nil
}

// setIterator sets the iterator's output to slice i (M-1-i when reversed)
// of src along its axis.
func (s *loopStep) setIterator(x *execCtx, it *dsl.IteratorLayer, src *tensor.Tensor, i, limit int64) error {
	ax, _ := dsl.NormalizeAxis(it.Axis(), src.Rank())
	n := src.Dim(ax)
	idx := i
	if it.Reverse() {
		m := n
		if s.count != nil {
			m = limit
		}
		idx = m - 1 - i
	}
	if idx < 0 || idx >= n {
		return layerErr(it, diag.OutOfRange, "iteration %d reads index %d of axis %d of %q, which has length %d", i, idx, ax, it.Input(0).Name(), n)
	}
	return setChecked(x, it, ctlSlice(src, ax, idx))
}

// ctlSlice returns src[..., idx, ...] along axis ax, the axis removed.
func ctlSlice(src *tensor.Tensor, ax int, idx int64) *tensor.Tensor {
	shape := src.Shape()
	outer := tensor.Volume(shape[:ax])
	inner := tensor.Volume(shape[ax+1:])
	n := shape[ax]
	outShape := append(append([]int64{}, shape[:ax]...), shape[ax+1:]...)
	out := tensor.New(src.DType(), outShape...)
	if bits := src.DType().Bits(); bits%8 == 0 {
		es := int64(bits / 8)
		sb, ob := src.Bytes(), out.Bytes()
		for o := int64(0); o < outer; o++ {
			copy(ob[o*inner*es:(o+1)*inner*es], sb[(o*n+idx)*inner*es:(o*n+idx+1)*inner*es])
		}
		return out
	}
	for o := int64(0); o < outer; o++ {
		for e := int64(0); e < inner; e++ {
			out.SetInt64(o*inner+e, src.Int64At((o*n+idx)*inner+e))
		}
	}
	return out
}

// stackLoopOutput stacks the per-iteration values of a Concatenate or
// Reverse output along its axis; slots past the last iteration are zero.
func stackLoopOutput(x *execCtx, o *dsl.LoopOutputLayer, parts []*tensor.Tensor) (*tensor.Tensor, error) {
	lt := x.value(o.Input(1))
	if lt == nil || lt.Len() != 1 {
		return nil, layerErr(o, diag.Internal, "the concatenation length has no scalar value: scheduling bug")
	}
	length := max(lt.Int64At(0), 0)
	if int64(len(parts)) > length {
		return nil, layerErr(o, diag.OutOfRange, "the loop ran %d iterations but the %v output %q has room for %d (input 1)", len(parts), o.LoopOutput(), o.Output(0).Name(), length)
	}
	ax, _ := o.ConcatAxis()
	var elem []int64
	if len(parts) > 0 {
		elem = parts[0].Shape()
	} else {
		d := o.Input(0).Dims()
		if !d.IsStatic() {
			return nil, layerErr(o, diag.ShapeMismatch, "the loop ran no iteration, so the shape of %q (%v) is unknown", o.Input(0).Name(), d)
		}
		elem = d
	}
	for k, p := range parts {
		if !sameShape(p.Shape(), elem) {
			return nil, layerErr(o, diag.ShapeMismatch, "%q has shape %v in iteration %d but %v in iteration 0; concatenated values keep one shape", o.Input(0).Name(), p.Shape(), k, elem)
		}
	}
	outShape := append(append(append([]int64{}, elem[:ax]...), length), elem[ax:]...)
	out := tensor.New(o.Output(0).Type(), outShape...)
	outer := tensor.Volume(elem[:ax])
	inner := tensor.Volume(elem[ax:])
	for k, p := range parts {
		slot := int64(k)
		if o.LoopOutput() == dsl.LoopOutputReverse {
			slot = int64(len(parts)) - 1 - int64(k)
		}
		if bits := out.DType().Bits(); bits%8 == 0 {
			es := int64(bits / 8)
			pb, ob := p.Bytes(), out.Bytes()
			for q := int64(0); q < outer; q++ {
				copy(ob[(q*length+slot)*inner*es:(q*length+slot+1)*inner*es], pb[q*inner*es:(q+1)*inner*es])
			}
			continue
		}
		for q := int64(0); q < outer; q++ {
			for e := int64(0); e < inner; e++ {
				out.SetInt64((q*length+slot)*inner+e, p.Int64At(q*inner+e))
			}
		}
	}
	return out, nil
}
