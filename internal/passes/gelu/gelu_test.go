package gelu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

// geluNet builds y = f(x) over x of [4, 33] with build, which writes the
// GELU's layers (scalar constants from c).
func geluNet(dt dsl.DataType, build func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor) *dsl.Network {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dt, dsl.Dims{4, 33})
	c := func(v float64) *dsl.Tensor {
		return n.AddConstant(dsl.Dims{1, 1}, dsl.Float32Weights(float32(v))).Output(0)
	}
	if dt != dsl.Float32 {
		c = func(v float64) *dsl.Tensor {
			w := tensor.New(dt, 1, 1)
			w.SetFloat64(0, v)
			return n.AddConstant(dsl.Dims{1, 1}, dsl.NewWeights(w)).Output(0)
		}
	}
	y := build(n, x, c)
	y.SetName("y")
	n.MarkOutput(y)
	return n
}

// erfOf is 1 + erf(x / sqrt(2)) (or x * (1/sqrt(2)) with mul).
func erfOf(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor, mul bool) *dsl.Tensor {
	d := n.AddElementWise(x, c(math.Sqrt2), dsl.ElementWiseDiv).Output(0)
	if mul {
		d = n.AddElementWise(c(1/math.Sqrt2), x, dsl.ElementWiseProd).Output(0)
	}
	e := n.AddUnary(d, dsl.UnaryErf).Output(0)
	return n.AddElementWise(e, c(1), dsl.ElementWiseSum).Output(0)
}

func gelus(net *dsl.Network) (gelu, erf int) {
	for _, l := range net.Layers() {
		if a, ok := l.(*dsl.ActivationLayer); ok && a.ActivationType() == dsl.ActivationGeluErf {
			gelu++
		}
		if u, ok := l.(*dsl.UnaryLayer); ok && u.Operation() == dsl.UnaryErf {
			erf++
		}
	}
	return gelu, erf
}

// TestErfGELUBecomesOneActivation rewrites each order PyTorch and
// TensorFlow export the GELU in, and checks on the CPU engine that the
// activation computes what the five layers do.
func TestErfGELUBecomesOneActivation(t *testing.T) {
	cases := map[string]func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor{
		"(x*a)*0.5": func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor {
			m := n.AddElementWise(x, erfOf(n, x, c, false), dsl.ElementWiseProd).Output(0)
			return n.AddElementWise(m, c(0.5), dsl.ElementWiseProd).Output(0)
		},
		"x*(a*0.5), x*(1/sqrt2)": func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor {
			m := n.AddElementWise(erfOf(n, x, c, true), c(0.5), dsl.ElementWiseProd).Output(0)
			return n.AddElementWise(x, m, dsl.ElementWiseProd).Output(0)
		},
		"(x*0.5)*a": func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor {
			h := n.AddElementWise(c(0.5), x, dsl.ElementWiseProd).Output(0)
			return n.AddElementWise(h, erfOf(n, x, c, false), dsl.ElementWiseProd).Output(0)
		},
	}
	for name, build := range cases {
		for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16} {
			net := geluNet(dt, build)
			if err := net.Err(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// float32 agrees within float32's tolerance; in float16 the
			// activation rounds once where the layers rounded four times.
			scale := 4
			if dt == dsl.Float16 {
				scale = 16
			}
			in := irtest.RandomInputs(net, 1, 0)
			if !irtest.CheckPass(t, name, Erf, ir.Options{OptLevel: 2}, net, in, scale) {
				t.Errorf("%s (%v): not rewritten", name, dt)
				continue
			}
			out, _ := Erf(ir.New(net), ir.Options{})
			if g, e := gelus(out.Net); g != 1 || e != 0 {
				t.Errorf("%s (%v): %d GELU activations and %d erf layers after the pass, want 1 and 0", name, dt, g, e)
			}
		}
	}
}

// TestErfGELUNearMisses leaves networks alone that only look like a GELU.
func TestErfGELUNearMisses(t *testing.T) {
	cases := map[string]func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor{
		"another scale": func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor {
			d := n.AddElementWise(x, c(2), dsl.ElementWiseDiv).Output(0)
			a := n.AddElementWise(n.AddUnary(d, dsl.UnaryErf).Output(0), c(1), dsl.ElementWiseSum).Output(0)
			m := n.AddElementWise(x, a, dsl.ElementWiseProd).Output(0)
			return n.AddElementWise(m, c(0.5), dsl.ElementWiseProd).Output(0)
		},
		"erf read twice": func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor {
			d := n.AddElementWise(x, c(math.Sqrt2), dsl.ElementWiseDiv).Output(0)
			e := n.AddUnary(d, dsl.UnaryErf).Output(0)
			a := n.AddElementWise(e, c(1), dsl.ElementWiseSum).Output(0)
			m := n.AddElementWise(x, a, dsl.ElementWiseProd).Output(0)
			y := n.AddElementWise(m, c(0.5), dsl.ElementWiseProd).Output(0)
			return n.AddElementWise(y, e, dsl.ElementWiseSum).Output(0)
		},
		"multiplies another tensor": func(n *dsl.Network, x *dsl.Tensor, c func(float64) *dsl.Tensor) *dsl.Tensor {
			m := n.AddElementWise(n.AddUnary(x, dsl.UnaryAbs).Output(0), erfOf(n, x, c, false), dsl.ElementWiseProd).Output(0)
			return n.AddElementWise(m, c(0.5), dsl.ElementWiseProd).Output(0)
		},
	}
	for name, build := range cases {
		net := geluNet(dsl.Float32, build)
		if err := net.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := Erf(ir.New(net), ir.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g, _ := gelus(out.Net); g != 0 {
			t.Errorf("%s: rewritten into %d GELU activations", name, g)
		}
	}
}
