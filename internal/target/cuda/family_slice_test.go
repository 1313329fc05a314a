package cuda

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/ir"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// emulateSlice runs the slice kernel's loop in Go on the metadata plan
// wrote, line for line as the C: what the GPU computes if the kernel's
// text and the metadata agree.
func emulateSlice(mode dsl.SampleMode, m []int64, in []int64, fill int64) []int64 {
	r := int(m[0])
	od := m[2 : 2+r]
	id := m[2+r : 2+2*r]
	st := m[2+2*r : 2+3*r]
	sd := m[2+3*r : 2+4*r]
	is := m[2+4*r : 2+5*r]
	fv := int64(0)
	if m[1] != 0 {
		fv = fill
	}
	mapc := func(c, n int64) int64 {
		switch mode {
		case dsl.SampleFill:
			if c < 0 || c >= n {
				return -1
			}
			return c
		case dsl.SampleWrap:
			return ((c % n) + n) % n
		case dsl.SampleClamp:
			return min(max(c, 0), n-1)
		case dsl.SampleReflect:
			if n == 1 {
				return 0
			}
			p := 2 * (n - 1)
			r := ((c % p) + p) % p
			if r >= n {
				return p - r
			}
			return r
		}
		panic("mode")
	}
	out := make([]int64, volume(od))
	for i := range out {
		rem, off := int64(i), int64(0)
		for d := r - 1; d >= 0; d-- {
			j := rem % od[d]
			rem /= od[d]
			c := int64(uint64(st[d]) + uint64(j)*uint64(sd[d]))
			k := mapc(c, id[d])
			if k < 0 {
				off = -1
				break
			}
			off += k * is[d]
		}
		if off < 0 {
			out[i] = fv
		} else {
			out[i] = in[off]
		}
	}
	return out
}

// paramInput gives values as an Int32 or Int64 constant.
func paramInput(n *dsl.Network, rng *rand.Rand, v []int64) *dsl.Tensor {
	if rng.IntN(2) == 0 {
		return n.AddConstant(dsl.Dims{int64(len(v))}, dsl.Int64Weights(v...)).Output(0)
	}
	w := make([]int32, len(v))
	for i, x := range v {
		w[i] = int32(x)
	}
	return n.AddConstant(dsl.Dims{int64(len(v))}, dsl.Int32Weights(w...)).Output(0)
}

// TestSlicePlanMatchesCPU plans random slices in every mode the family
// takes (parameters as attributes or tensors, with and without axes, a
// fill value or none) and checks that the kernel's loop over that
// metadata gives the CPU engine's output, and that the plan fails exactly
// where the CPU engine does.
func TestSlicePlanMatchesCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	modes := []dsl.SampleMode{dsl.SampleFill, dsl.SampleWrap, dsl.SampleClamp, dsl.SampleReflect}
	checked := map[dsl.SampleMode]int{}
	withParams, refused := 0, 0 // compared with tensor parameters; refused by both
	for trial := 0; trial < 600; trial++ {
		rank := 1 + rng.IntN(4)
		dims := make([]int64, rank)
		for a := range dims {
			dims[a] = int64(1 + rng.IntN(4))
			if rng.IntN(12) == 0 {
				dims[a] = 0
			}
		}
		mode := modes[rng.IntN(len(modes))]
		var axes []int64
		list := make([]int, rank)
		for a := range list {
			list[a] = a
		}
		if rng.IntN(2) == 0 {
			rng.Shuffle(rank, func(i, j int) { list[i], list[j] = list[j], list[i] })
			list = list[:rng.IntN(rank+1)]
			for _, a := range list {
				if rng.IntN(2) == 0 {
					axes = append(axes, int64(a-rank))
				} else {
					axes = append(axes, int64(a))
				}
			}
		}
		var start, size, stride []int64
		for range list {
			start = append(start, int64(rng.IntN(13)-6))
			size = append(size, int64(rng.IntN(6)))
			stride = append(stride, int64(rng.IntN(7)-3))
		}
		n := dsl.NewNetwork()
		declared := dsl.Dims(dims).Clone()
		for a := range declared {
			if rng.IntN(3) == 0 {
				declared[a] = dsl.Dynamic // checked only when planned
			}
		}
		x := n.AddInput("x", dsl.Int32, declared)
		s := n.AddSlice(x, dsl.Dims(start), dsl.Dims(size), dsl.Dims(stride))
		if axes != nil || len(list) != rank {
			s.SetAxes(dsl.Dims(axes))
			if axes == nil {
				s.SetAxes(dsl.Dims{})
			}
		}
		s.SetMode(mode)
		for _, p := range []struct {
			i int
			v []int64
		}{{1, start}, {2, size}, {3, stride}, {5, axes}} {
			if p.i == 5 && s.Axes() == nil {
				continue
			}
			if rng.IntN(3) == 0 {
				s.SetInput(p.i, paramInput(n, rng, p.v))
			}
		}
		fill := int64(rng.IntN(1000) - 500)
		if mode == dsl.SampleFill && rng.IntN(3) > 0 {
			s.SetInput(4, n.AddConstant(dsl.Dims{}, dsl.Int32Weights(int32(fill))).Output(0))
		} else {
			fill = 0
		}
		s.Output(0).SetName("y")
		n.MarkOutput(s.Output(0))
		if n.Err() != nil {
			continue // refused while building: no plan to check
		}
		desc := fmt.Sprintf("slice %v of %v: start %v size %v stride %v axes %v (inputs %d)", mode, dims, start, size, stride, axes, s.NbInputs())
		if familyOf(s) == nil {
			t.Fatalf("%s: no family takes it", desc)
		}
		if ok, why := sliceLower(s); !ok {
			t.Fatalf("%s: not lowered: %s", desc, why)
		}
		if _, ok := sliceKernel("trtc_kernel_placeholder", s); !ok {
			t.Fatalf("%s: no kernel", desc)
		}
		eng, err := cpueng.New(n)
		if err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		vals := make([]int64, volume(dims))
		for i := range vals {
			vals[i] = int64(rng.IntN(1 << 20))
		}
		xt, _ := tensor.FromInt64s(dsl.Int32, dims, vals)
		res, cpuErr := eng.Run(context.Background(), map[string]*tensor.Tensor{"x": xt})
		shapes := map[string][]int64{"x": dims}
		d, v, err := resolveShapes(n, shapes)
		if err != nil {
			if cpuErr == nil {
				t.Errorf("%s: shapes do not resolve (%v), the CPU engine runs it", desc, err)
			}
			refused++
			continue
		}
		if sz := s.Input(2); sz != nil && rng.IntN(2) == 0 {
			delete(v, sz) // planned from the output dims instead
		}
		m, g, err := slicePlan(s, shapeValues{dims: d, values: v})
		if (err != nil) != (cpuErr != nil) {
			t.Errorf("%s: plan error %v, CPU engine error %v", desc, err, cpuErr)
			continue
		}
		if err != nil {
			refused++
			continue
		}
		want := res["y"]
		if g.n != want.Len() || fmt.Sprint(d[s.Output(0)]) != fmt.Sprint(want.Shape()) {
			t.Errorf("%s: launch of %d items for output %v, the CPU engine's is %v", desc, g.n, d[s.Output(0)], want.Shape())
			continue
		}
		got := emulateSlice(mode, m, vals, fill)
		for i := range got {
			if got[i] != want.Int64At(int64(i)) {
				t.Errorf("%s: element %d is %d, the CPU engine's %d", desc, i, got[i], want.Int64At(int64(i)))
				break
			}
		}
		checked[mode]++
		if s.NbInputs() > 1 {
			withParams++
		}
	}
	if withParams < 100 || refused == 0 {
		t.Errorf("%d slices with tensor parameters compared, %d refused: the test misses cases", withParams, refused)
	}
	for _, mode := range modes {
		if checked[mode] < 40 {
			t.Errorf("only %d slices in mode %v were compared", checked[mode], mode)
		}
	}
}

// TestSlicePlanErrors: a parameter whose value the shape plan lacks, and
// wrap on an empty axis, are errors of the plan, not panics.
func TestSlicePlanErrors(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{-1, 3})
	s := n.AddSlice(x, dsl.Dims{0, -1}, dsl.Dims{2, 5}, dsl.Dims{1, 1})
	s.SetMode(dsl.SampleWrap)
	st := n.AddConstant(dsl.Dims{2}, dsl.Int64Weights(0, -1)).Output(0)
	s.SetInput(1, st)
	n.MarkOutput(s.Output(0))
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
	dims := map[*dsl.Tensor][]int64{x: {4, 3}, st: {2}, s.Output(0): {2, 5}}
	if _, _, err := slicePlan(s, shapeValues{dims: dims, values: map[*dsl.Tensor][]int64{}}); err == nil || !strings.Contains(err.Error(), "not known") {
		t.Errorf("planned without the start's value: %v", err)
	}
	vals := map[*dsl.Tensor][]int64{st: {0, -1}}
	if _, _, err := slicePlan(s, shapeValues{dims: dims, values: vals}); err != nil {
		t.Errorf("with the start's value: %v", err)
	}
	sz := n.AddConstant(dsl.Dims{2}, dsl.Int64Weights(2, 5)).Output(0)
	s.SetInput(2, sz)
	dims[sz] = []int64{2}
	if m, _, err := slicePlan(s, shapeValues{dims: dims, values: vals}); err != nil || fmt.Sprint(m) != "[2 0 2 5 4 3 0 -1 1 1 3 1]" {
		t.Errorf("size from the output dims: meta %v, %v", m, err)
	}
	dims[x] = []int64{0, 3}
	if _, _, err := slicePlan(s, shapeValues{dims: dims, values: vals}); err == nil || !strings.Contains(err.Error(), "length 0") {
		t.Errorf("wrap on an empty axis planned: %v", err)
	}
	dims[x], dims[s.Output(0)] = []int64{4, 3}, []int64{2, 4}
	vals[sz] = []int64{2, 5}
	if _, _, err := slicePlan(s, shapeValues{dims: dims, values: vals}); err == nil {
		t.Error("an output of other dims than the window planned")
	}
}

// TestSliceFamilyTakesOtherModes: strict bounds stays the built-in copy;
// every other mode is the family's, for every type of whole bytes, with
// or without a fill value; packed int4 stays on the host.
func TestSliceFamilyTakesOtherModes(t *testing.T) {
	for _, dt := range tensor.AllTypes {
		for _, mode := range dsl.AllSampleModes() {
			for _, withFill := range []bool{false, true} {
				if withFill && mode != dsl.SampleFill {
					continue
				}
				n := dsl.NewNetwork()
				x := n.AddInput("x", dt, dsl.Dims{2, 3})
				s := n.AddSlice(x, dsl.Dims{0, 0}, dsl.Dims{2, 2}, dsl.Dims{1, 1})
				s.SetMode(mode)
				if withFill {
					s.SetInput(4, n.AddInput("fill", dt, dsl.Dims{}))
				}
				n.MarkOutput(s.Output(0))
				if err := n.Err(); err != nil {
					t.Fatalf("%v %v: %v", dt, mode, err)
				}
				kind, why := chooseKind(s, map[*dsl.Tensor]bool{})
				switch {
				case mode == dsl.SampleStrictBounds:
					if familyOf(s) != nil || kind != kindCopy {
						t.Errorf("%v strict bounds: a family takes it, or it is %s (%s)", dt, kind, why)
					}
					continue
				case dt == dsl.Int4:
					if kind != kindHost {
						t.Errorf("int4 %v: kind %s, want host", mode, kind)
					}
					continue
				case kind != kindKernel:
					t.Errorf("%v %v (fill %v): kind %s (%s), want a kernel", dt, mode, withFill, kind, why)
					continue
				}
				src, ok := sliceKernel("trtc_kernel_placeholder", s)
				bits, _ := elementBits(dt)
				if !ok || !strings.Contains(src, bits+"* __restrict__ out") || withFill != strings.Contains(src, "fillv[0]") {
					t.Errorf("%v %v (fill %v): kernel %v\n%s", dt, mode, withFill, ok, src)
				}
			}
		}
	}
}

// TestSliceAndPaddingLowerToKernels: in the dsltest networks no padding
// and no slice outside strict bounds runs on the host.
func TestSliceAndPaddingLowerToKernels(t *testing.T) {
	seen := map[string]int{}
	for name, b := range dsltest.Networks() {
		net := b(rand.New(rand.NewPCG(1, 2)))
		p, _, err := lowerNetwork(net, ir.Options{})
		if err != nil {
			continue
		}
		for i, l := range net.TopoLayers() {
			what := ""
			switch l := l.(type) {
			case *dsl.PaddingLayer:
				what = "padding"
			case *dsl.SliceLayer:
				if l.Mode() != dsl.SampleStrictBounds {
					what = "slice " + l.Mode().String()
				}
			}
			if what == "" {
				continue
			}
			if s := p.Steps[i]; s.Kind != kindKernel || s.Kernel == "" {
				t.Errorf("%s: %s is a %s step (%s)", name, what, s.Kind, s.Why)
			}
			seen[what]++
		}
	}
	if seen["padding"] == 0 || seen["slice Wrap"] == 0 {
		t.Errorf("the dsltest networks lowered %v: the test checks nothing", seen)
	}
}

// TestSliceAndPaddingKernelsCompile compiles the kernels of every mode and
// type with NVRTC (no GPU needed).
func TestSliceAndPaddingKernelsCompile(t *testing.T) {
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	srcs := map[string]string{}
	for _, dt := range tensor.AllTypes {
		if dt == dsl.Int4 {
			continue
		}
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{1, 2, 3, 4})
		var ls []dsl.Layer
		for _, mode := range []dsl.SampleMode{dsl.SampleFill, dsl.SampleWrap, dsl.SampleClamp, dsl.SampleReflect} {
			s := n.AddSlice(x, dsl.Dims{0, -1}, dsl.Dims{3, 5}, dsl.Dims{2, -1})
			s.SetAxes(dsl.Dims{3, 2})
			s.SetMode(mode)
			ls = append(ls, s)
			if mode == dsl.SampleFill {
				f := n.AddSlice(x, dsl.Dims{-1, -1, -1, -1}, dsl.Dims{3, 4, 5, 6}, dsl.Dims{1, 1, 1, 1})
				f.SetMode(mode)
				f.SetInput(4, n.AddInput("fill", dt, dsl.Dims{}))
				f.SetInput(2, n.AddConstant(dsl.Dims{4}, dsl.Int64Weights(3, 4, 5, 6)).Output(0))
				ls = append(ls, f)
			}
		}
		ls = append(ls, n.AddPaddingNd(x, dsl.Dims{1, -1}, dsl.Dims{-1, 2}))
		for _, l := range ls {
			n.MarkOutput(l.Output(0))
		}
		if err := n.Err(); err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if _, ok := addKernel(srcs, func(name string) (string, bool) { return kernelSource(name, l) }); !ok {
				t.Errorf("%s of %v: no kernel", dsl.LayerString(l), dt)
			}
		}
	}
	if _, err := compileKernels(srcs, "sm_80"); err != nil {
		t.Fatal(err)
	}
}
