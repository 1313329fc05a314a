package cuda

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/dsltest"
)

var deconvCases = []familyCase{
	{"2d-weights-groups-stride-dilation-padding", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{2, 4, 3, 4})
		d := n.AddDeconvolutionNd(x, 6, dsl.Dims{3, 2}, familyWeights(rng, dt, 4*3*6), familyWeights(rng, dt, 6))
		d.SetNbGroups(2)
		d.SetStrideNd(dsl.Dims{2, 3})
		d.SetDilationNd(dsl.Dims{1, 2})
		d.SetPrePadding(dsl.Dims{1, 0})
		d.SetPostPadding(dsl.Dims{0, 2})
		return n, d
	}},
	{"3d-tensor-kernel-same-lower", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{1, 2, 3, 2, 4})
		w := n.AddInput("w", dt, dsl.Dims{2, 3, 3, 2, 3})
		d := n.AddDeconvolutionNd(x, 3, dsl.Dims{3, 2, 3}, dsl.Weights{}, familyWeights(rng, dsl.Float32, 3))
		d.SetInput(1, w)
		d.SetStrideNd(dsl.Dims{2, 1, 2})
		d.SetPaddingMode(dsl.PaddingSameLower)
		return n, d
	}},
	{"3d-float32-weights-tensor-bias", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{2, 3, 2, 3, 2})
		b := n.AddInput("b", dt, dsl.Dims{4})
		d := n.AddDeconvolutionNd(x, 4, dsl.Dims{2, 2, 3}, familyWeights(rng, dsl.Float32, 3*4*12), dsl.Weights{})
		d.SetInput(2, b)
		d.SetStrideNd(dsl.Dims{3, 2, 1})
		d.SetDilationNd(dsl.Dims{2, 1, 1})
		d.SetPrePadding(dsl.Dims{0, 1, 1})
		return n, d
	}},
	{"2d-no-bias-stride-gaps", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		// Stride 3 over a kernel of 2: some outputs get no tap at all.
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{1, 2, 3, 3})
		d := n.AddDeconvolutionNd(x, 2, dsl.Dims{2, 2}, familyWeights(rng, dt, 2*2*4), dsl.Weights{})
		d.SetStrideNd(dsl.Dims{3, 3})
		return n, d
	}},
}

func TestDeconvFamilyCases(t *testing.T) { checkFamilyCases(t, deconvCases) }

// TestDeconvFamilyLowersDSLNetwork: the dsltest network's deconvolution
// runs as the family's kernel, with its kernel and bias as the family's
// weights.
func TestDeconvFamilyLowersDSLNetwork(t *testing.T) {
	net := dsltest.Networks()["conv"](rand.New(rand.NewPCG(1, 2)))
	found := false
	for _, l := range net.TopoLayers() {
		if l.Type() != dsl.LayerDeconvolution {
			continue
		}
		found = true
		s, _ := familyStep(t, net, l)
		if s.Kind != kindKernel {
			t.Errorf("%s runs as %q (%s)", dsl.LayerString(l), s.Kind, s.Why)
		}
		if w := familyOf(l).weights(l); len(w) != 2 {
			t.Errorf("%d weights, want the kernel and the bias", len(w))
		}
	}
	if !found {
		t.Fatal("the dsltest network has no deconvolution")
	}
}

// TestDeconvFamilyPlan checks the metadata of a small deconvolution and
// the plan's error for a bias of the wrong size.
func TestDeconvFamilyPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	net, l := deconvCases[0].build(dsl.Float32, rng)
	familyNet(t, net, l)
	m, g, err := familyOf(l).plan(l, familyStaticValues(net))
	if err != nil {
		t.Fatal(err)
	}
	// Input 3x4, kernel 3x2, stride 2,3, dilation 1,2, padding 1,0 / 0,2:
	// outputs (3-1)*2+3-1 = 6, (4-1)*3+3-2 = 10.
	want := []int64{2, 4, 6, 2, 3, 4, 6, 10, 3, 2, 2, 3, 1, 2, 1, 0}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("meta %v, want %v", m, want)
	}
	if g.n != 2*6*6*10 {
		t.Errorf("launch %+v, want n %d", g, 2*6*6*10)
	}
	net, l = deconvCases[2].build(dsl.Float32, rng)
	familyNet(t, net, l)
	v := familyStaticValues(net)
	v.dims[l.Input(2)] = []int64{3}
	if _, _, err := familyOf(l).plan(l, v); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "bias has 3 values, want 4") {
		t.Errorf("a bias of 3 values for 4 maps: %v", err)
	}
}
