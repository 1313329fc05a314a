package nn

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// BatchNormParams are the statistics and affine parameters of an inference
// batch norm, one value per channel.
type BatchNormParams struct {
	Gamma, Beta, Mean, Var []float32
	Eps                    float32 // PyTorch's default is 1e-5
}

// BatchNorm folds an inference batch norm over axis 1 of x into one Scale
// layer in channel mode: y = x*s + t with s = gamma/sqrt(var+eps) and
// t = beta - mean*s, computed here in float64.
func BatchNorm(net *dsl.Network, x *dsl.Tensor, p BatchNormParams) *dsl.Tensor {
	c := len(p.Gamma)
	for name, v := range map[string][]float32{"Beta": p.Beta, "Mean": p.Mean, "Var": p.Var} {
		if len(v) != c {
			return net.Errorf(diag.InvalidArgument, "nn.BatchNorm: %s has %d values, Gamma has %d", name, len(v), c)
		}
	}
	if x.Rank() < 2 || (x.Dims()[1] >= 0 && x.Dims()[1] != int64(c)) {
		return net.Errorf(diag.ShapeMismatch, "nn.BatchNorm: input %q %v must have %d channels in axis 1", x.Name(), x.Dims(), c)
	}
	scale := make([]float32, c)
	shift := make([]float32, c)
	for i := range scale {
		v := float64(p.Var[i]) + float64(p.Eps)
		if v <= 0 {
			return net.Errorf(diag.InvalidArgument, "nn.BatchNorm: Var[%d]+Eps = %g, must be positive", i, v)
		}
		s := float64(p.Gamma[i]) / math.Sqrt(v)
		scale[i] = float32(s)
		shift[i] = float32(float64(p.Beta[i]) - float64(p.Mean[i])*s)
	}
	shape := []int64{int64(c)}
	l := net.AddScaleNd(x, dsl.ScaleChannel, float32Weights(shape, shift), float32Weights(shape, scale), dsl.Weights{}, 1)
	return l.Output(0)
}

// LayerNorm normalizes x over its last axis and applies gamma and beta
// ([features] each; PyTorch's nn.LayerNorm with one normalized dim), with
// a Normalization layer whose statistics are computed in float32.
func LayerNorm(net *dsl.Network, x *dsl.Tensor, gamma, beta dsl.Weights, eps float32) *dsl.Tensor {
	rank := x.Rank()
	if rank < 1 {
		return net.Errorf(diag.ShapeMismatch, "nn.LayerNorm: input %q is a scalar", x.Name())
	}
	f := gamma.Count()
	if beta.Count() != f {
		return net.Errorf(diag.InvalidArgument, "nn.LayerNorm: gamma has %d values, beta %d", f, beta.Count())
	}
	if last := x.Dims()[rank-1]; last >= 0 && last != f {
		return net.Errorf(diag.ShapeMismatch, "nn.LayerNorm: input %q has %d features in its last dim, gamma has %d", x.Name(), last, f)
	}
	g := constant(net, gamma, x.Type(), ones(rank-1, f))
	b := constant(net, beta, x.Type(), ones(rank-1, f))
	l := net.AddNormalization(x, g, b, 1<<uint(rank-1))
	l.SetEpsilon(eps)
	return l.Output(0)
}
