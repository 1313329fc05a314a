package einsum

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
)

// einsumNet is one Einsum over inputs of the given dims (float32), its
// output named y.
func einsumNet(eq string, dims ...dsl.Dims) *dsl.Network {
	n := dsl.NewNetwork()
	var in []*dsl.Tensor
	for i, d := range dims {
		in = append(in, n.AddInput(string(rune('a'+i)), dsl.Float32, d))
	}
	y := n.AddEinsum(in, eq).Output(0)
	y.SetName("y")
	n.MarkOutput(y)
	return n
}

func einsums(net *dsl.Network) int {
	k := 0
	for _, l := range net.Layers() {
		if l.Type() == dsl.LayerEinsum {
			k++
		}
	}
	return k
}

// TestEinsumBecomesMatMul: each equation's rewrite computes on the CPU
// engine what the Einsum computes (within float32 rounding of sums of
// its contracted length), with no Einsum left.
func TestEinsumBecomesMatMul(t *testing.T) {
	for _, tc := range []struct {
		eq   string
		dims []dsl.Dims
		k    int // the longest sum
	}{
		{"ij,jk->ik", []dsl.Dims{{3, 4}, {4, 5}}, 4},
		{"ij,kj->ik", []dsl.Dims{{3, 4}, {5, 4}}, 4},
		{"bij,bjk->bik", []dsl.Dims{{2, 3, 4}, {2, 4, 5}}, 4},
		{"bhqd,bhkd->bhqk", []dsl.Dims{{2, 3, 5, 4}, {2, 3, 6, 4}}, 4},
		{"abc,cd->abd", []dsl.Dims{{2, 3, 4}, {4, 5}}, 4},
		{"abcd,cde->abe", []dsl.Dims{{2, 3, 4, 5}, {4, 5, 6}}, 20},
		{"ij,jk->ki", []dsl.Dims{{3, 4}, {4, 5}}, 4},
		{"i,i->", []dsl.Dims{{7}, {7}}, 7},
		{"i,j->ij", []dsl.Dims{{3}, {4}}, 1},
		{"bi,bj->bij", []dsl.Dims{{2, 3}, {2, 4}}, 1},
		{"ij,jk->", []dsl.Dims{{3, 4}, {4, 5}}, 60},
		{"bij,bk->bj", []dsl.Dims{{2, 3, 4}, {2, 5}}, 15}, // i summed in A alone, k in B alone
		{"...ij,...jk->...ik", []dsl.Dims{{2, 3, 4, 5}, {2, 3, 5, 6}}, 5},
		{"...ij,jk->...ik", []dsl.Dims{{2, 3, 4, 5}, {5, 6}}, 5},
		{"bij,bjk->bik", []dsl.Dims{{-1, 3, 4}, {-1, 4, 5}}, 4}, // dynamic batch
		{"bsh,hd->bsd", []dsl.Dims{{-1, -1, 8}, {8, 6}}, 8},     // dynamic batch and tokens
		{"abc,cd->abd", []dsl.Dims{{-1, -1, 4}, {4, -1}}, 4},
		{"bqhd,bkhd->bhqk", []dsl.Dims{{2, -1, 3, 4}, {2, -1, 3, 4}}, 4},
		{"abcd,cde->abe", []dsl.Dims{{2, -1, -1, 5}, {-1, 5, 6}}, 20}, // an unknown contracted dim merged
		{"ij->ji", []dsl.Dims{{3, 4}}, 1},
		{"ijk->ki", []dsl.Dims{{3, 4, 5}}, 4},
		{"ij->", []dsl.Dims{{3, 4}}, 12},
		{"ii->i", []dsl.Dims{{3, 3}}, 1},
		{"ii->", []dsl.Dims{{4, 4}}, 4},
		{"bii->bi", []dsl.Dims{{-1, 3, 3}}, 1},
		{"iji->j", []dsl.Dims{{3, 4, 3}}, 3},
		{"iii->i", []dsl.Dims{{3, 3, 3}}, 1},
		{"ii,ij->j", []dsl.Dims{{3, 3}, {3, 5}}, 3},
		{"ij,jk,kl->il", []dsl.Dims{{2, 3}, {3, 4}, {4, 5}}, 12},
		{"bi,bj,bk->bijk", []dsl.Dims{{-1, 2}, {-1, 3}, {-1, 4}}, 1},
		{"i,i,i->", []dsl.Dims{{5}, {5}, {5}}, 5},
		{"ab,bc,cd,de->ae", []dsl.Dims{{2, 3}, {3, 2}, {2, 4}, {4, 3}}, 24},
	} {
		t.Run(tc.eq, func(t *testing.T) {
			net := einsumNet(tc.eq, tc.dims...)
			if err := net.Err(); err != nil {
				t.Fatal(err)
			}
			in := irtest.RandomInputs(net, 1, 3)
			if !irtest.CheckPass(t, tc.eq, AsMatMul, ir.Options{OptLevel: 2}, net, in, tc.k) {
				t.Fatal("not rewritten")
			}
			out, _ := AsMatMul(ir.New(net), ir.Options{})
			if k := einsums(out.Net); k != 0 {
				t.Errorf("%d Einsum layers left", k)
			}
		})
	}
}

// TestEinsumsThatStay: a diagonal of a size known only at run time is
// left alone.
func TestEinsumsThatStay(t *testing.T) {
	for _, tc := range []struct {
		eq   string
		dims []dsl.Dims
	}{
		{"ii->i", []dsl.Dims{{-1, -1}}},
	} {
		net := einsumNet(tc.eq, tc.dims...)
		if err := net.Err(); err != nil {
			t.Fatal(err)
		}
		g := ir.New(net)
		if out, err := AsMatMul(g, ir.Options{}); err != nil || out != g {
			t.Errorf("%s: rewritten (%v)", tc.eq, err)
		}
	}
}

// TestMixedTypesBecomeMatMul: an Einsum of a float16 and a float32
// operand (legal; its output is float32) computes in float32.
func TestMixedTypesBecomeMatMul(t *testing.T) {
	net := dsl.NewNetwork()
	a := net.AddInput("a", dsl.Float16, dsl.Dims{3, 4})
	b := net.AddInput("b", dsl.Float32, dsl.Dims{4, 4})
	y := net.AddEinsum([]*dsl.Tensor{a, b}, "ij,jj->i").Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	if !irtest.CheckPass(t, "mixed", AsMatMul, ir.Options{OptLevel: 2}, net, irtest.RandomInputs(net, 1, 3), 4) {
		t.Fatal("not rewritten")
	}
}
