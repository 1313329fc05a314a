package cuda

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/timingcache"
	"github.com/trtc/trtc/tensor"
)

// An indexCase is a one-layer network of a scatter or gather with its
// inputs: data of distinct values, indices with duplicates (and, for the
// fault cases, several out of range), updates of other distinct values.
type indexCase struct {
	name   string
	net    *dsl.Network
	layer  dsl.Layer
	inputs map[string]*tensor.Tensor
	bad    bool // the CPU engine fails on an index out of range
}

// indexCaseNet builds the case: data is Int32 (bits move the same for
// every type; the GPU test adds other types), indices ix of dims idims.
func indexCaseNet(name string, ddims, idims, udims []int64, ix []int64, idxType dsl.DataType, dt dsl.DataType,
	add func(n *dsl.Network, d, i, u *dsl.Tensor) dsl.Layer) indexCase {
	n := dsl.NewNetwork()
	d := n.AddInput("data", dt, dsl.Dims(ddims))
	i := n.AddInput("indices", idxType, dsl.Dims(idims))
	var u *dsl.Tensor
	if udims != nil {
		u = n.AddInput("updates", dt, dsl.Dims(udims))
	}
	l := add(n, d, i, u)
	l.Output(0).SetName("out")
	n.MarkOutput(l.Output(0))
	c := indexCase{name: name, net: n, layer: l, inputs: map[string]*tensor.Tensor{}}
	c.inputs["data"] = indexCaseValues(dt, ddims, 1000)
	if udims != nil {
		c.inputs["updates"] = indexCaseValues(dt, udims, -1)
	}
	it := tensor.New(idxType, idims...)
	for k, v := range ix {
		it.SetInt64(int64(k), v)
	}
	c.inputs["indices"] = it
	return c
}

// indexCaseValues are distinct values from base (counting down when base
// is negative), exact in every type the tests use.
func indexCaseValues(dt dsl.DataType, dims []int64, base int64) *tensor.Tensor {
	t := tensor.New(dt, dims...)
	for k := range volume(dims) {
		v := base + k
		if base < 0 {
			v = base - k
		}
		if dt == dsl.Float16 || dt == dsl.BFloat16 || dt == dsl.Int8 || dt == dsl.UInt8 {
			v = v % 100 // exact in these types; duplicates are then told apart by position only
			if v < 0 && dt == dsl.UInt8 {
				v = -v
			}
		}
		t.SetFloat64(k, float64(v))
	}
	return t
}

// randomIndices are count indices in [-n, n) (n per position: bounds[p %
// len(bounds)]), with bad extra ones out of range at the given positions.
func randomIndices(rng *rand.Rand, count int64, bounds []int64, bad ...int64) []int64 {
	v := make([]int64, count)
	for p := range v {
		b := bounds[p%len(bounds)]
		v[p] = rng.Int64N(2*b) - b
	}
	for k, p := range bad {
		b := bounds[int(p)%len(bounds)]
		if k%2 == 0 {
			v[p] = b + int64(k)
		} else {
			v[p] = -b - 1 - int64(k)
		}
	}
	return v
}

func scatterCases(rng *rand.Rand, bad bool) []indexCase {
	var faults [4][]int64
	if bad {
		faults = [4][]int64{{17, 5, 30}, {9, 4}, {8, 1}, {7, 11, 3}}
	}
	el := func(axis int) func(n *dsl.Network, d, i, u *dsl.Tensor) dsl.Layer {
		return func(n *dsl.Network, d, i, u *dsl.Tensor) dsl.Layer {
			s := n.AddScatter(d, i, u, dsl.ScatterElement)
			s.SetAxis(axis)
			return s
		}
	}
	nd := func(n *dsl.Network, d, i, u *dsl.Tensor) dsl.Layer { return n.AddScatter(d, i, u, dsl.ScatterND) }
	cs := []indexCase{
		// Seven updates along an axis of 4: duplicates everywhere.
		indexCaseNet("element-axis1", []int64{3, 4, 5}, []int64{2, 7, 3}, []int64{2, 7, 3}, randomIndices(rng, 42, []int64{4}, faults[0]...), dsl.Int64, dsl.Int32, el(1)),
		indexCaseNet("element-axis-1", []int64{3, 4, 5}, []int64{3, 2, 9}, []int64{3, 2, 9}, randomIndices(rng, 54, []int64{5}, faults[1]...), dsl.Int32, dsl.Int32, el(-1)),
		indexCaseNet("element-axis0", []int64{3, 3}, []int64{5, 2}, []int64{5, 2}, randomIndices(rng, 10, []int64{3}, faults[2]...), dsl.Int64, dsl.Int32, el(0)),
		indexCaseNet("nd-k2", []int64{4, 3, 5}, []int64{3, 4, 2}, []int64{3, 4, 5}, randomIndices(rng, 24, []int64{4, 3}, faults[3]...), dsl.Int64, dsl.Int32, nd),
		indexCaseNet("nd-k1", []int64{4, 3, 5}, []int64{7, 1}, []int64{7, 3, 5}, randomIndices(rng, 7, []int64{4}), dsl.Int32, dsl.Int32, nd),
		indexCaseNet("nd-k3", []int64{2, 3, 4}, []int64{40, 3}, []int64{40}, randomIndices(rng, 120, []int64{2, 3, 4}), dsl.Int64, dsl.Int32, nd),
		indexCaseNet("nd-k0", []int64{2, 3}, []int64{3, 0}, []int64{3, 2, 3}, nil, dsl.Int64, dsl.Int32, nd),
		// Slices of 2500 elements: three parts of a warp each.
		indexCaseNet("nd-long-slices", []int64{3, 2500}, []int64{5, 1}, []int64{5, 2500}, randomIndices(rng, 5, []int64{3}), dsl.Int64, dsl.Int32, nd),
		// More tuples than a warp has lanes.
		indexCaseNet("nd-many-tuples", []int64{6, 2}, []int64{100, 1}, []int64{100, 2}, randomIndices(rng, 100, []int64{6}), dsl.Int64, dsl.Int32, nd),
	}
	if bad {
		return badCases(cs[:4])
	}
	return cs
}

// badCases marks cases whose indices a caller makes out of range.
func badCases(cs []indexCase) []indexCase {
	for k := range cs {
		cs[k].name += "-bad"
		cs[k].bad = true
	}
	return cs
}

// runCPU runs c on the CPU engine.
func (c indexCase) runCPU(t *testing.T) (*tensor.Tensor, error) {
	t.Helper()
	if err := c.net.Err(); err != nil {
		t.Fatal(err)
	}
	e, err := cpueng.New(c.net)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Run(context.Background(), c.inputs)
	if err != nil {
		return nil, err
	}
	return out["out"], nil
}

// dims are the tensors' dims for a family's plan.
func (c indexCase) values() shapeValues {
	d := map[*dsl.Tensor][]int64{}
	for j := 0; j < c.layer.NbInputs(); j++ {
		d[c.layer.Input(j)] = c.inputs[[]string{"data", "indices", "updates"}[j]].Shape()
	}
	d[c.layer.Output(0)] = c.layer.Output(0).Dims()
	return shapeValues{dims: d}
}

// emulateBadIndex is firstBadIndexLoop run by every thread: the
// positions it records (one at most, the first bad one).
func emulateBadIndex(idx []int64, count, period int64, bounds []int64) (pos, val []int64) {
	bound := func(p int64) int64 { return bounds[p%period] }
	for p := int64(0); p < count; p++ {
		v, b := idx[p], bound(p)
		if v >= -b && v < b {
			continue
		}
		q := p - 1
		for ; q >= 0; q-- {
			w, c := idx[q], bound(q)
			if w < -c || w >= c {
				break
			}
		}
		if q < 0 {
			pos, val = append(pos, p), append(val, v)
		}
	}
	return pos, val
}

// emulateScatter runs the scatter kernel's arithmetic on meta m in Go,
// thread by thread (and lane by lane), as the CUDA source has it.
func emulateScatter(mode dsl.ScatterMode, m []int64, n int64, data, idx, upd []int64) (out, fpos, fval []int64) {
	if mode == dsl.ScatterElement {
		r, axis, A := int(m[0]), int(m[1]), m[2]
		ds, is, ss := m[5:5+r], m[5+r:5+2*r], m[5+2*r:5+3*r]
		fpos, fval = emulateBadIndex(idx, m[3], 1, m[4:5])
		out = make([]int64, n)
		for o := int64(0); o < n; o++ {
			rem, p0, ca := o, int64(0), int64(0)
			inside := true
			for d := r - 1; d >= 0; d-- {
				c := rem % ds[d]
				rem /= ds[d]
				switch {
				case d == axis:
					ca = c
				case c >= is[d]:
					inside = false
				default:
					p0 += c * ss[d]
				}
			}
			src := int64(-1)
			if inside {
				for j := is[axis] - 1; j >= 0; j-- {
					p := p0 + j*ss[axis]
					v := idx[p]
					if v < -A || v >= A {
						continue
					}
					if v < 0 {
						v += A
					}
					if v == ca {
						src = p
						break
					}
				}
			}
			if src >= 0 {
				out[o] = upd[src]
			} else {
				out[o] = data[o]
			}
		}
		return out, fpos, fval
	}
	k := int(m[0])
	T, P, W, chunk := m[1], m[5], m[4], m[3]
	bd, st := m[7:7+k], m[7+k:7+2*k]
	fpos, fval = emulateBadIndex(idx, m[6], int64(max(k, 1)), append(append([]int64{}, bd...), 0))
	out = make([]int64, m[2]*chunk)
	for u := int64(0); u < n; u++ {
		s, lo := u/P, (u%P)*W
		best := int64(-1)
		for lane := int64(0); lane < 32; lane++ {
			lb := int64(-1)
			for t := lane; t < T; t += 32 {
				g, ok := tupleOffset(idx, t, bd, st)
				if ok && g == s {
					lb = t
				}
			}
			best = max(best, lb)
		}
		hi := min(lo+W, chunk)
		for e := lo; e < hi; e++ {
			if best >= 0 {
				out[s*chunk+e] = upd[best*chunk+e]
			} else {
				out[s*chunk+e] = data[s*chunk+e]
			}
		}
	}
	return out, fpos, fval
}

// tupleOffset is the offset index tuple t (of len(bd) indices) names,
// each index wrapped once if negative, or false if one is out of its
// bound.
func tupleOffset(idx []int64, t int64, bd, st []int64) (int64, bool) {
	k := int64(len(bd))
	off := int64(0)
	for j := range bd {
		v, b := idx[t*k+int64(j)], bd[j]
		if v < -b || v >= b {
			return 0, false
		}
		if v < 0 {
			v += b
		}
		off += v * st[j]
	}
	return off, true
}

// plan is the case's family metadata and launch.
func (c indexCase) plan(t *testing.T) ([]int64, launch) {
	t.Helper()
	if err := c.net.Err(); err != nil {
		t.Fatal(err)
	}
	f := familyOf(c.layer)
	if f == nil {
		t.Fatal("no family takes the layer")
	}
	m, g, err := f.plan(c.layer, c.values())
	if err != nil {
		t.Fatal(err)
	}
	return m, g
}

// checkEmulated compares an emulated kernel's output and fault with the
// CPU engine's.
func checkEmulated(t *testing.T, c indexCase, out, fpos, fval []int64) {
	t.Helper()
	want, err := c.runCPU(t)
	if c.bad != (err != nil) {
		t.Fatalf("the case has bad indices: %v; the CPU engine's error: %v", c.bad, err)
	}
	if err != nil {
		var de *diag.Error
		if !errors.As(err, &de) || de.Code != diag.OutOfRange {
			t.Fatalf("the CPU engine fails with %v", err)
		}
		if len(fpos) != 1 {
			t.Fatalf("CPU: %v; the kernel records %d faults at %v, want exactly one", err, len(fpos), fpos)
		}
		got := familyOf(c.layer).fault(c.layer, c.values(), fpos[0], fval[0])
		if got == nil || got.Error() != de.Msg {
			t.Fatalf("fault at %d (%d) reads %v, the CPU engine's %q", fpos[0], fval[0], got, de.Msg)
		}
		return
	}
	if len(fpos) != 0 {
		t.Fatalf("the kernel records faults at %v, the CPU engine none", fpos)
	}
	w := want.Int64Values()
	if fmt.Sprint(w) != fmt.Sprint(out) {
		t.Fatalf("emulated kernel:\n%v\nCPU engine:\n%v", out, w)
	}
}

// TestScatterKernelArithmeticMatchesCPU plans each case, runs the
// kernel's arithmetic in Go on the planned metadata and compares it with
// the CPU engine: values with duplicate indices, and the one fault with
// several indices out of range.
func TestScatterKernelArithmeticMatchesCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, bad := range []bool{false, true} {
		for _, c := range scatterCases(rng, bad) {
			t.Run(c.name, func(t *testing.T) {
				m, g := c.plan(t)
				out, fpos, fval := emulateScatter(c.layer.(*dsl.ScatterLayer).Mode(), m, g.n,
					c.inputs["data"].Int64Values(), c.inputs["indices"].Int64Values(), c.inputs["updates"].Int64Values())
				checkEmulated(t, c, out, fpos, fval)
			})
		}
	}
}

// TestScatterPlan checks the metadata and launch of small scatters and
// the plan's errors for updates of the wrong shape.
func TestScatterPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cs := scatterCases(rng, false)
	v := cs[0].values() // element, data [3 4 5], indices [2 7 3], axis 1
	m, g, err := scatterPlan(cs[0].layer, v)
	want := []int64{3, 1, 4, 42, 4, 3, 4, 5, 2, 7, 3, 21, 3, 1}
	if err != nil || fmt.Sprint(m) != fmt.Sprint(want) || g.n != 60 || g.grid.X != 1 {
		t.Errorf("element plan: %v %+v %v, want meta %v and 60 items", m, g, err, want)
	}
	m, g, err = scatterPlan(cs[7].layer, cs[7].values()) // nd, data [3 2500], indices [5 1]
	want = []int64{1, 5, 3, 2500, scatterNDPart, 3, 5, 3, 1}
	if err != nil || fmt.Sprint(m) != fmt.Sprint(want) || g.n != 9 || g.grid.X != 2 {
		t.Errorf("nd plan: %v %+v %v, want meta %v, 9 warps in 2 blocks", m, g, err, want)
	}
	for _, k := range []int{0, 3} {
		v := cs[k].values()
		v.dims[cs[k].layer.Input(2)] = []int64{1, 1, 1}
		if _, _, err := scatterPlan(cs[k].layer, v); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "updates") {
			t.Errorf("%s with updates of the wrong shape: %v", cs[k].name, err)
		}
	}
}

// TestScatterLowersToKernels: the dsltest scatter network and the cases
// leave no scatter on the host, every data and index type has a kernel
// (Int4 stays on the host), and the kernels compile where NVRTC is.
func TestScatterLowersToKernels(t *testing.T) {
	net := dsltest.Networks()["scatter"](rand.New(rand.NewPCG(1, 2)))
	p, _, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range net.TopoLayers() {
		if l.Type() == dsl.LayerScatter && p.Steps[i].Kind != kindKernel {
			t.Errorf("%s: step %+v", dsl.LayerString(l), p.Steps[i])
		}
	}
	srcs := map[string]string{}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64, dsl.Int8, dsl.UInt8, dsl.Bool, dsl.FP8E4M3, dsl.Int4} {
		for _, it := range []dsl.DataType{dsl.Int32, dsl.Int64} {
			for _, mode := range dsl.AllScatterModes() {
				n := dsl.NewNetwork()
				d := n.AddInput("d", dt, dsl.Dims{4, 6})
				i := n.AddInput("i", it, dsl.Dims{2, 1})
				ud := dsl.Dims{2, 1}
				if mode == dsl.ScatterND {
					ud = dsl.Dims{2, 6}
				}
				u := n.AddInput("u", dt, ud)
				s := n.AddScatter(d, i, u, mode)
				n.MarkOutput(s.Output(0))
				if err := n.Err(); err != nil {
					t.Fatal(err)
				}
				kind, why := chooseKind(s, nil)
				_, ok := kernelSource("k", s)
				if dt == dsl.Int4 {
					if kind != kindHost || ok {
						t.Errorf("Int4 scatter: %s (%s), source %v; want the host", kind, why, ok)
					}
					continue
				}
				if kind != kindKernel || !ok {
					t.Errorf("%v scatter of %v by %v: %s (%s), source %v", mode, dt, it, kind, why, ok)
				}
				addKernel(srcs, func(name string) (string, bool) { return kernelSource(name, s) })
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

// runIndexCasesOnGPU builds each case for the CUDA target (skipping
// without a GPU), checks its layer runs as a kernel, and compares output
// bits and errors with the CPU engine's; then again with data of other
// types.
func runIndexCasesOnGPU(t *testing.T, cases func(dt dsl.DataType) []indexCase) {
	dev, err := (cudaTarget{}).Probe()
	if err != nil {
		t.Skipf("no GPU: %v", err)
	}
	for _, dt := range []dsl.DataType{dsl.Int32, dsl.Float16, dsl.Int64, dsl.UInt8} {
		for _, c := range cases(dt) {
			t.Run(fmt.Sprintf("%s/%v", c.name, dt), func(t *testing.T) {
				want, wantErr := c.runCPU(t)
				if c.bad != (wantErr != nil) {
					t.Fatalf("the case has bad indices: %v; the CPU engine's error: %v", c.bad, wantErr)
				}
				b := &target.Build{Device: dev, TimingCache: timingcache.New()}
				if err := (cudaTarget{}).Lower(ir.New(c.net), b); err != nil {
					t.Fatal(err)
				}
				if tac := b.Tactics[c.layer.Name()]; tac != kindKernel {
					t.Fatalf("the layer runs as %q", tac)
				}
				exe, err := (cudaTarget{}).Load(buildSections{b})
				if err != nil {
					t.Fatal(err)
				}
				defer exe.Close()
				ctx, err := exe.NewContext()
				if err != nil {
					t.Fatal(err)
				}
				defer ctx.Close()
				for range 2 { // the second run: the fault slot was cleared
					got, err := ctx.Execute(context.Background(), c.inputs)
					if wantErr != nil {
						var we, ge *diag.Error
						errors.As(wantErr, &we)
						if !errors.As(err, &ge) || ge.Code != we.Code || ge.Msg != we.Msg {
							t.Fatalf("CUDA: %v\nCPU:  %v", err, wantErr)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if g := got["out"]; fmt.Sprint(g.Shape()) != fmt.Sprint(want.Shape()) || string(g.Bytes()) != string(want.Bytes()) {
						t.Fatalf("CUDA:\n%v\nCPU:\n%v", g.Float64s(), want.Float64s())
					}
				}
			})
		}
	}
}

// indexCasesOf rebuilds cases with data (and updates) of type dt.
func indexCasesOf(dt dsl.DataType, cs []indexCase) []indexCase {
	for k, c := range cs {
		if dt == dsl.Int32 {
			continue
		}
		n := dsl.NewNetwork()
		in := make([]*dsl.Tensor, c.layer.NbInputs())
		for j := range in {
			x := c.layer.Input(j)
			ty := x.Type()
			if j != 1 {
				ty = dt
			}
			in[j] = n.AddInput(x.Name(), ty, x.Dims())
		}
		l := n.CopyLayer(c.layer, in)
		l.Output(0).SetName("out")
		n.MarkOutput(l.Output(0))
		inputs := map[string]*tensor.Tensor{"indices": c.inputs["indices"]}
		inputs["data"] = indexCaseValues(dt, c.inputs["data"].Shape(), 1000)
		if u, ok := c.inputs["updates"]; ok {
			inputs["updates"] = indexCaseValues(dt, u.Shape(), -1)
		}
		cs[k] = indexCase{name: c.name, net: n, layer: l, inputs: inputs, bad: c.bad}
	}
	return cs
}

// TestScatterAgainstCPUOnGPU runs the scatter cases on the GPU: the same
// bits as the CPU engine with duplicate indices, the same error when
// indices are out of range.
func TestScatterAgainstCPUOnGPU(t *testing.T) {
	runIndexCasesOnGPU(t, func(dt dsl.DataType) []indexCase {
		rng := rand.New(rand.NewPCG(7, 8))
		cs := append(scatterCases(rng, false), scatterCases(rng, true)...)
		return indexCasesOf(dt, cs)
	})
}
