package cuda

import (
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// EinsumDiagonalNet is trace-like Einsums whose diagonal has a size known
// only at run time, which the compiler's einsum pass leaves to the
// target: "bii->bi" of x [-1, -1, -1] and "ij,jj->i" of a and b.
func EinsumDiagonalNet(dt dsl.DataType) *dsl.Network {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dt, dsl.Dims{-1, -1, -1})
	a := n.AddInput("a", dt, dsl.Dims{3, -1})
	b := n.AddInput("b", dsl.Float32, dsl.Dims{-1, -1})
	d := n.AddEinsum([]*dsl.Tensor{x}, "bii->bi")
	d.Output(0).SetName("diag")
	m := n.AddEinsum([]*dsl.Tensor{a, b}, "ij,jj->i")
	m.Output(0).SetName("mixed")
	n.MarkOutput(d.Output(0))
	n.MarkOutput(m.Output(0))
	return n
}

func TestEinsumFamilyPlan(t *testing.T) {
	net := EinsumDiagonalNet(dsl.Float16)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	p, srcs, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layers := net.TopoLayers()
	for i, l := range layers {
		if s := p.Steps[i]; l.Type() == dsl.LayerEinsum && (s.Kind != kindKernel || srcs[s.Kernel] == "") {
			t.Errorf("%s: step %q (%s), want a kernel", dsl.LayerString(l), s.Kind, s.Why)
		}
	}
	var mixed dsl.Layer
	for _, l := range layers {
		if l.Type() == dsl.LayerEinsum && l.NbInputs() == 2 {
			mixed = l
		}
	}
	// a [3, 4], b [4, 4]: output i (3), contracted j (4); a walks j by 1
	// and i by 4, b walks its diagonal by 5.
	m, g, err := einsumPlan(mixed, shapeValues{dims: map[*dsl.Tensor][]int64{mixed.Input(0): {3, 4}, mixed.Input(1): {4, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{2, 1, 1, 3, 4, 4, 1, 0, 5}
	if len(m) != len(want) || g.n != 3 {
		t.Fatalf("meta %v (n %d), want %v (3)", m, g.n, want)
	}
	for k := range want {
		if m[k] != want[k] {
			t.Fatalf("meta %v, want %v", m, want)
		}
	}
	_, _, err = einsumPlan(mixed, shapeValues{dims: map[*dsl.Tensor][]int64{mixed.Input(0): {3, 4}, mixed.Input(1): {5, 5}}})
	wantCode(t, err, diag.ShapeMismatch, "at run time")
}
