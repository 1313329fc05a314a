package cuda

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
)

func gatherNDCases(rng *rand.Rand, bad bool) []indexCase {
	var faults [4][]int64
	if bad {
		faults = [4][]int64{{9, 5, 11}, {7, 2}, {3, 5}, {10, 3}}
	}
	nd := func(b int) func(n *dsl.Network, d, i, _ *dsl.Tensor) dsl.Layer {
		return func(n *dsl.Network, d, i, _ *dsl.Tensor) dsl.Layer {
			g := n.AddGatherV2(d, i, dsl.GatherND)
			g.SetNbElementWiseDims(b)
			return g
		}
	}
	batch := func(axis int) func(n *dsl.Network, d, i, _ *dsl.Tensor) dsl.Layer {
		return func(n *dsl.Network, d, i, _ *dsl.Tensor) dsl.Layer {
			g := n.AddGather(d, i, axis)
			g.SetNbElementWiseDims(1)
			return g
		}
	}
	cs := []indexCase{
		indexCaseNet("nd-b1-k2", []int64{2, 3, 4, 5}, []int64{2, 6, 2}, nil, randomIndices(rng, 24, []int64{3, 4}, faults[0]...), dsl.Int64, dsl.Int32, nd(1)),
		indexCaseNet("batch-axis2", []int64{3, 4, 5}, []int64{3, 6}, nil, randomIndices(rng, 18, []int64{5}, faults[1]...), dsl.Int32, dsl.Int32, batch(2)),
		indexCaseNet("batch-axis2-indices-broadcast", []int64{3, 4, 5}, []int64{1, 6}, nil, randomIndices(rng, 6, []int64{5}, faults[2]...), dsl.Int64, dsl.Int32, batch(-1)),
		indexCaseNet("nd-b0-k2", []int64{4, 3, 5}, []int64{6, 2}, nil, randomIndices(rng, 12, []int64{4, 3}, faults[3]...), dsl.Int32, dsl.Int32, nd(0)),
		indexCaseNet("nd-b2-k1", []int64{2, 3, 4, 5}, []int64{2, 3, 7, 1}, nil, randomIndices(rng, 42, []int64{4}), dsl.Int64, dsl.Int32, nd(2)),
		indexCaseNet("nd-b0-k3", []int64{2, 3, 4}, []int64{5, 3}, nil, randomIndices(rng, 15, []int64{2, 3, 4}), dsl.Int64, dsl.Int32, nd(0)),
		indexCaseNet("nd-b1-k0", []int64{2, 3}, []int64{2, 4, 0}, nil, nil, dsl.Int64, dsl.Int32, nd(1)),
		indexCaseNet("batch-axis1-data-broadcast", []int64{1, 4, 5}, []int64{3, 2, 2}, nil, randomIndices(rng, 12, []int64{4}), dsl.Int64, dsl.Int32, batch(1)),
	}
	if bad {
		return badCases(cs[:4])
	}
	return cs
}

// emulateGatherND runs the kernel's arithmetic on meta m in Go, as the
// CUDA source has it.
func emulateGatherND(mode dsl.GatherMode, m []int64, n int64, data, idx []int64) (out, fpos, fval []int64) {
	out = make([]int64, n)
	if mode == dsl.GatherND {
		k := int(m[0])
		chunk, T, bs := m[1], m[2], m[3]
		bd, st := m[5:5+k], m[5+k:5+2*k]
		fpos, fval = emulateBadIndex(idx, m[4], int64(max(k, 1)), append(append([]int64{}, bd...), 0))
		for o := int64(0); o < n; o++ {
			g := o / chunk
			t, ok := tupleOffset(idx, g, bd, st)
			off := (g/T)*bs + o%chunk + t
			if ok {
				out[o] = data[off]
			}
		}
		return out, fpos, fval
	}
	A, inner, K, outer, db, ib := m[0], m[1], m[2], m[3], m[4], m[5]
	fpos, fval = emulateBadIndex(idx, m[6], 1, m[7:8])
	for o := int64(0); o < n; o++ {
		ii, r := o%inner, o/inner
		kk := r % K
		r /= K
		oo, bt := r%outer, r/outer
		v := idx[bt*ib+kk]
		if v < -A || v >= A {
			continue
		}
		if v < 0 {
			v += A
		}
		out[o] = data[bt*db+(oo*A+v)*inner+ii]
	}
	return out, fpos, fval
}

// TestGatherNDKernelArithmeticMatchesCPU plans each case, runs the
// kernel's arithmetic in Go on the planned metadata and compares it with
// the CPU engine's output, and its error where indices are out of range.
func TestGatherNDKernelArithmeticMatchesCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, bad := range []bool{false, true} {
		for _, c := range gatherNDCases(rng, bad) {
			t.Run(c.name, func(t *testing.T) {
				m, g := c.plan(t)
				if want := volume(c.layer.Output(0).Dims()); g.n != want {
					t.Fatalf("%d work items for %d outputs", g.n, want)
				}
				out, fpos, fval := emulateGatherND(c.layer.(*dsl.GatherLayer).Mode(), m, g.n, c.inputs["data"].Int64Values(), c.inputs["indices"].Int64Values())
				checkEmulated(t, c, out, fpos, fval)
			})
		}
	}
}

// TestGatherNDPlan checks the metadata of a small GatherND and a batched
// default gather, and the plan's errors for batch dims that differ or
// cannot broadcast at run time.
func TestGatherNDPlan(t *testing.T) {
	cs := gatherNDCases(rand.New(rand.NewPCG(1, 1)), false)
	// data [2 3 4 5], b 1, indices [2 6 2]: chunk 5, 6 tuples a batch of 60.
	m, g, err := gatherNDPlan(cs[0].layer, cs[0].values())
	want := []int64{2, 5, 6, 60, 24, 3, 4, 20, 5}
	if err != nil || fmt.Sprint(m) != fmt.Sprint(want) || g.n != 60 {
		t.Errorf("GatherND plan: %v %+v %v, want meta %v and 60 items", m, g, err, want)
	}
	// data [3 4 5] axis 2, indices [1 6]: the indices broadcast.
	m, g, err = gatherNDPlan(cs[2].layer, cs[2].values())
	want = []int64{5, 1, 6, 4, 20, 0, 6, 5}
	if err != nil || fmt.Sprint(m) != fmt.Sprint(want) || g.n != 72 {
		t.Errorf("batched gather plan: %v %+v %v, want meta %v and 72 items", m, g, err, want)
	}
	v := cs[0].values()
	v.dims[cs[0].layer.Input(1)] = []int64{3, 6, 2}
	if _, _, err := gatherNDPlan(cs[0].layer, v); !errors.Is(err, diag.ShapeMismatch) {
		t.Errorf("GatherND with batch dims 2 and 3: %v", err)
	}
	v = cs[1].values()
	v.dims[cs[1].layer.Input(1)] = []int64{2, 6}
	if _, _, err := gatherNDPlan(cs[1].layer, v); !errors.Is(err, diag.ShapeMismatch) {
		t.Errorf("batched gather with batch dims 3 and 2: %v", err)
	}
}

// TestGatherNDLowersToKernels: GatherND and the batched default gather
// run as the gather family's kernels for every data and index type but
// Int4, the default gather without batch dims stays the fixed gather, and
// GatherElements keeps its kernel; the kernels compile where NVRTC is.
func TestGatherNDLowersToKernels(t *testing.T) {
	srcs := map[string]string{}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64, dsl.Int8, dsl.UInt8, dsl.Bool, dsl.FP8E4M3, dsl.Int4} {
		for _, it := range []dsl.DataType{dsl.Int32, dsl.Int64} {
			n := dsl.NewNetwork()
			d := n.AddInput("d", dt, dsl.Dims{3, 4, 6})
			nd := n.AddGatherV2(d, n.AddInput("i", it, dsl.Dims{3, 2, 1}), dsl.GatherND)
			nd.SetNbElementWiseDims(1)
			bg := n.AddGather(d, n.AddInput("j", it, dsl.Dims{3, 5}), 2)
			bg.SetNbElementWiseDims(1)
			plain := n.AddGather(d, n.AddInput("p", it, dsl.Dims{5}), 1)
			el := n.AddGatherV2(d, n.AddInput("e", it, dsl.Dims{3, 4, 2}), dsl.GatherElement)
			for _, l := range []dsl.Layer{nd, bg, plain, el} {
				n.MarkOutput(l.Output(0))
			}
			if err := n.Err(); err != nil {
				t.Fatal(err)
			}
			if kind, _ := chooseKind(plain, nil); kind != kindGather {
				t.Errorf("a default gather of %v runs as %s, want the fixed gather", dt, kind)
			}
			elSrc, _ := kernelSource("k", el)
			if want, _ := gatherElementsKernel("k", el); elSrc != want {
				t.Errorf("GatherElements of %v has another kernel", dt)
			}
			for _, l := range []dsl.Layer{nd, bg} {
				kind, why := chooseKind(l, nil)
				_, ok := kernelSource("k", l)
				if dt == dsl.Int4 {
					if kind != kindHost || ok {
						t.Errorf("Int4 %s: %s (%s), source %v; want the host", dsl.LayerString(l), kind, why, ok)
					}
					continue
				}
				if kind != kindKernel || !ok {
					t.Errorf("%s of %v by %v: %s (%s), source %v", dsl.LayerString(l), dt, it, kind, why, ok)
				}
				addKernel(srcs, func(name string) (string, bool) { return kernelSource(name, l) })
			}
		}
	}
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	if _, err := compileKernels(srcs, "sm_80"); err != nil {
		t.Fatal(err)
	}
}

// TestGatherNDAgainstCPUOnGPU runs the gather cases on the GPU: the CPU
// engine's bits, and its error where indices are out of range.
func TestGatherNDAgainstCPUOnGPU(t *testing.T) {
	runIndexCasesOnGPU(t, func(dt dsl.DataType) []indexCase {
		rng := rand.New(rand.NewPCG(5, 6))
		return indexCasesOf(dt, append(gatherNDCases(rng, false), gatherNDCases(rng, true)...))
	})
}
