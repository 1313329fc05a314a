package cpu

import (
	"errors"
	"math"
	"math/cmplx"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestRotaryQuarterTurnByHand(t *testing.T) {
	// One head of size 4, half-split: pairs (x0, x2) and (x1, x3).
	// Pair 0 turns by 90° ((1, 3) -> (-3, 1)), pair 1 by 0° (unchanged).
	net := dsl.NewNetwork()
	l := net.AddRotaryEmbedding(net.AddInput("x", tensor.Float32, dsl.Dims{1, 1, 1, 4}),
		net.AddInput("c", tensor.Float32, dsl.Dims{1, 1, 2}), net.AddInput("s", tensor.Float32, dsl.Dims{1, 1, 2}), false, 0)
	net.MarkOutput(l.Output(0))
	ins := map[string]*tensor.Tensor{
		"x": mustTensor(t, tensor.Float32, []int64{1, 1, 1, 4}, []float64{1, 2, 3, 4}),
		"c": mustTensor(t, tensor.Float32, []int64{1, 1, 2}, []float64{0, 1}),
		"s": mustTensor(t, tensor.Float32, []int64{1, 1, 2}, []float64{1, 0}),
	}
	got := runNet(t, net, ins)[l.Output(0).Name()]
	checkClose(t, got, []int64{1, 1, 1, 4}, []float64{-3, 2, 1, 4}, 1)
	// Interleaved: pairs (x0, x1) and (x2, x3): (1, 2) -> (-2, 1).
	l.SetInterleaved(true)
	got = runNet(t, net, ins)[l.Output(0).Name()]
	checkClose(t, got, []int64{1, 1, 1, 4}, []float64{-2, 1, 3, 4}, 1)
}

// rotaryRef rotates pairs as complex numbers by angle pos·base^(-2p/R).
func rotaryRef(x []float64, b, h, s, d, rot int, pos func(b, t int) int, interleaved bool) []float64 {
	out := append([]float64{}, x...)
	for bi := 0; bi < b; bi++ {
		for hi := 0; hi < h; hi++ {
			for ti := 0; ti < s; ti++ {
				base := ((bi*h+hi)*s + ti) * d
				for p := 0; p < rot/2; p++ {
					i1, i2 := base+p, base+p+rot/2
					if interleaved {
						i1, i2 = base+2*p, base+2*p+1
					}
					theta := float64(pos(bi, ti)) * math.Pow(10000, -2*float64(p)/float64(rot))
					z := complex(x[i1], x[i2]) * cmplx.Exp(complex(0, theta))
					out[i1], out[i2] = real(z), imag(z)
				}
			}
		}
	}
	return out
}

func TestRotaryAgainstFormula(t *testing.T) {
	const b, h, s, d = 2, 3, 5, 8
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		for _, interleaved := range []bool{false, true} {
			for _, rot := range []int{0, 4} {
				for _, withIDs := range []bool{false, true} {
					rng := newRNG(7)
					x, xv := randTensor(t, rng, dt, b, h, s, d)
					r := rot
					if r == 0 {
						r = d
					}
					ids := []int64{3, 0, 7, 7, 1, 9, 2, 4, 5, 6}
					pos := func(bi, ti int) int { return bi*s + ti + 2 }
					if withIDs {
						pos = func(bi, ti int) int { return int(ids[bi*s+ti]) }
					}
					// Caches: per token, or per position 0..9 with ids.
					rows := b * s
					if withIDs {
						rows = 10
					}
					cv, sv := make([]float64, rows*r/2), make([]float64, rows*r/2)
					for row := 0; row < rows; row++ {
						p := row + 2
						if withIDs {
							p = row
						}
						for i := 0; i < r/2; i++ {
							th := float64(p) * math.Pow(10000, -2*float64(i)/float64(r))
							cv[row*r/2+i], sv[row*r/2+i] = math.Cos(th), math.Sin(th)
						}
					}
					cshape := []int64{b, s, int64(r / 2)}
					if withIDs {
						cshape = []int64{10, int64(r / 2)}
					}
					net := dsl.NewNetwork()
					dyn := dsl.Dims(cshape).Clone()
					dyn[0] = -1
					l := net.AddRotaryEmbedding(net.AddInput("x", dt, dsl.Dims{-1, h, -1, d}),
						net.AddInput("c", tensor.Float32, dyn), net.AddInput("s", tensor.Float32, dyn), interleaved, rot)
					ins := map[string]*tensor.Tensor{"x": x,
						"c": mustTensor(t, tensor.Float32, cshape, cv), "s": mustTensor(t, tensor.Float32, cshape, sv)}
					if withIDs {
						l.SetInput(3, net.AddInput("ids", tensor.Int64, dsl.Dims{b, s}))
						ins["ids"], _ = tensor.FromInt64([]int64{b, s}, ids)
					}
					net.MarkOutput(l.Output(0))
					got := runNet(t, net, ins)[l.Output(0).Name()]
					want := rotaryRef(xv, b, h, s, d, r, pos, interleaved)
					checkClose(t, got, []int64{b, h, s, d}, roundTo(dt, want), 2)
				}
			}
		}
	}
}

func TestRotaryPositionOutOfRange(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddRotaryEmbedding(net.AddInput("x", tensor.Float32, dsl.Dims{1, 1, 2, 2}),
		net.AddInput("c", tensor.Float32, dsl.Dims{3, 1}), net.AddInput("s", tensor.Float32, dsl.Dims{3, 1}), false, 0)
	l.SetInput(3, net.AddInput("ids", tensor.Int32, dsl.Dims{1, 2}))
	net.MarkOutput(l.Output(0))
	x, _ := randTensor(t, newRNG(1), tensor.Float32, 1, 1, 2, 2)
	c, _ := randTensor(t, newRNG(2), tensor.Float32, 3, 1)
	ids, _ := tensor.FromInt32([]int64{1, 2}, []int32{0, 3})
	err := runErr(net, map[string]*tensor.Tensor{"x": x, "c": c, "s": c, "ids": ids})
	if !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("position 3 of 3 rows: %v, want OutOfRange", err)
	}
}
