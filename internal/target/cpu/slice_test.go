package cpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TestSliceModes works each sample mode by hand on x = [10 20 30].
func TestSliceModes(t *testing.T) {
	cases := []struct {
		mode                dsl.SampleMode
		start, size, stride int64
		fill                bool // set input 4 to 7
		want                []float64
	}{
		{dsl.SampleStrictBounds, 2, 2, -1, false, []float64{30, 20}},
		{dsl.SampleWrap, -2, 5, 1, false, []float64{20, 30, 10, 20, 30}},
		{dsl.SampleClamp, -1, 5, 1, false, []float64{10, 10, 20, 30, 30}},
		{dsl.SampleFill, -1, 5, 1, true, []float64{7, 10, 20, 30, 7}},
		{dsl.SampleFill, -1, 5, 1, false, []float64{0, 10, 20, 30, 0}},
		// Reflection about the edge elements: ... 1 2 1 [0 1 2] 1 0 ...
		{dsl.SampleReflect, -3, 8, 1, false, []float64{20, 30, 20, 10, 20, 30, 20, 10}},
		{dsl.SampleReflect, 4, 3, -2, false, []float64{10, 30, 10}},
	}
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Int32} {
		for _, c := range cases {
			t.Run(dt.String()+"/"+c.mode.String(), func(t *testing.T) {
				net := dsl.NewNetwork()
				in := net.AddInput("x", dt, dsl.Dims{3})
				l := net.AddSlice(in, dsl.Dims{c.start}, dsl.Dims{c.size}, dsl.Dims{c.stride})
				l.SetMode(c.mode)
				feeds := map[string]*tensor.Tensor{"x": mustTensor(t, dt, []int64{3}, []float64{10, 20, 30})}
				if c.fill {
					l.SetInput(4, net.AddInput("fill", dt, dsl.Dims{}))
					feeds["fill"] = mustTensor(t, dt, nil, []float64{7})
				}
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, feeds)[l.Output(0).Name()]
				checkClose(t, got, []int64{c.size}, c.want, 1)
			})
		}
	}
}

// TestSliceHeaderExamples are the two examples of TensorRT's ISliceLayer
// documentation.
func TestSliceHeaderExamples(t *testing.T) {
	x := []float64{0, 2, 4, 1, 3, 5}
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{2, 3})
	a := net.AddSlice(in, dsl.Dims{1, 0}, dsl.Dims{1, 2}, dsl.Dims{1, 2})
	b := net.AddSlice(in, dsl.Dims{1}, dsl.Dims{2}, dsl.Dims{1})
	b.SetAxes(dsl.Dims{-1})
	net.MarkOutput(a.Output(0))
	net.MarkOutput(b.Output(0))
	out := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, tensor.Float32, []int64{2, 3}, x)})
	checkClose(t, out[a.Output(0).Name()], []int64{1, 2}, []float64{1, 5}, 1)
	checkClose(t, out[b.Output(0).Name()], []int64{2, 2}, []float64{2, 4, 3, 5}, 1)
}

// TestSliceStridedNaive compares a 3-D slice with negative and positive
// strides, parameters from tensors, against a naive loop.
func TestSliceStridedNaive(t *testing.T) {
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		t.Run(dt.String(), func(t *testing.T) {
			x, xv := randTensor(t, newRNG(6), dt, 4, 5, 6)
			net := dsl.NewNetwork()
			in := net.AddInput("x", dt, dsl.Dims{-1, 5, 6})
			l := net.AddSlice(in, nil, nil, nil)
			l.SetInput(1, net.AddInput("start", tensor.Int64, dsl.Dims{3}))
			l.SetInput(2, net.AddInput("size", tensor.Int32, dsl.Dims{3}))
			l.SetInput(3, net.AddInput("stride", tensor.Int64, dsl.Dims{3}))
			net.MarkOutput(l.Output(0))
			if d := l.Output(0).Dims(); !d.Equal(dsl.Dims{-1, -1, -1}) {
				t.Fatalf("inferred %v", d)
			}
			start, size, stride := []int64{3, 1, 5}, []int64{2, 2, 3}, []int64{-2, 3, -2}
			s1, _ := tensor.FromInt64([]int64{3}, start)
			s2, _ := tensor.FromInt32([]int64{3}, []int32{2, 2, 3})
			s3, _ := tensor.FromInt64([]int64{3}, stride)
			got := runNet(t, net, map[string]*tensor.Tensor{"x": x, "start": s1, "size": s2, "stride": s3})[l.Output(0).Name()]
			var want []float64
			for i := int64(0); i < size[0]; i++ {
				for j := int64(0); j < size[1]; j++ {
					for k := int64(0); k < size[2]; k++ {
						a, b, c := start[0]+i*stride[0], start[1]+j*stride[1], start[2]+k*stride[2]
						want = append(want, xv[a*30+b*6+c])
					}
				}
			}
			checkClose(t, got, size, want, 1)
		})
	}
}

func TestSliceRunTimeErrors(t *testing.T) {
	// Strict bounds with a dynamic dim: only the run time knows it is too short.
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{-1})
	l := net.AddSlice(in, dsl.Dims{1}, dsl.Dims{3}, dsl.Dims{1})
	net.MarkOutput(l.Output(0))
	x, _ := randTensor(t, newRNG(7), tensor.Float32, 3)
	err := runErr(net, map[string]*tensor.Tensor{"x": x})
	if !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), "coordinate 3") {
		t.Fatalf("want OutOfRange naming coordinate 3, got %v", err)
	}
	// Clamp on an empty axis has nothing to read.
	net = dsl.NewNetwork()
	in = net.AddInput("x", tensor.Float32, dsl.Dims{-1})
	l = net.AddSlice(in, dsl.Dims{0}, dsl.Dims{2}, dsl.Dims{1})
	l.SetMode(dsl.SampleClamp)
	net.MarkOutput(l.Output(0))
	err = runErr(net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0)})
	if !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), "length 0") {
		t.Fatalf("want OutOfRange about length 0, got %v", err)
	}
	// ... but an empty output from an empty input is fine, and Fill needs no input element.
	net = dsl.NewNetwork()
	in = net.AddInput("x", tensor.Float32, dsl.Dims{-1, 2})
	e := net.AddSlice(in, dsl.Dims{0, 0}, dsl.Dims{0, 2}, dsl.Dims{1, 1})
	f := net.AddSlice(in, dsl.Dims{0, 0}, dsl.Dims{1, 2}, dsl.Dims{1, 1})
	f.SetMode(dsl.SampleFill)
	net.MarkOutput(e.Output(0))
	net.MarkOutput(f.Output(0))
	out := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0, 2)})
	checkClose(t, out[e.Output(0).Name()], []int64{0, 2}, nil, 1)
	checkClose(t, out[f.Output(0).Name()], []int64{1, 2}, []float64{0, 0}, 1)
}
