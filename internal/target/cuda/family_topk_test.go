package cuda

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/ir"
)

// requireOnGPU lowers the dsltest network name and fails where a layer of
// kind k runs on the host, or where the network has none.
func requireOnGPU(t *testing.T, name string, k dsl.LayerType) {
	t.Helper()
	net := dsltest.Networks()[name](rand.New(rand.NewPCG(1, 2)))
	p, srcs, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i, l := range net.TopoLayers() {
		if l.Type() != k {
			continue
		}
		found++
		if s := p.Steps[i]; s.Kind != kindKernel || srcs[s.Kernel] == "" {
			t.Errorf("%s in network %q: step %q (%s), want a kernel", dsl.LayerString(l), name, s.Kind, s.Why)
		}
	}
	if found == 0 {
		t.Fatalf("network %q has no %v layer", name, k)
	}
}

// planOf marks l's outputs, resolves net's shapes and values for the
// given input shapes (static inputs keep their own) and plans l's family launch.
func planOf(t *testing.T, net *dsl.Network, shapes map[string][]int64, l dsl.Layer) ([]int64, launch, error) {
	t.Helper()
	for i := 0; i < l.NbOutputs(); i++ {
		net.MarkOutput(l.Output(i))
	}
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	all := map[string][]int64{}
	for _, in := range net.Inputs() {
		all[in.Name()] = in.Dims()
	}
	for n, d := range shapes {
		all[n] = d
	}
	dims, vals, err := resolveShapes(net, all)
	if err != nil {
		t.Fatal(err)
	}
	f := familyOf(l)
	if f == nil {
		t.Fatalf("no family for %s", dsl.LayerString(l))
	}
	return f.plan(l, shapeValues{dims: dims, values: vals})
}

func wantCode(t *testing.T, err error, code diag.Code, text string) {
	t.Helper()
	if err == nil || !errors.Is(err, code) || !strings.Contains(err.Error(), text) {
		t.Errorf("error %v, want %v containing %q", err, code, text)
	}
}

func TestTopKFamilyLowers(t *testing.T) { requireOnGPU(t, "reduce", dsl.LayerTopK) }

func TestTopKFamilyPlan(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 5, 3})
	static := net.AddTopK(x, dsl.TopKMax, 4, 1<<1)
	input := net.AddTopK(x, dsl.TopKMin, 1, 1<<2)
	input.SetInput(1, net.AddConstant(dsl.Dims{}, dsl.Int32Weights(2)).Output(0))
	m, g, err := planOf(t, net, nil, static)
	if err != nil || !slices.Equal(m, []int64{5, 3, 4}) || g.n != 6 || g.grid.X != 6 {
		t.Errorf("static k: meta %v, launch %+v, %v; want [5 3 4], 6 rows", m, g, err)
	}
	m, g, err = planOf(t, net, nil, input)
	if err != nil || !slices.Equal(m, []int64{3, 1, 2}) || g.n != 10 {
		t.Errorf("k input: meta %v, launch %+v, %v; want [3 1 2], 10 rows", m, g, err)
	}

	for _, k := range []int32{0, 4} {
		bad := dsl.NewNetwork()
		y := bad.AddInput("y", dsl.Float32, dsl.Dims{2, 3})
		tk := bad.AddTopK(y, dsl.TopKMax, 1, 1<<1)
		tk.SetInput(1, bad.AddInput("k", dsl.Int32, dsl.Dims{}))
		f := familyOf(tk)
		d := map[*dsl.Tensor][]int64{y: {2, 3}, tk.Input(1): {}}
		_, _, err := f.plan(tk, shapeValues{dims: d, values: map[*dsl.Tensor][]int64{tk.Input(1): {int64(k)}}})
		wantCode(t, err, diag.OutOfRange, "it must be in [1, 3840] and at most the 3 elements of axis 1")
		if _, _, err := f.plan(tk, shapeValues{dims: d}); err == nil {
			t.Error("a plan without the value of k")
		}
	}
}

func TestTopKFamilySource(t *testing.T) {
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64} {
		for _, op := range dsl.AllTopKOperations() {
			for _, it := range []dsl.DataType{dsl.Int32, dsl.Int64} {
				net := dsl.NewNetwork()
				tk := net.AddTopK(net.AddInput("x", dt, dsl.Dims{4, 9}), op, 2, 1<<1)
				tk.SetIndicesType(it)
				if ok, why := familyOf(tk).lower(tk); !ok {
					t.Fatalf("%v %v: %s", dt, op, why)
				}
				src, ok := kernelSource("k", tk)
				if !ok {
					t.Fatalf("%v %v %v: no kernel", dt, op, it)
				}
				slots := "4096"
				if dt == dsl.Int64 {
					slots = "2048"
				}
				ct, _ := typeOf(dt)
				ix, _ := indexCType(it)
				max := "return true ?"
				if op == dsl.TopKMin {
					max = "return false ?"
				}
				for _, want := range []string{"const int S = " + slots, "const " + ct.store + "* __restrict__ x", ix + "* __restrict__ idx", max, "k_sort("} {
					if !strings.Contains(src, want) {
						t.Errorf("%v %v %v: kernel lacks %q:\n%s", dt, op, it, want, src)
					}
				}
				if strings.Contains(src, "$") {
					t.Errorf("%v: a placeholder is left:\n%s", dt, src)
				}
			}
		}
	}
}
