package cpu

import (
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestSqueezeUnsqueezeKernels(t *testing.T) {
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{-1, 3, 1})
	axes := net.AddInput("axes", tensor.Int64, dsl.Dims{-1})
	sq := net.AddSqueeze(in, axes)
	un := net.AddUnsqueeze(in, axes)

	x, xv := randTensor(t, newRNG(10), tensor.Float32, 1, 3, 1)
	out, err := datamoveRunKernel(t, sq, x, datamoveInt64s(t, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, out[0], []int64{3}, xv, 1)
	out, err = datamoveRunKernel(t, un, x, datamoveInt64s(t, -1, 1))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, out[0], []int64{1, 1, 3, 1, 1}, xv, 1)

	// Squeezing a dim that is not 1 at run time.
	x2, _ := randTensor(t, newRNG(11), tensor.Float32, 2, 3, 1)
	if _, err := datamoveRunKernel(t, sq, x2, datamoveInt64s(t, 0)); !errors.Is(err, diag.ShapeMismatch) {
		t.Errorf("want ShapeMismatch, got %v", err)
	}
	// Empty tensors keep their zero dims.
	out, err = datamoveRunKernel(t, sq, tensor.New(tensor.Float32, 0, 3, 1), datamoveInt64s(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, out[0], []int64{0, 3}, nil, 1)
}
