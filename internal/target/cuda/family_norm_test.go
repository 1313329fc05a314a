package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// normCase normalizes an input of dims over axes with scale and bias of
// dims sd (inputs when asInputs, else constants), nbGroups groups, v2 for
// AddNormalizationV2.
func normCase(name string, dims, sd dsl.Dims, axes uint32, groups int64, v2, asInputs bool) familyCase {
	return familyCase{name, func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dims)
		param := func(name string) *dsl.Tensor {
			if asInputs {
				return n.AddInput(name, dt, sd)
			}
			w := familyWeights(rng, dt, tensor.Volume(sd))
			return n.AddConstant(sd, w).Output(0)
		}
		s, b := param("scale"), param("bias")
		add := n.AddNormalization
		if v2 {
			add = n.AddNormalizationV2
		}
		l := add(x, s, b, axes)
		l.SetEpsilon(1e-3)
		if groups > 1 {
			l.SetNbGroups(groups)
		}
		return n, l
	}}
}

var normCases = []familyCase{
	normCase("batch-norm-axes-0-2-3", dsl.Dims{3, 4, 5, 6}, dsl.Dims{1, 4, 1, 1}, 0b1101, 1, false, true),
	normCase("middle-axis", dsl.Dims{2, 7, 3}, dsl.Dims{1, 1, 3}, 0b010, 1, false, false),
	normCase("leading-axes-full-scale", dsl.Dims{4, 3, 5}, dsl.Dims{4, 3, 5}, 0b011, 1, false, true),
	normCase("group-norm-per-group-scale", dsl.Dims{2, 6, 3, 4}, dsl.Dims{1, 3, 1, 1}, 0b1100, 3, false, true),
	normCase("group-norm-v2-per-channel-scale", dsl.Dims{2, 6, 5}, dsl.Dims{1, 6, 1}, 0b100, 2, true, false),
	normCase("instance-norm-as-groups", dsl.Dims{2, 3, 4, 2}, dsl.Dims{1, 3, 1, 1}, 0b1100, 3, true, true),
	normCase("large-group", dsl.Dims{1, 2, 40, 50}, dsl.Dims{1, 1, 1, 1}, 0b1100, 2, true, true),
}

func TestNormFamilyCases(t *testing.T) { checkFamilyCases(t, normCases) }

// TestNormFamilyTakes: trailing axes without groups stay on the built-in
// kernel; other axes and groups are the family's.
func TestNormFamilyTakes(t *testing.T) {
	for _, tc := range []struct {
		c      familyCase
		family bool
	}{
		{normCase("trailing", dsl.Dims{2, 3, 4}, dsl.Dims{1, 1, 4}, 0b100, 1, false, false), false},
		{normCase("two-trailing", dsl.Dims{2, 3, 4}, dsl.Dims{1, 3, 4}, 0b110, 1, false, false), false},
		{normCase("all", dsl.Dims{2, 3, 4}, dsl.Dims{2, 3, 4}, 0b111, 1, false, false), false},
		{normCases[0], true},
		{normCases[1], true},
		{normCases[3], true},
		{normCases[4], true},
	} {
		net, l := tc.c.build(dsl.Float32, rand.New(rand.NewPCG(1, 1)))
		familyNet(t, net, l)
		if got := familyOf(l) != nil; got != tc.family {
			t.Errorf("%s: family %v, want %v", tc.c.name, got, tc.family)
		}
		if s, _ := familyStep(t, net, l); s.Kind != kindKernel {
			t.Errorf("%s runs as %q (%s)", tc.c.name, s.Kind, s.Why)
		}
	}
}

// TestNormFamilyPlan checks the metadata of a batch-norm-style layer and
// of a group norm, and the plan's errors for scale shapes the CPU engine
// refuses at run time.
func TestNormFamilyPlan(t *testing.T) {
	net, l := normCases[0].build(dsl.Float32, rand.New(rand.NewPCG(1, 1)))
	familyNet(t, net, l)
	v := familyStaticValues(net)
	m, g, err := familyOf(l).plan(l, v)
	if err != nil {
		t.Fatal(err)
	}
	eps := int64(math.Float32bits(1e-3))
	// Input 3x4x5x6 (strides 120,30,6,1) over axes 0,2,3: one group per
	// channel; the scale [1,4,1,1] follows axis 1.
	want := []int64{4, 3, 4, 5, 6, 0, 1, 0, 0, 1, 4, 30, 3, 3, 5, 6, 120, 6, 1, 0, eps}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("meta %v, want %v", m, want)
	}
	if g.n != 4 || g.grid.X != 4 {
		t.Errorf("launch %+v, want a block for each of 4 groups", g)
	}
	net, l = normCases[3].build(dsl.Float32, rand.New(rand.NewPCG(1, 1)))
	familyNet(t, net, l)
	v = familyStaticValues(net)
	if m, _, err = familyOf(l).plan(l, v); err != nil {
		t.Fatal(err)
	}
	// 2x6x3x4 in 3 groups: 6 groups of 2*3*4 = 24 contiguous elements,
	// scale per group.
	want = []int64{4, 2, 6, 3, 4, 0, 0, 0, 0, 1, 6, 24, 1, 24, 1, 3, eps}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("group norm meta %v, want %v", m, want)
	}
	v.dims[l.Input(1)], v.dims[l.Input(2)] = []int64{1, 6, 1, 1}, []int64{1, 6, 1, 1}
	if _, _, err := familyOf(l).plan(l, v); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "want one per group (3)") {
		t.Errorf("6 scale values for 3 groups: %v", err)
	}
	v.dims[l.Input(2)] = []int64{1, 3, 1, 1}
	if _, _, err := familyOf(l).plan(l, v); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "must match") {
		t.Errorf("scale and bias of other shapes: %v", err)
	}
	net, l = normCases[0].build(dsl.Float32, rand.New(rand.NewPCG(1, 1)))
	familyNet(t, net, l)
	v = familyStaticValues(net)
	v.dims[l.Input(1)], v.dims[l.Input(2)] = []int64{1, 2, 1, 1}, []int64{1, 2, 1, 1}
	if _, _, err := familyOf(l).plan(l, v); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "does not broadcast") {
		t.Errorf("a scale of 2 for 4 channels: %v", err)
	}
}
