package weightfold

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cpu"
)

// mmNet builds x[-1,8] · W (W [8,4], or [4,8] transposed) followed by
// follow, and returns the network.
func mmNet(t *testing.T, transposed bool, follow func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor) *dsl.Network {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 8})
	dims, op := dsl.Dims{8, 4}, dsl.MatrixOpNone
	if transposed {
		dims, op = dsl.Dims{4, 8}, dsl.MatrixOpTranspose
	}
	w := net.AddConstant(dims, randW(dsl.Float32, dims...))
	w.SetName("W")
	mm := net.AddMatrixMultiply(x, dsl.MatrixOpNone, w.Output(0), op)
	mm.SetName("fc")
	out := follow(net, mm.Output(0))
	out.SetName("y")
	net.MarkOutput(out)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	return net
}

func prodByColumns(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
	c := net.AddConstant(dsl.Dims{1, 4}, randW(dsl.Float32, 1, 4))
	p := net.AddElementWise(y, c.Output(0), dsl.ElementWiseProd)
	p.SetName("scale")
	return p.Output(0)
}

func TestScaleIntoMatMulFolds(t *testing.T) {
	for _, tc := range []struct {
		name       string
		transposed bool
		follow     func(*dsl.Network, *dsl.Tensor) *dsl.Tensor
	}{
		{"prod", false, prodByColumns},
		{"prod transposed", true, prodByColumns},
		{"uniform factor, first operand", false, func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
			c := net.AddConstant(dsl.Dims{1, 1}, randW(dsl.Float32, 1, 1))
			return net.AddElementWise(c.Output(0), y, dsl.ElementWiseProd).Output(0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := mmNet(t, tc.transposed, tc.follow)
			g, err := ScaleIntoMatMul(ir.New(net), ir.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Check(g); err != nil {
				t.Fatal(err)
			}
			if g.Net.NbLayers() != 2 {
				t.Fatalf("got %d layers, want a constant and the matrix multiply", g.Net.NbLayers())
			}
			irtest.Differential(t, net, g.Net, 8)
		})
	}
}

func TestScaleIntoMatMulLeavesAlone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		follow func(*dsl.Network, *dsl.Tensor) *dsl.Tensor
	}{
		{"a quotient", func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
			c := net.AddConstant(dsl.Dims{1, 4}, randW(dsl.Float32, 1, 4))
			return net.AddElementWise(y, c.Output(0), dsl.ElementWiseDiv).Output(0)
		}},
		{"a sum", func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
			c := net.AddConstant(dsl.Dims{1, 4}, randW(dsl.Float32, 1, 4))
			return net.AddElementWise(y, c.Output(0), dsl.ElementWiseSum).Output(0)
		}},
		{"a per-row factor", func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
			x := net.Input(0)
			return net.AddElementWise(y, net.AddReduce(x, dsl.ReduceMax, 1<<1, true).Output(0), dsl.ElementWiseProd).Output(0)
		}},
		{"two readers", func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
			p := prodByColumns(net, y)
			return net.AddElementWise(p, y, dsl.ElementWiseSum).Output(0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := mmNet(t, false, tc.follow)
			g, err := ScaleIntoMatMul(ir.New(net), ir.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if g.Net != net {
				t.Errorf("rewrote the network: %d layers, was %d", g.Net.NbLayers(), net.NbLayers())
			}
		})
	}
}

// TestScaleIntoMatMulCorpus runs the pass over every ONNX backend model:
// results must verify and agree with the original (within fp32 rounding of
// a 64-term sum where it folded).
func TestScaleIntoMatMulCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus test")
	}
	changed := 0
	for _, m := range irtest.ConformanceModels(t) {
		g, err := ScaleIntoMatMul(ir.New(m.Net), ir.Options{})
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if g.Net == m.Net {
			continue
		}
		changed++
		if err := ir.Check(g); err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		want, _ := cpu.Run(m.Net, m.Inputs)
		got, err := cpu.Run(g.Net, m.Inputs)
		if err == nil {
			err = irtest.Compare(want, got, 64)
		}
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	t.Logf("ScaleIntoMatMul changed %d models", changed)
}
