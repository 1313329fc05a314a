package cuda

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/ir"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// lowerOnGPU lowers net and fails unless every layer of type k runs as a
// kernel; it adds the kernels' sources to srcs (compileAll compiles them
// in one NVRTC program, as engines do) and returns the plan.
func lowerOnGPU(t *testing.T, net *dsl.Network, k dsl.LayerType, srcs map[string]string) *plan {
	t.Helper()
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	p, ks, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layers := net.TopoLayers()
	found := false
	for i, s := range p.Steps {
		if layers[i].Type() != k {
			continue
		}
		found = true
		if s.Kind != kindKernel || ks[s.Kernel] == "" {
			t.Errorf("%s runs as %q (%s), want a kernel", dsl.LayerString(layers[i]), s.Kind, s.Why)
		}
	}
	if !found {
		t.Fatalf("the network has no %v layer", k)
	}
	for n, src := range ks {
		if n != fixedModule {
			srcs[n] = src
		}
	}
	return p
}

// compileAll compiles srcs for sm_80 with NVRTC, where it is installed.
func compileAll(t *testing.T, srcs map[string]string) {
	t.Helper()
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Logf("no NVRTC, kernels not compiled: %v", err)
		return
	}
	if len(srcs) == 0 {
		t.Fatal("no kernels to compile")
	}
	if _, err := compileKernels(srcs, "sm_80"); err != nil {
		t.Fatal(err)
	}
}

// hostSteps counts the steps of the dsltest networks that run on the
// host, by layer type.
func hostSteps(t *testing.T) map[dsl.LayerType][]string {
	t.Helper()
	hosts := map[dsl.LayerType][]string{}
	for name, b := range dsltest.Networks() {
		net := b(rand.New(rand.NewPCG(1, 2)))
		p, _, err := lowerNetwork(net, ir.Options{})
		if err != nil {
			continue // loops and conditionals
		}
		for i, s := range p.Steps {
			if s.Kind == kindHost {
				l := net.TopoLayers()[i]
				hosts[l.Type()] = append(hosts[l.Type()], name+": "+s.Why)
			}
		}
	}
	return hosts
}

// TestFamiliesLowerDSLNetworks: the dsltest networks run their Fill,
// Scale, Quantize, Dequantize, DynamicQuantize, LRN, Assertion and
// Shuffle layers on the GPU.
func TestFamiliesLowerDSLNetworks(t *testing.T) {
	hosts := hostSteps(t)
	for _, k := range []dsl.LayerType{dsl.LayerFill, dsl.LayerScale, dsl.LayerQuantize, dsl.LayerDequantize,
		dsl.LayerDynamicQuantize, dsl.LayerLRN, dsl.LayerAssertion, dsl.LayerShuffle} {
		if h := hosts[k]; len(h) > 0 {
			t.Errorf("%v runs on the host: %v", k, h)
		}
	}
}

// iotaInput is 0, 1, 2, ... as Int32 of the given dims.
func iotaInput(shape ...int64) *tensor.Tensor {
	v := make([]int32, tensor.Volume(shape))
	for i := range v {
		v[i] = int32(i)
	}
	t, _ := tensor.FromInt32(shape, v)
	return t
}

// runCPU runs net on the CPU engine.
func runCPU(t *testing.T, net *dsl.Network, in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	t.Helper()
	e, err := cpueng.New(net)
	if err != nil {
		t.Fatal(err)
	}
	return e.Run(context.Background(), in)
}

// offsetGo is the prelude's offset in Go.
func offsetGo(i int64, d, s []int64) int64 {
	var o int64
	for k := len(d) - 1; k >= 0; k-- {
		o += i % d[k] * s[k]
		i /= d[k]
	}
	return o
}

// TestShuffleTwoTransposes: the family takes only shuffles with two
// non-identity transposes, and its metadata maps every output element to
// the input element the CPU engine puts there (the input holds each
// element's own index), for reshapes from the attribute and from a shape
// input, of other ranks than the input.
func TestShuffleTwoTransposes(t *testing.T) {
	cases := []struct {
		in             dsl.Dims
		first, second  dsl.Permutation
		reshape        dsl.Dims
		shapeFromInput bool
	}{
		{dsl.Dims{2, 3, 4}, dsl.Permutation{2, 0, 1}, dsl.Permutation{1, 0}, dsl.Dims{4, -1}, false},
		{dsl.Dims{2, 3, 4, 5}, dsl.Permutation{3, 1, 0, 2}, dsl.Permutation{2, 0, 1}, dsl.Dims{5, 6, 4}, true},
		{dsl.Dims{6, 10}, dsl.Permutation{1, 0}, dsl.Permutation{3, 1, 2, 0}, dsl.Dims{2, 5, 3, 2}, false},
		{dsl.Dims{3, 1, 4}, dsl.Permutation{1, 2, 0}, dsl.Permutation{0, 2, 1}, dsl.Dims{0, 2, 6}, false},
	}
	srcs := map[string]string{}
	for ci, c := range cases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			net := dsl.NewNetwork()
			x := net.AddInput("x", dsl.Int32, c.in)
			sh := net.AddShuffle(x)
			sh.SetFirstTranspose(c.first)
			if c.shapeFromInput {
				sh.SetInput(1, net.AddConstant(dsl.Dims{int64(len(c.reshape))}, dsl.Int64Weights(c.reshape...)).Output(0))
			} else {
				sh.SetReshapeDimensions(c.reshape)
			}
			sh.SetSecondTranspose(c.second)
			sh.Output(0).SetName("y")
			net.MarkOutput(sh.Output(0))
			if familyOf(sh) == nil {
				t.Fatal("the shuffle family does not take a shuffle with two transposes")
			}
			lowerOnGPU(t, net, dsl.LayerShuffle, srcs)
			out, err := runCPU(t, net, map[string]*tensor.Tensor{"x": iotaInput(c.in...)})
			if err != nil {
				t.Fatal(err)
			}
			want := out["y"].Int64Values()
			dims := map[*dsl.Tensor][]int64{x: c.in, sh.Output(0): out["y"].Shape()}
			if s := sh.Input(1); s != nil {
				dims[s] = []int64{int64(len(c.reshape))}
			}
			m, g, err := shufflePlan(sh, shapeValues{dims: dims})
			if err != nil {
				t.Fatal(err)
			}
			if g.n != int64(len(want)) {
				t.Fatalf("launch of %d items for %d elements", g.n, len(want))
			}
			r2, r1 := int(m[0]), int(m[1])
			od, rs := m[2:2+r2], m[2+r2:2+2*r2]
			td, is := m[2+2*r2:2+2*r2+r1], m[2+2*r2+r1:2+2*r2+2*r1]
			for i, w := range want {
				if got := offsetGo(offsetGo(int64(i), od, rs), td, is); got != w {
					t.Fatalf("output element %d reads input element %d, the CPU engine %d (meta %v)", i, got, w, m)
				}
			}
		})
	}
	compileAll(t, srcs)
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	one := net.AddShuffle(x)
	one.SetFirstTranspose(dsl.Permutation{1, 0})
	one.SetReshapeDimensions(dsl.Dims{6})
	idFirst := net.AddShuffle(x)
	idFirst.SetFirstTranspose(dsl.Permutation{0, 1})
	idFirst.SetSecondTranspose(dsl.Permutation{1, 0})
	for _, l := range []dsl.Layer{one, idFirst, net.AddShuffle(x)} {
		if familyOf(l) != nil {
			t.Errorf("the family takes %s, which has at most one transpose", dsl.LayerString(l))
		}
	}
}

// TestShuffleKernelTypes: a kernel for every element size, with and
// without a shape input of either index type.
func TestShuffleKernelTypes(t *testing.T) {
	srcs := map[string]string{}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64, dsl.Int8, dsl.UInt8, dsl.Bool, dsl.FP8E4M3} {
		for _, st := range []dsl.DataType{0, dsl.Int32, dsl.Int64} {
			net := dsl.NewNetwork()
			x := net.AddInput("x", dt, dsl.Dims{2, 3, 4})
			sh := net.AddShuffle(x)
			sh.SetFirstTranspose(dsl.Permutation{2, 0, 1})
			if st == 0 {
				sh.SetReshapeDimensions(dsl.Dims{4, 6})
			} else {
				w := dsl.Int64Weights(4, 6)
				if st == dsl.Int32 {
					w = dsl.Int32Weights(4, 6)
				}
				sh.SetInput(1, net.AddConstant(dsl.Dims{2}, w).Output(0))
			}
			sh.SetSecondTranspose(dsl.Permutation{1, 0})
			net.MarkOutput(sh.Output(0))
			lowerOnGPU(t, net, dsl.LayerShuffle, srcs)
		}
	}
	compileAll(t, srcs)
}
