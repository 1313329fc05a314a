package cpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// gatherRun builds data -> gather(indices) with the given settings and runs it.
func gatherRun(t *testing.T, data *tensor.Tensor, ind []int64, indShape []int64, mode dsl.GatherMode, axis, nbElem int) (*tensor.Tensor, error) {
	t.Helper()
	net := dsl.NewNetwork()
	dyn := make(dsl.Dims, data.Rank())
	for i := range dyn {
		dyn[i] = -1
	}
	d := net.AddInput("data", data.DType(), dyn)
	i := net.AddInput("indices", tensor.Int64, dsl.Dims(indShape))
	l := net.AddGatherV2(d, i, mode)
	l.SetGatherAxis(axis)
	l.SetNbElementWiseDims(nbElem)
	net.MarkOutput(l.Output(0))
	it, err := tensor.FromInt64(indShape, ind)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(net)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	out, err := e.Run(t.Context(), map[string]*tensor.Tensor{"data": data, "indices": it})
	if err != nil {
		return nil, err
	}
	return out[l.Output(0).Name()], nil
}

func TestGatherDefaultNaive(t *testing.T) {
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.Int64} {
		for _, axis := range []int{1, -2} {
			x, xv := randTensor(t, newRNG(8), dt, 2, 3, 4)
			ind := []int64{2, -1, 0, -3} // -1 is 2, -3 is 0
			got, err := gatherRun(t, x, ind, []int64{2, 2}, dsl.GatherDefault, axis, 0)
			if err != nil {
				t.Fatal(err)
			}
			var want []float64
			for i := 0; i < 2; i++ {
				for _, j := range []int{2, 2, 0, 0} {
					for k := 0; k < 4; k++ {
						want = append(want, xv[i*12+j*4+k])
					}
				}
			}
			checkClose(t, got, []int64{2, 2, 2, 4}, want, 1)
		}
	}
}

func TestGatherONNXExamples(t *testing.T) {
	f := func(shape []int64, v ...float64) *tensor.Tensor { return mustTensor(t, tensor.Float32, shape, v) }
	cases := []struct {
		name          string
		data          *tensor.Tensor
		ind, indShape []int64
		mode          dsl.GatherMode
		axis, nbElem  int
		wantShape     []int64
		want          []float64
	}{
		{"default", f([]int64{3, 2}, 1, 1.2, 2.3, 3.4, 4.5, 5.7), []int64{0, 1, 1, 2}, []int64{2, 2}, dsl.GatherDefault, 0, 0,
			[]int64{2, 2, 2}, []float64{1, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7}},
		{"default scalar index", f([]int64{3, 2}, 1, 2, 3, 4, 5, 6), []int64{-1}, []int64{}, dsl.GatherDefault, 0, 0,
			[]int64{2}, []float64{5, 6}},
		// Batch dim 0 broadcasts: indices [1, 2] against data [2, 3, 1].
		{"default batch", f([]int64{2, 3, 1}, 1, 2, 3, 4, 5, 6), []int64{2, 0}, []int64{1, 2}, dsl.GatherDefault, 1, 1,
			[]int64{2, 2, 1}, []float64{3, 1, 6, 4}},
		{"element", f([]int64{2, 2}, 1, 2, 3, 4), []int64{0, 0, 1, 0}, []int64{2, 2}, dsl.GatherElement, 1, 0,
			[]int64{2, 2}, []float64{1, 1, 4, 3}},
		{"element axis 0 smaller", f([]int64{3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9), []int64{1, 2, 0, 2, 0, -1}, []int64{2, 3}, dsl.GatherElement, 0, 0,
			[]int64{2, 3}, []float64{4, 8, 3, 7, 2, 9}},
		{"nd full", f([]int64{2, 2}, 0, 1, 2, 3), []int64{0, 0, 1, 1}, []int64{2, 2}, dsl.GatherND, 0, 0,
			[]int64{2}, []float64{0, 3}},
		{"nd slices", f([]int64{2, 2}, 0, 1, 2, 3), []int64{1, 0}, []int64{2, 1}, dsl.GatherND, 0, 0,
			[]int64{2, 2}, []float64{2, 3, 0, 1}},
		{"nd batch", f([]int64{2, 2, 2}, 0, 1, 2, 3, 4, 5, 6, 7), []int64{1, 0}, []int64{2, 1}, dsl.GatherND, 0, 1,
			[]int64{2, 2}, []float64{2, 3, 4, 5}},
		{"empty indices", f([]int64{3, 2}, 1, 2, 3, 4, 5, 6), nil, []int64{0}, dsl.GatherDefault, 0, 0,
			[]int64{0, 2}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := gatherRun(t, c.data, c.ind, c.indShape, c.mode, c.axis, c.nbElem)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, got, c.wantShape, c.want, 1)
		})
	}
}

func TestGatherOutOfRange(t *testing.T) {
	x, _ := randTensor(t, newRNG(9), tensor.Float32, 3, 2)
	for _, c := range []struct {
		mode dsl.GatherMode
		ind  []int64
		sh   []int64
		text string
	}{
		{dsl.GatherDefault, []int64{0, 3}, []int64{2}, "index 3 (element 1"},
		{dsl.GatherDefault, []int64{-4}, []int64{1}, "index -4"},
		{dsl.GatherElement, []int64{0, 5}, []int64{1, 2}, "index 5"},
		{dsl.GatherND, []int64{1, 2}, []int64{1, 2}, "index 2 (element 1"},
	} {
		_, err := gatherRun(t, x, c.ind, c.sh, c.mode, 0, 0)
		if !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), "length") {
			t.Errorf("%v %v: want OutOfRange with %q, got %v", c.mode, c.ind, c.text, err)
		}
	}
}
