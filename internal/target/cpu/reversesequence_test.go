package cpu

import (
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TestReverseSequenceONNXExamples are the two examples of ONNX
// ReverseSequence, on a 4x4 input.
func TestReverseSequenceONNXExamples(t *testing.T) {
	cases := []struct {
		batch, seq int
		in         []float64
		lens       []int64
		want       []float64
	}{
		{1, 0, []float64{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}, []int64{4, 3, 2, 1},
			[]float64{3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15}},
		{0, 1, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, []int64{1, 2, 3, 4},
			[]float64{0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12}},
	}
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Int64} {
		for _, c := range cases {
			net := dsl.NewNetwork()
			in := net.AddInput("x", dt, dsl.Dims{-1, 4})
			lens := net.AddInput("lens", tensor.Int32, dsl.Dims{-1})
			l := net.AddReverseSequence(in, lens)
			l.SetBatchAxis(c.batch)
			l.SetSequenceAxis(c.seq)
			net.MarkOutput(l.Output(0))
			lt, _ := tensor.FromInt64s(tensor.Int32, []int64{4}, c.lens)
			got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, dt, []int64{4, 4}, c.in), "lens": lt})[l.Output(0).Name()]
			checkClose(t, got, []int64{4, 4}, c.want, 1)

			bad, _ := tensor.FromInt64s(tensor.Int32, []int64{4}, []int64{1, 5, 0, 0})
			err := runErr(net, map[string]*tensor.Tensor{"x": mustTensor(t, dt, []int64{4, 4}, c.in), "lens": bad})
			if !errors.Is(err, diag.OutOfRange) {
				t.Errorf("length 5 on a sequence of 4: want OutOfRange, got %v", err)
			}
		}
	}
}
