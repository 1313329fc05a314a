package onnx

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// rnnZeros returns Float32 zeros of dims [batch, H], batch taken from x at
// run time when it is dynamic.
func (c *nodeCtx) rnnZeros(s *rnnSetup) *dsl.Tensor {
	b := s.x.Dims()[s.bAxis]
	if b >= 0 {
		return c.Constant(tensor.New(tensor.Float32, b, s.hidden))
	}
	f := c.Net().AddFill(nil, dsl.FillLinspace, dsl.Float32)
	dims := c.Net().AddConcatenation([]*dsl.Tensor{c.ctlReshape(c.ctlDim(s.x, s.bAxis), dsl.Dims{1}), c.ctlI64([]int64{1}, s.hidden)})
	f.SetInput(0, dims.Output(0))
	f.SetInput(1, c.ctlF32(0))
	zb, _ := tensor.FromFloat32([]int64{2}, []float32{0, 0})
	f.SetInput(2, c.Constant(zb))
	return f.Output(0)
}

// rnnInitial returns direction d's initial state from input i ([dirs,
// batch, H], layout 1: [batch, dirs, H]) or zeros.
func (c *nodeCtx) rnnInitial(s *rnnSetup, i, d int) *dsl.Tensor {
	if !c.HasInput(i) {
		return c.rnnZeros(s)
	}
	return c.ctlTake(c.ctlCast(c.Input(i), dsl.Float32), s.seqAxis, int64(d)) // the dirs axis
}

// rnnDirection builds one direction's loop and returns its Y ([seq, batch,
// H] or [batch, seq, H]), final H and (LSTM) final C, each nil when not
// needed.
func (c *nodeCtx) rnnDirection(s *rnnSetup, d int, reverse bool, w, r *dsl.Tensor) (y, hLast, cLast *dsl.Tensor, err error) {
	net := c.Net()
	g, hid := s.kind.gates(), s.hidden
	var bias *dsl.Tensor
	if c.HasInput(3) {
		bias = c.ctlCast(c.Input(3), dsl.Float32)
	}
	// Input projections for every step, outside the loop: X·W_kᵀ + Wb_k
	// (+ Rb_k, except GRU's hidden gate with linear_before_reset).
	xw := make([]*dsl.Tensor, g)
	rk := make([]*dsl.Tensor, g)
	rbh := (*dsl.Tensor)(nil)
	for k := int64(0); k < g; k++ {
		wk := c.unsqueeze(c.rnnMat(w, d, g, k, hid), 0)
		xw[k] = net.AddMatrixMultiply(s.x, dsl.MatrixOpNone, wk, dsl.MatrixOpTranspose).Output(0)
		rk[k] = c.rnnMat(r, d, g, k, hid)
		if bias != nil {
			b := c.rnnVec(bias, d, 2, 0, g, k, hid)
			rb := c.rnnVec(bias, d, 2, 1, g, k, hid)
			if s.kind == rnnGRU && k == 2 && s.linearBeforeRst {
				rbh = rb
			} else {
				b = c.ew(b, rb, dsl.ElementWiseSum)
			}
			xw[k] = c.ew(xw[k], b, dsl.ElementWiseSum)
		}
	}
	lp := net.AddLoop()
	lp.AddTripLimit(s.trip, dsl.TripLimitCount)
	xt := make([]*dsl.Tensor, g)
	for k := range xt {
		xt[k] = lp.AddIterator(xw[k], s.seqAxis, reverse).Output(0)
	}
	hRec := lp.AddRecurrence(c.rnnInitial(s, 5, d))
	hPrev := hRec.Output(0)
	var cRec *dsl.RecurrenceLayer
	var cPrev *dsl.Tensor
	if s.kind == rnnLSTM {
		cRec = lp.AddRecurrence(c.rnnInitial(s, 6, d))
		cPrev = cRec.Output(0)
	}
	hr := func(k int) *dsl.Tensor {
		return net.AddMatrixMultiply(hPrev, dsl.MatrixOpNone, rk[k], dsl.MatrixOpTranspose).Output(0)
	}
	add := func(a, b *dsl.Tensor) *dsl.Tensor { return c.ew(a, b, dsl.ElementWiseSum) }
	mul := func(a, b *dsl.Tensor) *dsl.Tensor { return c.ew(a, b, dsl.ElementWiseProd) }
	// clip bounds the gates' pre-activations (as onnxruntime does), not
	// the cell state LSTM's h activation reads.
	act := func(t *dsl.Tensor, i int) *dsl.Tensor { return c.rnnApply(t, s.acts[d][i], s.clip) }
	one := c.ctlF32(1)
	var hNew, cNew *dsl.Tensor
	switch s.kind {
	case rnnPlain:
		hNew = act(add(xt[0], hr(0)), 0)
	case rnnGRU: // gates z, r, h
		z := act(add(xt[0], hr(0)), 0)
		rt := act(add(xt[1], hr(1)), 0)
		var pre *dsl.Tensor
		if s.linearBeforeRst {
			rh := hr(2)
			if rbh != nil {
				rh = add(rh, rbh)
			}
			pre = add(xt[2], mul(rt, rh))
		} else {
			rh := net.AddMatrixMultiply(mul(rt, hPrev), dsl.MatrixOpNone, rk[2], dsl.MatrixOpTranspose).Output(0)
			pre = add(xt[2], rh)
		}
		hh := act(pre, 1)
		hNew = add(mul(c.ew(one, z, dsl.ElementWiseSub), hh), mul(z, hPrev))
	case rnnLSTM: // gates i, o, f, c; peepholes i, o, f
		var p [3]*dsl.Tensor
		if c.HasInput(7) {
			pt := c.ctlCast(c.Input(7), dsl.Float32)
			for k := range p {
				p[k] = c.rnnVec(pt, d, 1, 0, 3, int64(k), hid)
			}
		}
		peep := func(t *dsl.Tensor, k int, cell *dsl.Tensor) *dsl.Tensor {
			if p[k] == nil {
				return t
			}
			return add(t, mul(p[k], cell))
		}
		it := act(peep(add(xt[0], hr(0)), 0, cPrev), 0)
		var ft *dsl.Tensor
		if s.inputForget {
			ft = c.ew(one, it, dsl.ElementWiseSub)
		} else {
			ft = act(peep(add(xt[2], hr(2)), 2, cPrev), 0)
		}
		ct := act(add(xt[3], hr(3)), 1)
		cNew = add(mul(ft, cPrev), mul(it, ct))
		ot := act(peep(add(xt[1], hr(1)), 1, cNew), 0)
		hNew = mul(ot, c.rnnApply(cNew, s.acts[d][2], 0))
	}
	yVal, hNext, cNext := hNew, hNew, cNew
	if s.lens != nil {
		// Steps at or past a batch entry's length keep its state and
		// output zeros.
		step := lp.AddRecurrence(c.ctlI64(nil, 0))
		t := step.Output(0)
		step.SetInput(1, c.ew(t, c.ctlI64(nil, 1), dsl.ElementWiseSum))
		if reverse {
			t = c.ew(c.ew(s.trip, c.ctlI64(nil, 1), dsl.ElementWiseSub), t, dsl.ElementWiseSub)
		}
		valid := c.unsqueeze(c.ew(t, s.lens, dsl.ElementWiseLess), 1) // [batch, 1]
		sel := func(a, b *dsl.Tensor) *dsl.Tensor {
			v := c.Broadcast(valid, a, b)
			return net.AddSelect(v[0], v[1], v[2]).Output(0)
		}
		yVal = sel(hNew, c.ctlF32(0))
		hNext = sel(hNew, hPrev)
		if cNew != nil {
			cNext = sel(cNew, cPrev)
		}
	}
	hRec.SetInput(1, hNext)
	if cRec != nil {
		cRec.SetInput(1, cNext)
		cLast = lp.AddLoopOutput(cPrev, dsl.LoopOutputLastValue, 0).Output(0)
	}
	hLast = lp.AddLoopOutput(hPrev, dsl.LoopOutputLastValue, 0).Output(0)
	kind := dsl.LoopOutputConcatenate
	if reverse {
		kind = dsl.LoopOutputReverse
	}
	yo := lp.AddLoopOutput(yVal, kind, s.seqAxis)
	yo.SetInput(1, s.trip)
	return yo.Output(0), hLast, cLast, nil
}
