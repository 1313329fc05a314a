package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss are ONNX function
// ops; they are imported by composition as their function bodies define
// them: pick input[n, target[n, d...], d...] along the class axis 1
// (GatherElement), weight it by weight[target], zero the entries whose
// target is ignore_index, and reduce (none, sum, or the weighted mean
// sum(loss) / sum(weights of the entries not ignored)).

func init() {
	const types = "float32, float16, bfloat16 (double widened); targets int32, int64"
	for _, since := range []int64{12, 13} {
		register(OpInfo{Op: "NegativeLogLikelihoodLoss", Since: since, Types: types}, importNLLLoss)
		register(OpInfo{Op: "SoftmaxCrossEntropyLoss", Since: since, Types: types}, importSCELoss)
	}
}

func importNLLLoss(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := redNeed(c, 0, 1); err != nil {
		return nil, err
	}
	loss, err := redNLL(c, c.Input(0))
	if err != nil {
		return nil, err
	}
	return []*dsl.Tensor{loss}, c.err
}

// importSCELoss is NLL of the log-softmax over the class axis; the
// log-probabilities are the optional second output.
func importSCELoss(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := redNeed(c, 0, 1); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if c.err != nil {
		return nil, c.err
	}
	if x.Rank() < 2 {
		return nil, c.Errorf(diag.ShapeMismatch, "scores %q have dims %v; SoftmaxCrossEntropyLoss needs [N, C, ...]", x.Name(), x.Dims())
	}
	if !x.Type().IsFloat() {
		return nil, c.Errorf(diag.TypeMismatch, "scores %q are %v; SoftmaxCrossEntropyLoss takes floats", x.Name(), x.Type())
	}
	lp := redLogSoftmax(c, x, 1)
	loss, err := redNLL(c, lp)
	if err != nil {
		return nil, err
	}
	out := []*dsl.Tensor{loss}
	if c.HasOutput(1) {
		out = append(out, lp)
	}
	return out, c.err
}

// redLogSoftmax is x - max - log(sum(exp(x - max))) along axis.
func redLogSoftmax(c *nodeCtx, x *dsl.Tensor, axis int) *dsl.Tensor {
	net := c.Net()
	m := net.AddReduce(x, dsl.ReduceMax, 1<<uint(axis), true).Output(0)
	s := redEW(c, x, m, dsl.ElementWiseSub)
	e := redUnary(c, s, dsl.UnaryExp)
	lse := redUnary(c, net.AddReduce(e, dsl.ReduceSum, 1<<uint(axis), true).Output(0), dsl.UnaryLog)
	return redEW(c, s, lse, dsl.ElementWiseSub)
}

// redNLL computes the loss of log-probabilities lp [N, C, d...] against
// input 1 (targets [N, d...]) and optional input 2 (weights [C]).
func redNLL(c *nodeCtx, lp *dsl.Tensor) (*dsl.Tensor, error) {
	net := c.Net()
	target := c.Input(1)
	var weight *dsl.Tensor
	if c.HasInput(2) {
		weight = c.Input(2)
	}
	reduction := c.AttrString("reduction", "mean")
	if c.err != nil {
		return nil, c.err
	}
	if reduction != "none" && reduction != "sum" && reduction != "mean" {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute reduction is %q; want none, sum or mean", reduction)
	}
	r, dt := lp.Rank(), lp.Type()
	if r < 2 {
		return nil, c.Errorf(diag.ShapeMismatch, "input %q has dims %v; the loss needs [N, C, ...]", lp.Name(), lp.Dims())
	}
	if !dt.IsFloat() {
		return nil, c.Errorf(diag.TypeMismatch, "input %q is %v; the loss takes floats", lp.Name(), dt)
	}
	if target.Rank() != r-1 {
		return nil, c.Errorf(diag.ShapeMismatch, "target %q has dims %v; for input dims %v it needs rank %d ([N, d1, ...])", target.Name(), target.Dims(), lp.Dims(), r-1)
	}
	if target.Type() != dsl.Int32 && target.Type() != dsl.Int64 {
		return nil, c.Errorf(diag.TypeMismatch, "target %q is %v; want int32 or int64", target.Name(), target.Type())
	}
	if weight != nil && (weight.Rank() != 1 || weight.Type() != dt) {
		return nil, c.Errorf(diag.TypeMismatch, "weight %q is %v %v; want a 1-D %v tensor of one weight per class", weight.Name(), weight.Type(), weight.Dims(), dt)
	}
	// Ignored entries may hold any index (even out of range): they read
	// class 0 and are masked out afterwards.
	var ignored *dsl.Tensor
	safe := target
	if c.HasAttr("ignore_index") {
		ii := c.AttrInt("ignore_index", 0)
		ignored = redEW(c, target, redScalar(c, target.Type(), float64(ii), 1), dsl.ElementWiseEqual)
		safe = redSelect(c, ignored, redScalar(c, target.Type(), 0, 1), target)
	}
	g := net.AddGatherV2(lp, redUnsqueeze(c, safe, 1), dsl.GatherElement)
	g.SetGatherAxis(1)
	loss := redUnary(c, redSqueeze(c, g.Output(0), []int64{1}), dsl.UnaryNeg)
	var w *dsl.Tensor // the weight of each entry, nil when all are 1
	if weight != nil {
		w = net.AddGather(weight, safe, 0).Output(0)
	}
	if ignored != nil {
		if w == nil {
			w = redScalar(c, dt, 1, 1)
		}
		w = redSelect(c, ignored, redScalar(c, dt, 0, 1), w)
	}
	if w != nil {
		loss = redEW(c, loss, w, dsl.ElementWiseProd)
	}
	all := uint32(1)<<uint(r-1) - 1
	switch reduction {
	case "none":
		return loss, nil
	case "sum":
		return net.AddReduce(loss, dsl.ReduceSum, all, false).Output(0), nil
	}
	if w == nil {
		return net.AddReduce(loss, dsl.ReduceAvg, all, false).Output(0), nil
	}
	// w has the loss's shape (a gather of the weights, or a select by the
	// ignore mask), so its sum is the weighted count.
	return redEW(c, net.AddReduce(loss, dsl.ReduceSum, all, false).Output(0),
		net.AddReduce(w, dsl.ReduceSum, all, false).Output(0), dsl.ElementWiseDiv), nil
}
