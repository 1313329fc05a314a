package cuda

import (
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func TestReverseSequenceFamilyLowers(t *testing.T) {
	requireOnGPU(t, "scatter", dsl.LayerReverseSequence)
}

func TestReverseSequenceFamilyPlan(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{5, 3, 2})
	lens := net.AddInput("lens", dsl.Int64, dsl.Dims{-1})
	rs := net.AddReverseSequence(x, lens) // batch 1, sequence 0
	m, g, err := planOf(t, net, map[string][]int64{"lens": {3}}, rs)
	if err != nil || !slices.Equal(m, []int64{6, 5, 2, 3}) || g.n != 30 {
		t.Errorf("meta %v, launch %+v, %v; want [6 5 2 3], 30 elements", m, g, err)
	}
	_, _, err = familyOf(rs).plan(rs, shapeValues{dims: map[*dsl.Tensor][]int64{x: {5, 3, 2}, lens: {4}}})
	wantCode(t, err, diag.ShapeMismatch, "at run time, 4 sequence lengths for a batch axis of 3")

	// The grid covers every length entry even where the output is empty.
	e := dsl.NewNetwork()
	y := e.AddInput("y", dsl.Float32, dsl.Dims{0, 700})
	ers := e.AddReverseSequence(y, e.AddInput("l", dsl.Int32, dsl.Dims{700}))
	_, g, err = planOf(t, e, nil, ers)
	if err != nil || g.n != 0 || g.grid.X != 3 {
		t.Errorf("empty output: launch %+v, %v; want n 0 on 3 blocks", g, err)
	}

	ferr := familyOf(rs).fault(rs, shapeValues{dims: map[*dsl.Tensor][]int64{x: {5, 3, 2}}}, 1, 6)
	if ferr == nil || ferr.Error() != `sequence length 6 (entry 1 of "lens") is outside [0, 5], the length of sequence axis 0` {
		t.Errorf("fault: %v", ferr)
	}
}

func TestReverseSequenceFamilySource(t *testing.T) {
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64, dsl.Int8, dsl.UInt8, dsl.Bool} {
		for _, lt := range []dsl.DataType{dsl.Int32, dsl.Int64} {
			net := dsl.NewNetwork()
			rs := net.AddReverseSequence(net.AddInput("x", dt, dsl.Dims{3, 4}), net.AddInput("l", lt, dsl.Dims{4}))
			net.MarkOutput(rs.Output(0))
			if err := net.Err(); err != nil {
				t.Fatal(err)
			}
			if ok, why := familyOf(rs).lower(rs); !ok {
				t.Fatalf("%v: %s", dt, why)
			}
			src, ok := kernelSource("k", rs)
			bits, _ := elementBits(dt)
			ix, _ := indexCType(lt)
			if !ok || !strings.Contains(src, "const "+bits+"* __restrict__ in") || !strings.Contains(src, "const "+ix+"* __restrict__ lens") || !strings.Contains(src, "trtc_fault(fault, j, e)") {
				t.Errorf("%v %v: %v\n%s", dt, lt, ok, src)
			}
		}
	}
}
