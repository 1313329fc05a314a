package nn

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Linear computes x·Wᵀ + b over the last axis of x (PyTorch's nn.Linear):
// weight is [out, in], bias is [out] or empty; x is [..., in] with rank >= 2
// and the result is [..., out]. It adds a Constant for W, a
// MatrixMultiply with W transposed and, with a bias, a Constant and an
// ElementWise sum.
func Linear(net *dsl.Network, x *dsl.Tensor, weight, bias dsl.Weights) *dsl.Tensor {
	ws := weightShape(weight)
	if len(ws) != 2 {
		return net.Errorf(diag.InvalidArgument, "nn.Linear: weight must be a 2-D [out, in] tensor, got shape %v", ws)
	}
	out, in := ws[0], ws[1]
	rank := x.Rank()
	if rank < 2 {
		return net.Errorf(diag.ShapeMismatch, "nn.Linear: input %q must have rank >= 2 ([..., %d]), got %v", x.Name(), in, x.Dims())
	}
	if last := x.Dims()[rank-1]; last >= 0 && last != in {
		return net.Errorf(diag.ShapeMismatch, "nn.Linear: input %q has %d features in its last dim, the weight expects %d", x.Name(), last, in)
	}
	if !bias.IsEmpty() && bias.Count() != out {
		return net.Errorf(diag.InvalidArgument, "nn.Linear: bias has %d values, want %d (one per output feature)", bias.Count(), out)
	}
	w := constant(net, weight, x.Type(), ones(rank-2, out, in))
	y := net.AddMatrixMultiply(x, dsl.MatrixOpNone, w, dsl.MatrixOpTranspose).Output(0)
	if bias.IsEmpty() {
		return y
	}
	b := constant(net, bias, x.Type(), ones(rank-1, out))
	return net.AddElementWise(y, b, dsl.ElementWiseSum).Output(0)
}
