package cpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func scatterRun(t *testing.T, dt tensor.DataType, mode dsl.ScatterMode, axis int, ds []int64, data []float64, is []int64, ind []int64, us []int64, upd []float64) (*tensor.Tensor, error) {
	t.Helper()
	net := dsl.NewNetwork()
	d := net.AddInput("data", dt, dsl.Dims(ds))
	i := net.AddInput("ind", tensor.Int64, dsl.Dims(is))
	u := net.AddInput("upd", dt, dsl.Dims(us))
	l := net.AddScatter(d, i, u, mode)
	l.SetAxis(axis)
	net.MarkOutput(l.Output(0))
	it, err := tensor.FromInt64(is, ind)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(net)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	out, err := e.Run(t.Context(), map[string]*tensor.Tensor{
		"data": mustTensor(t, dt, ds, data), "ind": it, "upd": mustTensor(t, dt, us, upd),
	})
	if err != nil {
		return nil, err
	}
	return out[l.Output(0).Name()], nil
}

// TestScatterONNXExamples uses the examples of ONNX ScatterElements and
// ScatterND, plus a negative index.
func TestScatterONNXExamples(t *testing.T) {
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		cases := []struct {
			name      string
			mode      dsl.ScatterMode
			axis      int
			ds        []int64
			data      []float64
			is        []int64
			ind       []int64
			us        []int64
			upd, want []float64
		}{
			{"element axis 1", dsl.ScatterElement, 1, []int64{1, 5}, []float64{1, 2, 3, 4, 5}, []int64{1, 2}, []int64{1, 3}, []int64{1, 2},
				[]float64{1.1, 2.1}, []float64{1, 1.1, 3, 2.1, 5}},
			{"element negative", dsl.ScatterElement, -1, []int64{1, 5}, []float64{1, 2, 3, 4, 5}, []int64{1, 2}, []int64{1, -3}, []int64{1, 2},
				[]float64{1.1, 2.1}, []float64{1, 1.1, 2.1, 4, 5}},
			{"element axis 0", dsl.ScatterElement, 0, []int64{3, 3}, []float64{9, 9, 9, 9, 9, 9, 9, 9, 9}, []int64{2, 3}, []int64{1, 0, 2, 0, 2, 1}, []int64{2, 3},
				[]float64{1, 1.1, 1.2, 2, 2.1, 2.2}, []float64{2, 1.1, 9, 1, 9, 2.2, 9, 2.1, 1.2}},
			{"nd elements", dsl.ScatterND, 0, []int64{8}, []float64{1, 2, 3, 4, 5, 6, 7, 8}, []int64{4, 1}, []int64{4, 3, 1, 7}, []int64{4},
				[]float64{9, 10, 11, 12}, []float64{1, 11, 3, 10, 9, 6, 7, 12}},
			{"nd slices", dsl.ScatterND, 0, []int64{2, 2}, []float64{1, 2, 3, 4}, []int64{1, 1}, []int64{-1}, []int64{1, 2},
				[]float64{7, 8}, []float64{1, 2, 7, 8}},
		}
		for _, c := range cases {
			t.Run(dt.String()+"/"+c.name, func(t *testing.T) {
				got, err := scatterRun(t, dt, c.mode, c.axis, c.ds, c.data, c.is, c.ind, c.us, c.upd)
				if err != nil {
					t.Fatal(err)
				}
				checkClose(t, got, c.ds, roundTo(dt, c.want), 1)
			})
		}
	}
}

func TestScatterOutOfRange(t *testing.T) {
	_, err := scatterRun(t, tensor.Float32, dsl.ScatterElement, 1, []int64{1, 3}, []float64{1, 2, 3}, []int64{1, 1}, []int64{3}, []int64{1, 1}, []float64{5})
	if !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), "index 3") {
		t.Errorf("want OutOfRange for index 3, got %v", err)
	}
	_, err = scatterRun(t, tensor.Float32, dsl.ScatterND, 0, []int64{3}, []float64{1, 2, 3}, []int64{1, 1}, []int64{-4}, []int64{1}, []float64{5})
	if !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), "index -4") {
		t.Errorf("want OutOfRange for index -4, got %v", err)
	}
}
