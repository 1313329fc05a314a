package cuda

import (
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func TestOneHotFamilyLowers(t *testing.T) { requireOnGPU(t, "generate", dsl.LayerOneHot) }

func TestOneHotFamilyPlan(t *testing.T) {
	net := dsl.NewNetwork()
	idx := net.AddInput("idx", dsl.Int32, dsl.Dims{2, 3})
	v := net.AddInput("v", dsl.Float32, dsl.Dims{2})
	depth := net.AddConstant(dsl.Dims{}, dsl.Int64Weights(5)).Output(0)
	want := map[int][]int64{0: {5, 6}, 1: {5, 3}, 2: {5, 1}, -1: {5, 1}, -3: {5, 6}}
	for axis, w := range want {
		oh := net.AddOneHot(idx, v, depth, axis)
		m, g, err := planOf(t, net, nil, oh)
		if err != nil || !slices.Equal(m, w) || g.n != 30 {
			t.Errorf("axis %d: meta %v, launch %+v, %v; want %v, 30 elements", axis, m, g, err, w)
		}
	}

	oh := net.AddOneHot(idx, v, net.AddInput("depth", dsl.Int32, dsl.Dims{}), 1)
	f := familyOf(oh)
	d := map[*dsl.Tensor][]int64{idx: {2, 3}, v: {2}, oh.Input(2): {}}
	_, _, err := f.plan(oh, shapeValues{dims: d, values: map[*dsl.Tensor][]int64{oh.Input(2): {0}}})
	wantCode(t, err, diag.OutOfRange, "at run time, depth is 0; it must be positive")
	if _, _, err := f.plan(oh, shapeValues{dims: d}); err == nil {
		t.Error("a plan without the depth")
	}
	d[v] = []int64{3}
	_, _, err = f.plan(oh, shapeValues{dims: d, values: map[*dsl.Tensor][]int64{oh.Input(2): {4}}})
	wantCode(t, err, diag.ShapeMismatch, "values has 3 elements")
}

func TestOneHotFamilySource(t *testing.T) {
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64, dsl.Int8, dsl.UInt8, dsl.Bool} {
		for _, it := range []dsl.DataType{dsl.Int32, dsl.Int64} {
			net := dsl.NewNetwork()
			oh := net.AddOneHot(net.AddInput("i", it, dsl.Dims{4}), net.AddInput("v", dt, dsl.Dims{2}), net.AddConstant(dsl.Dims{}, dsl.Int32Weights(3)).Output(0), -1)
			net.MarkOutput(oh.Output(0))
			if err := net.Err(); err != nil {
				t.Fatal(err)
			}
			if ok, why := familyOf(oh).lower(oh); !ok {
				t.Fatalf("%v: %s", dt, why)
			}
			src, ok := kernelSource("k", oh)
			bits, _ := elementBits(dt)
			ix, _ := indexCType(it)
			if !ok || !strings.Contains(src, "const "+bits+"* __restrict__ vals") || !strings.Contains(src, "const "+ix+"* __restrict__ idx") {
				t.Errorf("%v %v: %v\n%s", dt, it, ok, src)
			}
		}
	}
}
