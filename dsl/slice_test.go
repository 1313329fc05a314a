package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestSliceInference(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{4, -1, 6})
	datamoveWantDims(t, n.AddSlice(x, Dims{0, 0, 5}, Dims{2, 3, 3}, Dims{1, 1, -2}), 0, Dims{2, 3, 3})

	// Axes: the others are copied whole, negative axes count from the end.
	l := n.AddSlice(x, Dims{1}, Dims{2}, Dims{1})
	l.SetAxes(Dims{-1})
	datamoveWantDims(t, l, 0, Dims{4, -1, 2})

	// Size from an unknown tensor: the sliced dims become dynamic.
	l = n.AddSlice(x, Dims{0}, nil, Dims{1})
	l.SetAxes(Dims{0})
	l.SetInput(2, n.AddInput("size", Int64, Dims{1}))
	datamoveWantDims(t, l, 0, Dims{-1, -1, 6})
	if l.Size() != nil {
		t.Error("Size() should be nil while input 2 is set")
	}
	l.SetSize(Dims{3})
	datamoveWantDims(t, l, 0, Dims{3, -1, 6})

	// Axes from an unknown tensor: every dim is dynamic.
	l = n.AddSlice(x, Dims{0}, Dims{1}, Dims{1})
	l.SetInput(5, n.AddInput("axes", Int32, Dims{1}))
	datamoveWantDims(t, l, 0, Dims{-1, -1, -1})

	// Known size values give static dims.
	l = n.AddSlice(x, Dims{0, 0, 0}, nil, Dims{1, 1, 1})
	l.SetInput(2, datamoveKnownInput(n, "ksize", Int64, 1, 2, 3))
	datamoveWantDims(t, l, 0, Dims{1, 2, 3})

	// Non-strict modes accept out-of-bounds windows.
	for _, m := range []SampleMode{SampleWrap, SampleClamp, SampleFill, SampleReflect} {
		l = n.AddSlice(x, Dims{-5, 0, 0}, Dims{10, 1, 1}, Dims{1, 1, 1})
		l.SetMode(m)
		datamoveWantDims(t, l, 0, Dims{10, 1, 1})
	}
}

func TestSliceFoldsShapeValues(t *testing.T) {
	n := NewNetwork()
	shape := datamoveKnownInput(n, "shape", Int64, 8, 16, 32, 64)
	l := n.AddSlice(shape, Dims{3}, Dims{2}, Dims{-2})
	v, ok := l.Output(0).KnownValues()
	if !ok || len(v) != 2 || v[0] != 64 || v[1] != 16 {
		t.Errorf("values %v %v, want [64 16]", v, ok)
	}
}

func TestSliceErrors(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{4, 5})
	i := n.AddInput("i", Int32, Dims{})

	datamoveWantErr(t, n.AddSlice(x, Dims{0}, Dims{1}, Dims{1}), diag.ShapeMismatch, "has rank 2")
	datamoveWantErr(t, n.AddSlice(x, Dims{0, 3}, Dims{1, 3}, Dims{1, 1}), diag.InvalidNode, "coordinate 5 on axis 1")
	datamoveWantErr(t, n.AddSlice(x, Dims{0, -1}, Dims{1, 1}, Dims{1, 1}), diag.InvalidNode, "coordinate -1 on axis 1")
	datamoveWantErr(t, n.AddSlice(x, Dims{0, 0}, Dims{1, -1}, Dims{1, 1}), diag.InvalidNode, "negative")
	l := n.AddSlice(x, Dims{0}, Dims{1}, Dims{1})
	l.SetAxes(Dims{2})
	datamoveWantErr(t, l, diag.InvalidNode, "axis 2 is out of range")
	l = n.AddSlice(x, Dims{0, 0}, Dims{1, 1}, Dims{1, 1})
	l.SetAxes(Dims{1, -1})
	datamoveWantErr(t, l, diag.InvalidNode, "listed twice")
	l = n.AddSlice(x, Dims{0, 0}, Dims{1}, Dims{1, 1})
	l.SetAxes(Dims{1, 0})
	datamoveWantErr(t, l, diag.ShapeMismatch, "size has 1 entries but axes has 2")
	l = n.AddSlice(x, Dims{0, 0}, Dims{1, 1}, Dims{1, 1})
	l.SetInput(4, n.AddInput("fill", Float32, Dims{}))
	datamoveWantErr(t, l, diag.InvalidNode, "only allowed with SampleFill")
	l = n.AddSlice(x, Dims{0, 0}, Dims{1, 1}, Dims{1, 1})
	l.SetMode(SampleFill)
	l.SetInput(4, i)
	datamoveWantErr(t, l, diag.TypeMismatch, "insert a Cast")
	l = n.AddSlice(x, Dims{0, 0}, Dims{1, 1}, Dims{1, 1})
	l.SetMode(SampleFill)
	l.SetInput(4, n.AddInput("fillv", Float32, Dims{1}))
	datamoveWantErr(t, l, diag.ShapeMismatch, "must be a scalar")
	l = n.AddSlice(x, nil, Dims{1, 1}, Dims{1, 1})
	l.SetInput(1, n.AddInput("fstart", Float32, Dims{2}))
	datamoveWantErr(t, l, diag.TypeMismatch, "Int32 or Int64")
	l = n.AddSlice(x, Dims{0, 0}, Dims{1, 1}, Dims{1, 1})
	l.SetMode(SampleMode(9))
	datamoveWantErr(t, l, diag.InvalidNode, "unknown sample mode")
	e := n.AddInput("e", Float32, Dims{0, 2})
	l = n.AddSlice(e, Dims{0, 0}, Dims{1, 2}, Dims{1, 1})
	l.SetMode(SampleClamp)
	datamoveWantErr(t, l, diag.InvalidNode, "length 0")
}

func TestSampleModeMapCoord(t *testing.T) {
	// Reflect on n=4 repeats 0 1 2 3 2 1 with period 6.
	want := []int64{2, 1, 0, 1, 2, 3, 2, 1, 0, 1}
	for i, w := range want {
		if got, ok := SampleReflect.MapCoord(int64(i)-2, 4); !ok || got != w {
			t.Errorf("reflect(%d, 4) = %d %v, want %d", i-2, got, ok, w)
		}
	}
	if got, ok := SampleReflect.MapCoord(-7, 1); !ok || got != 0 {
		t.Errorf("reflect on one element = %d %v, want 0", got, ok)
	}
	if _, ok := SampleWrap.MapCoord(0, 0); ok {
		t.Error("wrap on an empty axis succeeded")
	}
	if got, _ := SampleFill.MapCoord(3, 3); got != -1 {
		t.Errorf("fill out of bounds = %d, want -1", got)
	}
}
