package cpu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestActivationEveryType(t *testing.T) {
	const alpha, beta = 0.3, 1.7
	// Expected formulas written out independently of activation.go.
	want := map[dsl.ActivationType]func(x float64) float64{
		dsl.ActivationReLU: func(x float64) float64 {
			if x < 0 {
				return 0
			}
			return x
		},
		dsl.ActivationSigmoid: func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
		dsl.ActivationTanh:    func(x float64) float64 { return (math.Exp(x) - math.Exp(-x)) / (math.Exp(x) + math.Exp(-x)) },
		dsl.ActivationLeakyReLU: func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		},
		dsl.ActivationELU: func(x float64) float64 {
			if x < 0 {
				return alpha * (math.Exp(x) - 1)
			}
			return x
		},
		dsl.ActivationSELU: func(x float64) float64 {
			if x <= 0 {
				return beta * alpha * (math.Exp(x) - 1)
			}
			return beta * x
		},
		dsl.ActivationSoftsign: func(x float64) float64 { return x / (1 + math.Abs(x)) },
		dsl.ActivationSoftplus: func(x float64) float64 { return alpha * math.Log(math.Exp(beta*x)+1) },
		dsl.ActivationClip:     func(x float64) float64 { return math.Min(math.Max(x, alpha), beta) },
		dsl.ActivationHardSigmoid: func(x float64) float64 {
			return math.Min(math.Max(alpha*x+beta, 0), 1)
		},
		dsl.ActivationScaledTanh: func(x float64) float64 { return alpha * math.Tanh(beta*x) },
		dsl.ActivationThresholdedReLU: func(x float64) float64 {
			if x <= alpha {
				return 0
			}
			return x
		},
		dsl.ActivationGeluErf: func(x float64) float64 { return x * 0.5 * (1 + math.Erf(x*math.Sqrt(0.5))) },
		dsl.ActivationGeluTanh: func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(0.044715*math.Pow(x, 3)+x)))
		},
	}
	rng := newRNG(1)
	for _, act := range dsl.AllActivationTypes() {
		for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
			t.Run(act.String()+"/"+dt.String(), func(t *testing.T) {
				f, ok := want[act]
				if !ok {
					t.Fatalf("no expected formula for %v", act)
				}
				_, xs := randTensor(t, rng, dt, 2, 3, 5)
				for i := range xs { // widen the range to reach the interesting parts
					xs[i] *= 4
				}
				x := mustTensor(t, dt, []int64{2, 3, 5}, xs)
				xs = x.Float64s()
				net := dsl.NewNetwork()
				in := net.AddInput("x", dt, dsl.Dims{2, -1, 5})
				l := net.AddActivation(in, act)
				l.SetAlpha(alpha)
				l.SetBeta(beta)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
				exp := make([]float64, len(xs))
				for i, v := range xs {
					exp[i] = f(v)
				}
				checkClose(t, got, []int64{2, 3, 5}, roundTo(dt, exp), 1)
			})
		}
	}
}

func TestActivationRejectsIntegers(t *testing.T) {
	net := dsl.NewNetwork()
	in := net.AddInput("x", dsl.Int32, dsl.Dims{4})
	net.MarkOutput(net.AddActivation(in, dsl.ActivationReLU).Output(0))
	if err := net.Err(); err == nil {
		t.Fatal("ReLU on int32 was accepted")
	}
}
