package cpu

import (
	"math"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerActivation, runActivation) }

func runActivation(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a := l.(*dsl.ActivationLayer)
	src := in[0].AsFloat32()
	dst := make([]float32, len(src))
	if a.ActivationType() == dsl.ActivationReLU {
		parallelFor(len(src), 1<<14, func(lo, hi int) { reluF32(dst[lo:hi], src[lo:hi]) })
	} else {
		f := activationFunc(a.ActivationType(), float64(a.Alpha()), float64(a.Beta()))
		parallelFor(len(src), 1<<14, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] = float32(f(float64(src[i])))
			}
		})
	}
	out, err := perfOutput(in[0].DType(), in[0].Shape(), dst)
	return []*tensor.Tensor{out}, err
}

// reluF32 is ReLU directly on float32 values, the hot activation of CNNs.
// The builtin max has math.Max's semantics (NaN stays NaN, -0 gives +0)
// and compiles without a branch per element, which matters on activations
// whose signs are random: a branchy loop was five times slower.
func reluF32(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = max(v, 0)
	}
}

// activationFunc returns the scalar function of an activation, computed in
// float64 (the formulas are TensorRT's, see dsl.ActivationType).
func activationFunc(act dsl.ActivationType, alpha, beta float64) func(float64) float64 {
	switch act {
	case dsl.ActivationReLU:
		return func(x float64) float64 { return math.Max(0, x) }
	case dsl.ActivationSigmoid:
		return sigmoid
	case dsl.ActivationTanh:
		return math.Tanh
	case dsl.ActivationLeakyReLU:
		return func(x float64) float64 {
			if x >= 0 {
				return x
			}
			return alpha * x
		}
	case dsl.ActivationELU:
		return func(x float64) float64 {
			if x >= 0 {
				return x
			}
			return alpha * math.Expm1(x)
		}
	case dsl.ActivationSELU:
		return func(x float64) float64 {
			if x > 0 {
				return beta * x
			}
			return beta * (alpha*math.Exp(x) - alpha)
		}
	case dsl.ActivationSoftsign:
		return func(x float64) float64 { return x / (1 + math.Abs(x)) }
	case dsl.ActivationSoftplus:
		return func(x float64) float64 { return alpha * softplus(beta*x) }
	case dsl.ActivationClip:
		return func(x float64) float64 { return math.Max(alpha, math.Min(beta, x)) }
	case dsl.ActivationHardSigmoid:
		return func(x float64) float64 { return math.Max(0, math.Min(1, alpha*x+beta)) }
	case dsl.ActivationScaledTanh:
		return func(x float64) float64 { return alpha * math.Tanh(beta*x) }
	case dsl.ActivationThresholdedReLU:
		return func(x float64) float64 {
			if x > alpha {
				return x
			}
			return 0
		}
	case dsl.ActivationGeluErf:
		return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	case dsl.ActivationGeluTanh:
		return func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}
	}
	panic("unknown activation " + act.String()) // the dsl rejects unknown types
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplus is log(1+exp(x)) without overflow for large x.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}
