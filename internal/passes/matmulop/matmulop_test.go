package matmulop

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
)

// attention is Q K^T over x and y of [2, 5, 3, 4] ([batch, tokens,
// heads, head dim]) as PyTorch exports it, with the keys transposed by
// keys (and, when plain, a second product of x by a transposed copy of
// itself whose transpose only swaps the last two axes).
func attention(keys dsl.Permutation) *dsl.Network {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 5, 3, 4})
	y := n.AddInput("y", dsl.Float32, dsl.Dims{2, 5, 3, 4})
	q := n.AddShuffle(x)
	q.SetFirstTranspose(dsl.Permutation{0, 2, 1, 3})
	k := n.AddShuffle(y)
	k.SetFirstTranspose(keys)
	s := n.AddMatrixMultiply(q.Output(0), dsl.MatrixOpNone, k.Output(0), dsl.MatrixOpNone).Output(0)
	s.SetName("scores")
	n.MarkOutput(s)
	return n
}

func shuffles(net *dsl.Network) (moving, transposedOps int) {
	for _, l := range net.Layers() {
		if s, ok := l.(*dsl.ShuffleLayer); ok {
			if p := s.FirstTranspose(); len(p) > 0 && p[len(p)-1] != len(p)-1 {
				moving++
			}
		}
		if m, ok := l.(*dsl.MatrixMultiplyLayer); ok {
			for i := 0; i < 2; i++ {
				if m.Operation(i) == dsl.MatrixOpTranspose {
					transposedOps++
				}
			}
		}
	}
	return moving, transposedOps
}

func TestKeyTransposeBecomesTheMultiplysOperation(t *testing.T) {
	net := attention(dsl.Permutation{0, 2, 3, 1})
	in := irtest.RandomInputs(net, 1, 0)
	if !irtest.CheckPass(t, "keys", TransposesIntoMatMul, ir.Options{OptLevel: 2}, net, in, 0) {
		t.Fatal("the key transpose was not folded")
	}
	out, _ := TransposesIntoMatMul(ir.New(net), ir.Options{})
	if m, ops := shuffles(out.Net); m != 0 || ops != 1 {
		t.Errorf("%d shuffles move the innermost axis and %d operands are transposed, want 0 and 1", m, ops)
	}
}

func TestSwapOfTheLastTwoAxesDisappears(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3, 4})
	w := n.AddInput("w", dsl.Float32, dsl.Dims{2, 5, 4})
	s := n.AddShuffle(w)
	s.SetFirstTranspose(dsl.Permutation{0, 2, 1})
	y := n.AddMatrixMultiply(x, dsl.MatrixOpNone, s.Output(0), dsl.MatrixOpNone).Output(0)
	y.SetName("y")
	n.MarkOutput(y)
	in := irtest.RandomInputs(n, 2, 0)
	if !irtest.CheckPass(t, "swap", TransposesIntoMatMul, ir.Options{OptLevel: 2}, n, in, 0) {
		t.Fatal("not folded")
	}
	out, _ := TransposesIntoMatMul(ir.New(n), ir.Options{})
	if c := out.Net.NbLayers(); c != 1 {
		t.Errorf("%d layers after the pass, want the multiply alone", c)
	}
}

func TestTransposesThatKeepTheInnermostAxisStay(t *testing.T) {
	net := attention(dsl.Permutation{0, 2, 1, 3}) // Q V-style: no swap to fold
	out, err := TransposesIntoMatMul(ir.New(net), ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ops := shuffles(out.Net); ops != 0 {
		t.Errorf("%d operands transposed, want none", ops)
	}
}
