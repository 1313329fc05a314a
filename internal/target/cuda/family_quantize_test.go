package cuda

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// qidxGo is the kernel's trtc_qidx in Go.
func qidxGo(q []int64, e int64) int64 {
	switch q[0] {
	case 0:
		return 0
	case 1:
		return e / q[2] % q[3]
	}
	r := int(q[1])
	d, bs, ss := q[4:4+r], q[4+r:4+2*r], q[4+2*r:4+3*r]
	var off int64
	for k := r - 1; k >= 0; k-- {
		off += e % d[k] / bs[k] * ss[k]
		e /= d[k]
	}
	return off
}

// TestQuantIndexMeta: every element maps to the scale of its channel or
// block, and shapes that do not fit are plan errors.
func TestQuantIndexMeta(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddQuantize(net.AddInput("x", dsl.Float32, dsl.Dims{1}), net.AddInput("s", dsl.Float32, dsl.Dims{}), dsl.Int8)
	shape := []int64{2, 6, 4}
	coord := func(e int64) []int64 {
		c := make([]int64, len(shape))
		for k := len(shape) - 1; k >= 0; k-- {
			c[k] = e % shape[k]
			e /= shape[k]
		}
		return c
	}
	check := func(name string, sshape []int64, axis int, block dsl.Dims, want func(c []int64) int64) {
		t.Helper()
		q, err := quantIndexMeta(l, shape, sshape, axis, block)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for e := int64(0); e < volume(shape); e++ {
			if got, w := qidxGo(q, e), want(coord(e)); got != w {
				t.Fatalf("%s: element %d %v uses scale %d, want %d (meta %v)", name, e, coord(e), got, w, q)
			}
		}
	}
	check("per-tensor", []int64{}, -1, nil, func([]int64) int64 { return 0 })
	check("per-tensor 1-D", []int64{1}, -1, nil, func([]int64) int64 { return 0 })
	check("per-channel axis 1", []int64{6}, 1, nil, func(c []int64) int64 { return c[1] })
	check("per-channel axis 2", []int64{4}, 2, nil, func(c []int64) int64 { return c[2] })
	check("derived blocks", []int64{2, 3, 1}, -1, nil, func(c []int64) int64 { return c[0]*3 + c[1]/2 })
	check("explicit blocks", []int64{1, 2, 4}, -1, dsl.Dims{-1, 4, 1}, func(c []int64) int64 { return (c[1]/4)*4 + c[2] })
	for _, bad := range []struct {
		sshape []int64
		axis   int
		block  dsl.Dims
		msg    string
	}{
		{[]int64{5}, 1, nil, "the per-channel scale has 5 values but the data has 6 along axis 1"},
		{[]int64{2, 4, 1}, -1, nil, "scale dimension 1 is 4, which does not divide the data dimension 6"},
		{[]int64{1, 1, 4}, -1, dsl.Dims{-1, 4, 1}, "scale dimension 1 is 1; data dimension 6 in blocks of 4 needs 2"},
	} {
		if _, err := quantIndexMeta(l, shape, bad.sshape, bad.axis, bad.block); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("scale %v axis %d block %v: %v, want %q", bad.sshape, bad.axis, bad.block, err, bad.msg)
		}
	}
}

// TestQuantizeKernels: Quantize and Dequantize for every float type,
// quantized type (Int8, FP8E4M3, Int4), scale type and granularity, with
// and without a zero point, and DynamicQuantize for every output and
// scale type, with and without a double-quantization scale, lower to
// kernels that compile.
func TestQuantizeKernels(t *testing.T) {
	srcs := map[string]string{}
	defer compileAll(t, srcs)
	// Not the whole cross product (NVRTC's time): every float type with
	// every quantized type and granularity, the scale's type and the
	// zero point alternating.
	for fi, ft := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16} {
		for qi, qt := range []dsl.DataType{dsl.Int8, dsl.FP8E4M3, dsl.Int4} {
			for gi, sdims := range []dsl.Dims{{}, {4}, {2, 2}} {
				if gi == 2 && qt == dsl.Int8 {
					continue // block quantization is fp8 and int4 only
				}
				st := []dsl.DataType{dsl.Float32, ft}[(fi+gi)%2]
				zp := (qi+gi)%2 == 0
				net := dsl.NewNetwork()
				x := net.AddInput("x", ft, dsl.Dims{2, 4})
				s := net.AddInput("s", st, sdims)
				q := net.AddQuantize(x, s, qt)
				q.SetAxis(1)
				if zp {
					q.SetInput(2, net.AddConstant(sdims, dsl.NewWeights(tensor.New(qt, sdims...))).Output(0))
				}
				d := net.AddDequantize(q.Output(0), s, ft)
				d.SetAxis(1)
				if zp {
					d.SetInput(2, q.Input(2))
				}
				net.MarkOutput(d.Output(0))
				if err := net.Err(); err != nil {
					t.Fatalf("%v %v %v scale %v zp %v: %v", ft, qt, st, sdims, zp, err)
				}
				lowerOnGPU(t, net, dsl.LayerQuantize, srcs)
				lowerOnGPU(t, net, dsl.LayerDequantize, srcs)
			}
		}
		for qi, qt := range []dsl.DataType{dsl.Int8, dsl.FP8E4M3} {
			for si, st := range []dsl.DataType{dsl.Float32, dsl.FP8E4M3} {
				gt := []dsl.DataType{0, dsl.Float32, ft}[(fi+qi+si)%3]
				net := dsl.NewNetwork()
				x := net.AddInput("x", ft, dsl.Dims{2, 32})
				dq := net.AddDynamicQuantizeV2(x, dsl.Dims{1, 16}, qt, st)
				if gt != 0 {
					dq.SetInput(1, net.AddInput("g", gt, dsl.Dims{}))
				}
				net.MarkOutput(dq.Output(0))
				net.MarkOutput(dq.Output(1))
				lowerOnGPU(t, net, dsl.LayerDynamicQuantize, srcs)
			}
		}
	}
}

// TestDynamicQuantizePlan: the metadata describes the blocks, a dim that
// the block does not divide is a plan error.
func TestDynamicQuantizePlan(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 3, 32})
	dq := net.AddDynamicQuantize(x, -1, 16, dsl.Int8, dsl.Float32)
	net.MarkOutput(dq.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	dims := map[*dsl.Tensor][]int64{x: {2, 3, 32}, dq.Output(0): {2, 3, 32}, dq.Output(1): {2, 3, 2}}
	m, g, err := dynQuantPlan(dq, shapeValues{dims: dims})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{3, 16, 1, 1, 16, 2, 3, 2, 96, 32, 1}
	if !slices.Equal(m, want) || g.n != 12 || g.grid.X != 2 {
		t.Errorf("meta %v launch %+v, want %v over 12 blocks in 2 CUDA blocks", m, g, want)
	}
	// The kernel's walk: block b's base and its elements' offsets cover
	// every element once.
	seen := make([]int, 2*3*32)
	r := int(m[0])
	bs, sd, st := m[2:2+r], m[2+r:2+2*r], m[2+2*r:2+3*r]
	for b := int64(0); b < g.n; b++ {
		rem, base := b, int64(0)
		for k := r - 1; k >= 0; k-- {
			base += rem % sd[k] * bs[k] * st[k]
			rem /= sd[k]
		}
		for e := int64(0); e < m[1]; e++ {
			seen[base+offsetGo(e, bs, st)]++
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("element %d is in %d blocks", i, c)
		}
	}
	dims = map[*dsl.Tensor][]int64{x: {2, 3, 24}, dq.Output(0): {2, 3, 24}, dq.Output(1): {2, 3, 1}}
	if _, _, err := dynQuantPlan(dq, shapeValues{dims: dims}); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "dimension 2 is 24, not a multiple of the block size 16") {
		t.Errorf("24 in blocks of 16: %v", err)
	}
}

// faultOf is the error the CUDA engine makes of a fault of layer l at
// pos with value val.
func faultOf(net *dsl.Network, l dsl.Layer, dims map[*dsl.Tensor][]int64, pos, val int64) error {
	x := &executable{layers: net.TopoLayers()}
	for i, m := range x.layers {
		if m == l {
			return x.faultError(&shapePlan{dims: dims}, i, pos, val)
		}
	}
	return nil
}

// TestQuantFaultsAsCPU: a non-positive scale and a bad double-quantization
// scale fault with the CPU engine's error, word for word.
func TestQuantFaultsAsCPU(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	s := net.AddInput("s", dsl.Float16, dsl.Dims{3})
	xh := net.AddCast(x, dsl.Float16).Output(0)
	q := net.AddQuantize(xh, s, dsl.Int8)
	q.SetAxis(1)
	q.Output(0).SetName("q")
	net.MarkOutput(q.Output(0))
	sv := tensor.New(dsl.Float16, 3)
	for i, v := range []float32{0.5, -0.375, 0} {
		sv.SetFloat64(int64(i), float64(v))
	}
	_, cpuErr := runCPU(t, net, map[string]*tensor.Tensor{"x": tensor.New(dsl.Float32, 2, 3), "s": sv})
	if cpuErr == nil {
		t.Fatal("the CPU engine takes a negative scale")
	}
	// The kernel records the scale widened to float32, as bits.
	got := faultOf(net, q, nil, 1, int64(math.Float32bits(-0.375)))
	if got == nil || got.Error() != cpuErr.Error() || !errors.Is(got, diag.CodeOf(cpuErr)) {
		t.Errorf("fault: %v\n  CPU: %v", got, cpuErr)
	}

	net = dsl.NewNetwork()
	x = net.AddInput("x", dsl.Float32, dsl.Dims{2, 16})
	g := net.AddInput("g", dsl.Float32, dsl.Dims{})
	dq := net.AddDynamicQuantize(x, -1, 16, dsl.FP8E4M3, dsl.FP8E4M3)
	dq.SetInput(1, g)
	net.MarkOutput(dq.Output(0))
	net.MarkOutput(dq.Output(1))
	gv, _ := tensor.FromFloat32(nil, []float32{-0.1})
	_, cpuErr = runCPU(t, net, map[string]*tensor.Tensor{"x": tensor.New(dsl.Float32, 2, 16), "g": gv})
	if cpuErr == nil {
		t.Fatal("the CPU engine takes a negative double-quantization scale")
	}
	got = faultOf(net, dq, nil, 0, int64(math.Float32bits(-0.1)))
	if got == nil || got.Error() != cpuErr.Error() || !errors.Is(got, diag.CodeOf(cpuErr)) {
		t.Errorf("fault: %v\n  CPU: %v", got, cpuErr)
	}
}
