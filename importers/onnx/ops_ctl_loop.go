package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Loop onto a dsl Loop. The body's iteration_num is a counter recurrence
// (0, 1, ...); its condition is a recurrence starting at the node's cond
// whose next value is the body's cond output, and it becomes a While trip
// limit unless it is always true (cond absent or a true constant, and the
// body passes it through). M becomes a Count trip limit. Loop-carried
// values are recurrences read back with LastValue; scan outputs are
// Concatenate outputs of length M, cut to the iterations actually run
// when a While limit can stop the loop early.

// ctlMaxScanRows bounds a constant trip count that sizes scan outputs:
// exporters write "forever" as a huge M with a condition, and the
// Concatenate outputs would be allocated for all of it.
const ctlMaxScanRows = 1 << 31

func init() {
	for _, since := range []int64{1, 11, 13, 16, 19, 21} {
		register(OpInfo{Op: "Loop", Since: since, Types: "tensor loop-carried values",
			Restrictions: "no sequence or optional values; scan outputs need the trip count M; loop-carried values keep their dims across iterations (static dims may not grow)"}, importLoop)
	}
}

// ctlDependsOn reports whether t is computed from any of the tensors in
// from (through every layer input, recurrence next values included).
func ctlDependsOn(t *dsl.Tensor, from map[*dsl.Tensor]bool) bool {
	seen := map[*dsl.Tensor]bool{}
	work := []*dsl.Tensor{t}
	for len(work) > 0 {
		x := work[len(work)-1]
		work = work[:len(work)-1]
		if x == nil || seen[x] {
			continue
		}
		seen[x] = true
		if from[x] {
			return true
		}
		l, _ := x.Producer()
		if l == nil {
			continue
		}
		for i := 0; i < l.NbInputs(); i++ {
			work = append(work, l.Input(i))
		}
	}
	return false
}

// ctlInLoop returns t, or when t does not depend on the loop's entries (a
// constant or outer value), a recurrence that holds it, so it can leave
// through a LoopOutput.
func ctlInLoop(lp *dsl.Loop, t *dsl.Tensor, entries map[*dsl.Tensor]bool) *dsl.Tensor {
	if ctlDependsOn(t, entries) {
		return t
	}
	r := lp.AddRecurrence(t)
	r.SetInput(1, r.Output(0))
	return r.Output(0)
}

// ctlPassesThrough reports whether out is in itself or an Identity of it.
func ctlPassesThrough(out, in *dsl.Tensor) bool {
	if out == in {
		return true
	}
	l, _ := out.Producer()
	return l != nil && l.Type() == dsl.LayerIdentity && l.Input(0) == in
}

func importLoop(c *nodeCtx) ([]*dsl.Tensor, error) {
	body := c.AttrGraph("body")
	if body == nil {
		return nil, c.Errorf(diag.InvalidNode, "Loop needs a body graph attribute")
	}
	nCarried := len(body.GetInput()) - 2
	nScan := len(body.GetOutput()) - 1 - nCarried
	if nCarried < 0 || nScan < 0 || c.NbInputs() != 2+nCarried {
		return nil, c.Errorf(diag.InvalidNode, "Loop body has %d inputs and %d outputs for a node with %d inputs; want 2+N inputs and 1+N+K outputs for N = %d loop-carried values",
			len(body.GetInput()), len(body.GetOutput()), c.NbInputs(), c.NbInputs()-2)
	}
	net := c.Net()
	lp := net.AddLoop()
	if c.node.GetName() != "" {
		lp.SetName(c.node.GetName())
	}
	var trip *dsl.Tensor
	if c.HasInput(0) {
		trip = c.ctlCast(c.ctlScalar(c.Input(0)), dsl.Int64)
		lp.AddTripLimit(trip, dsl.TripLimitCount)
	}
	iter := lp.AddRecurrence(c.ctlI64(nil, 0))
	iter.SetInput(1, net.AddElementWise(iter.Output(0), c.ctlI64(nil, 1), dsl.ElementWiseSum).Output(0))

	condTrue := true
	var condInit *dsl.Tensor
	if c.HasInput(1) {
		if v, ok := c.Const(1); ok && v.Len() == 1 {
			condTrue = v.Float64At(0) != 0
		} else {
			condTrue = false
		}
		condInit = c.ctlScalar(c.Input(1))
	} else {
		tt, _ := tensor.FromBool([]int64{}, []bool{true})
		condInit = c.Constant(tt)
	}
	condRec := lp.AddRecurrence(condInit)

	entries := map[*dsl.Tensor]bool{iter.Output(0): true, condRec.Output(0): true}
	bind := map[string]*dsl.Tensor{body.GetInput()[0].GetName(): iter.Output(0), body.GetInput()[1].GetName(): condRec.Output(0)}
	recs := make([]*dsl.RecurrenceLayer, nCarried)
	for i := range recs {
		recs[i] = lp.AddRecurrence(c.Input(2 + i))
		bind[body.GetInput()[2+i].GetName()] = recs[i].Output(0)
		entries[recs[i].Output(0)] = true
	}
	outs, err := c.ImportSubgraph(body, bind)
	if err != nil {
		return nil, err
	}
	condOut := c.ctlScalar(outs[0])
	condRec.SetInput(1, condOut)
	hasWhile := !(condTrue && ctlPassesThrough(condOut, condRec.Output(0)))
	if hasWhile {
		lp.AddTripLimit(condRec.Output(0), dsl.TripLimitWhile)
	}
	if trip == nil && !hasWhile {
		return nil, c.Errorf(diag.UnsupportedAttr, "the loop has neither a trip count M nor a condition that can end it")
	}
	if trip == nil && nScan > 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "scan outputs of a Loop without a trip count M are not supported (trtc's loop outputs need their length before the loop runs)")
	}
	if v, ok := c.ConstInts(0); ok && len(v) == 1 && v[0] > ctlMaxScanRows && nScan > 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "scan outputs need room for M = %d iterations (more than %d); trtc's loop outputs are sized by the trip count before the loop runs", v[0], int64(ctlMaxScanRows))
	}
	res := make([]*dsl.Tensor, 0, nCarried+nScan)
	for i, r := range recs {
		r.SetInput(1, outs[1+i])
		res = append(res, lp.AddLoopOutput(r.Output(0), dsl.LoopOutputLastValue, 0).Output(0))
	}
	var count *dsl.Tensor
	for k := 0; k < nScan; k++ {
		t := ctlInLoop(lp, outs[1+nCarried+k], entries)
		o := lp.AddLoopOutput(t, dsl.LoopOutputConcatenate, 0)
		o.SetInput(1, trip)
		out := o.Output(0)
		if hasWhile {
			// Keep the rows of the iterations that ran.
			if count == nil {
				n := lp.AddLoopOutput(iter.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
				f := net.AddFill(nil, dsl.FillLinspace, dsl.Int64)
				f.SetInput(0, c.ctlReshape(n, dsl.Dims{1}))
				f.SetAlphaInt64(0)
				f.SetBetaInt64(1)
				count = f.Output(0)
			}
			out = net.AddGather(out, count, 0).Output(0)
		}
		res = append(res, out)
	}
	return res, nil
}
