package cuda

import (
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
)

func TestCumulativeFamilyLowers(t *testing.T) { requireOnGPU(t, "reduce", dsl.LayerCumulative) }

func TestCumulativeFamilyPlan(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, -1, 3})
	var ls []dsl.Layer
	for _, a := range []int64{0, 1, -1} {
		ls = append(ls, net.AddCumulative(x, net.AddConstant(dsl.Dims{}, dsl.Int64Weights(a)).Output(0), dsl.CumulativeSum, false, false))
	}
	want := [][]int64{{2, 18}, {6, 3}, {3, 1}}
	lines := []int64{18, 6, 12}
	for i, l := range ls {
		m, g, err := planOf(t, net, map[string][]int64{"x": {2, 6, 3}}, l)
		if err != nil || !slices.Equal(m, want[i]) || g.n != lines[i] {
			t.Errorf("axis %d: meta %v, launch %+v, %v; want %v, %d lines", i, m, g, err, want[i], lines[i])
		}
	}
}

func TestCumulativeFamilySource(t *testing.T) {
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64} {
		for _, ex := range []bool{false, true} {
			for _, rev := range []bool{false, true} {
				net := dsl.NewNetwork()
				l := net.AddCumulative(net.AddInput("x", dt, dsl.Dims{3, 4}), net.AddConstant(dsl.Dims{}, dsl.Int32Weights(1)).Output(0), dsl.CumulativeSum, ex, rev)
				if ok, why := familyOf(l).lower(l); !ok {
					t.Fatalf("%v: %s", dt, why)
				}
				src, ok := kernelSource("k", l)
				if !ok {
					t.Fatalf("%v exclusive %v reverse %v: no kernel", dt, ex, rev)
				}
				acc := "unsigned long long s = 0"
				if isFloat(dt) {
					acc = "double s = 0"
				}
				start := "i64 p = base + 0;"
				if rev {
					start = "i64 p = base + (N - 1) * inner;"
				}
				// The exclusive sum is stored before the element is added.
				store, add := strings.Index(src, "out[p] ="), strings.Index(src, "s +=")
				if !strings.Contains(src, acc) || !strings.Contains(src, start) || store < 0 || add < 0 || (store < add) != ex {
					t.Errorf("%v exclusive %v reverse %v:\n%s", dt, ex, rev, src)
				}
				if (dt == dsl.Float16 || dt == dsl.BFloat16) && !strings.Contains(src, "k_d2f_odd(s)") {
					t.Errorf("%v: not rounded through float to odd:\n%s", dt, src)
				}
			}
		}
	}
}
