package cpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TestShuffleTransposeReshapeTranspose checks all three steps against a
// naive index computation: x [2,3,4] -> first (2,0,1) -> [4,2,3] ->
// reshape [4,6] -> second (1,0) -> [6,4].
func TestShuffleTransposeReshapeTranspose(t *testing.T) {
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.Int64, tensor.Int4} {
		t.Run(dt.String(), func(t *testing.T) {
			x, xv := randTensor(t, newRNG(1), dt, 2, 3, 4)
			net := dsl.NewNetwork()
			in := net.AddInput("x", dt, dsl.Dims{-1, 3, 4})
			l := net.AddShuffle(in)
			l.SetFirstTranspose(dsl.Permutation{2, 0, 1})
			l.SetReshapeDimensions(dsl.Dims{0, -1})
			l.SetSecondTranspose(dsl.Permutation{1, 0})
			net.MarkOutput(l.Output(0))
			if d := l.Output(0).Dims(); !d.Equal(dsl.Dims{-1, 4}) {
				t.Fatalf("inferred %v, want -1x4", d)
			}
			got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
			// t1[k][i][j] = x[i][j][k]; flat t1 as [4][6]: r = k, c = i*3+j.
			// out[c][r] = t1[r][c].
			want := make([]float64, 24)
			for c := 0; c < 6; c++ {
				for r := 0; r < 4; r++ {
					i, j, k := c/3, c%3, r
					want[c*4+r] = xv[i*12+j*4+k]
				}
			}
			checkClose(t, got, []int64{6, 4}, want, 1)
		})
	}
}

func TestShuffleReshapeFromTensor(t *testing.T) {
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{2, 6})
	shape := net.AddInput("shape", tensor.Int32, dsl.Dims{3})
	l := net.AddShuffle(in)
	l.SetInput(1, shape)
	net.MarkOutput(l.Output(0))
	x, xv := randTensor(t, newRNG(2), tensor.Float32, 2, 6)
	s, _ := tensor.FromInt32([]int64{3}, []int32{0, 3, -1})
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x, "shape": s})[l.Output(0).Name()]
	checkClose(t, got, []int64{2, 3, 2}, xv, 1)

	// A volume that does not fit is a run-time ShapeMismatch.
	bad, _ := tensor.FromInt32([]int64{3}, []int32{5, 1, 1})
	err := runErr(net, map[string]*tensor.Tensor{"x": x, "shape": bad})
	if !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "volumes differ") {
		t.Fatalf("want a ShapeMismatch about volumes, got %v", err)
	}
}

func TestShuffleZeroIsPlaceholderAtRunTime(t *testing.T) {
	// x is [0, 3] (empty). With placeholders, [0, 3] copies the 0: [0, 3].
	// Without, a literal 0 with the -1 inferred is indeterminate, so the
	// static case [3, 0] is used instead.
	for _, zero := range []bool{true, false} {
		net := dsl.NewNetwork()
		in := net.AddInput("x", tensor.Float32, dsl.Dims{-1, 3})
		l := net.AddShuffle(in)
		l.SetZeroIsPlaceholder(zero)
		want := []int64{0, 3}
		if zero {
			l.SetReshapeDimensions(dsl.Dims{0, 3})
		} else {
			l.SetReshapeDimensions(dsl.Dims{3, 0})
			want = []int64{3, 0}
		}
		net.MarkOutput(l.Output(0))
		x := tensor.New(tensor.Float32, 0, 3)
		got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
		if !sameShape(got.Shape(), want) {
			t.Errorf("zeroIsPlaceholder=%v: shape %v, want %v", zero, got.Shape(), want)
		}
	}
	// With placeholders a 0 copies a non-zero dim: [2,3] -> [0, 3] is [2, 3].
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{-1, 3})
	l := net.AddShuffle(in)
	l.SetReshapeDimensions(dsl.Dims{0, 3})
	net.MarkOutput(l.Output(0))
	x, xv := randTensor(t, newRNG(3), tensor.Float32, 2, 3)
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
	checkClose(t, got, []int64{2, 3}, xv, 1)
}
