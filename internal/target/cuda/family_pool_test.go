package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/dsl"
)

// poolCase is a pooling of type pt with window win over dims, with the
// window settings set.
func poolCase(name string, pt dsl.PoolingType, dims, win dsl.Dims, set func(p *dsl.PoolingLayer)) familyCase {
	return familyCase{name, func(dt dsl.DataType, _ *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		p := n.AddPoolingNd(n.AddInput("x", dt, dims), pt, win)
		if set != nil {
			set(p)
		}
		return n, p
	}}
}

var poolCases = []familyCase{
	poolCase("3d-max", dsl.PoolingMax, dsl.Dims{2, 3, 5, 6, 7}, dsl.Dims{2, 3, 2}, func(p *dsl.PoolingLayer) {
		p.SetStrideNd(dsl.Dims{2, 2, 3})
		p.SetPrePadding(dsl.Dims{1, 0, 1})
		p.SetPostPadding(dsl.Dims{0, 1, 1})
	}),
	poolCase("3d-average-excluding-padding-round-up", dsl.PoolingAverage, dsl.Dims{1, 2, 5, 5, 6}, dsl.Dims{3, 2, 3}, func(p *dsl.PoolingLayer) {
		p.SetStrideNd(dsl.Dims{2, 2, 2})
		p.SetPaddingNd(dsl.Dims{1, 1, 0})
		p.SetPaddingMode(dsl.PaddingExplicitRoundUp)
	}),
	poolCase("3d-average-counting-padding-round-up", dsl.PoolingAverage, dsl.Dims{1, 2, 5, 5, 6}, dsl.Dims{3, 2, 3}, func(p *dsl.PoolingLayer) {
		// Round-up windows overhang the padded input: they count only
		// their overlap with it.
		p.SetStrideNd(dsl.Dims{2, 2, 2})
		p.SetPaddingNd(dsl.Dims{1, 1, 0})
		p.SetPaddingMode(dsl.PaddingExplicitRoundUp)
		p.SetAverageCountExcludesPadding(false)
	}),
	poolCase("3d-blend-same-upper", dsl.PoolingMaxAverageBlend, dsl.Dims{2, 2, 4, 5, 3}, dsl.Dims{2, 3, 2}, func(p *dsl.PoolingLayer) {
		p.SetBlendFactor(0.3)
		p.SetPaddingMode(dsl.PaddingSameUpper)
		p.SetAverageCountExcludesPadding(false)
	}),
	poolCase("2d-blend", dsl.PoolingMaxAverageBlend, dsl.Dims{1, 2, 5, 5}, dsl.Dims{2, 2}, func(p *dsl.PoolingLayer) {
		p.SetBlendFactor(0.7)
		p.SetStrideNd(dsl.Dims{2, 1})
		p.SetPaddingNd(dsl.Dims{1, 1})
	}),
	poolCase("2d-blend-padding-larger-than-window", dsl.PoolingMaxAverageBlend, dsl.Dims{1, 1, 3, 3}, dsl.Dims{2, 2}, func(p *dsl.PoolingLayer) {
		// Windows wholly in the padding: max -inf, an average of 0.
		p.SetBlendFactor(1)
		p.SetStrideNd(dsl.Dims{2, 2})
		p.SetPaddingNd(dsl.Dims{2, 2})
	}),
}

func TestPoolFamilyCases(t *testing.T) { checkFamilyCases(t, poolCases) }

// TestPoolFamilyTakes: 2-d max pooling stays on the built-in kernel; 3-d
// pooling, average pooling and the blend are the family's.
func TestPoolFamilyTakes(t *testing.T) {
	for _, pt := range dsl.AllPoolingTypes() {
		for _, win := range []dsl.Dims{{2, 2}, {2, 2, 2}} {
			dims := append(dsl.Dims{1, 2}, make(dsl.Dims, len(win))...)
			for i := range win {
				dims[2+i] = 4
			}
			for _, dt := range familyFloats {
				net, l := poolCase("", pt, dims, win, nil).build(dt, nil)
				familyNet(t, net, l)
				wantFamily := len(win) != 2 || pt != dsl.PoolingMax
				if got := familyOf(l) != nil; got != wantFamily {
					t.Errorf("%v %v over %v: family %v, want %v", dt, pt, win, got, wantFamily)
				}
				pl := l.(*dsl.PoolingLayer)
				if _, ok := poolKernel("k", pl, false); len(win) == 2 && ok != poolBuiltin(pl) {
					t.Errorf("%v %v over %v: poolKernel writes a kernel: %v, poolBuiltin says %v", dt, pt, win, ok, poolBuiltin(pl))
				}
				if s, _ := familyStep(t, net, l); s.Kind != kindKernel {
					t.Errorf("%v %v over %v runs as %q (%s)", dt, pt, win, s.Kind, s.Why)
				}
			}
		}
	}
}

// TestPoolFamilyPlan checks the metadata of a 3-d pooling: the padded
// input's end and the blend factor's bits come last.
func TestPoolFamilyPlan(t *testing.T) {
	net, l := poolCases[3].build(dsl.Float32, nil)
	familyNet(t, net, l)
	m, g, err := familyOf(l).plan(l, familyStaticValues(net))
	if err != nil {
		t.Fatal(err)
	}
	// SAME_UPPER, stride 1: outputs 4x5x3, padding (window-1) split with
	// the odd element after: pre 0,1,0, post 1,1,1.
	want := []int64{3, 4, 5, 3, 4, 5, 3, 2, 3, 2, 1, 1, 1, 0, 1, 0, 5, 6, 4, int64(math.Float32bits(0.3))}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("meta %v, want %v", m, want)
	}
	if g.n != 2*2*4*5*3 {
		t.Errorf("launch %+v, want n %d", g, 2*2*4*5*3)
	}
}
