package cuda

import (
	"context"
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/target"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

type targetContext = target.Context

// stepMeta computes a kernel step's metadata for the shape plan's dims
// (and a second one for a conv's bias kernel).
func (x *executable) stepMeta(sp *shapePlan, i int, l dsl.Layer) (meta, extra []int64, err error) {
	d := sp.dims
	out := d[l.Output(0)]
	if f := familyOf(l); f != nil {
		m, g, err := f.plan(l, shapeValues{dims: sp.dims, values: sp.values})
		if err != nil {
			return nil, nil, err
		}
		sp.launches[i] = g
		return m, nil, nil
	}
	switch l := l.(type) {
	case *dsl.ReduceLayer:
		return reduceMeta(d[l.Input(0)], l.ReduceAxes()), nil, nil
	case *dsl.SoftMaxLayer:
		in := d[l.Input(0)]
		axis := softmaxAxis(l, len(in))
		return []int64{in[axis], volume(in[axis+1:])}, nil, nil
	case *dsl.NormalizationLayer:
		in := d[l.Input(0)]
		k, _ := trailingAxes(l.Axes(), len(in))
		return normalizationMeta(in, k, d[l.Input(1)], d[l.Input(2)]), nil, nil
	case *dsl.PoolingLayer:
		in := d[l.Input(0)]
		g := l.Geometry(dsl.Dims(in[2:]))
		w, st := l.WindowSizeNd(), l.StrideNd()
		return []int64{in[1], in[2], in[3], out[2], out[3], w[0], w[1], st[0], st[1], g.Pre[0], g.Pre[1]}, nil, nil
	case *dsl.ShuffleLayer:
		return shuffleMeta(l, d), nil, nil
	case *dsl.SliceLayer:
		in := d[l.Input(0)]
		start, stride, err := sliceView(l, sp)
		if err != nil {
			return nil, nil, err
		}
		is := contiguous(in)
		ss := make([]int64, len(in))
		var base int64
		for k := range in {
			ss[k] = is[k] * stride[k]
			base += start[k] * is[k]
		}
		return copyMeta(out, ss, contiguous(out), base, 0), nil, nil
	case *dsl.GatherLayer:
		data, idx := d[l.Input(0)], d[l.Input(1)]
		a := l.GatherAxis()
		return []int64{volume(data[:a]), data[a], volume(data[a+1:]), volume(idx)}, nil, nil
	case *dsl.ConvolutionLayer:
		in := d[l.Input(0)]
		g := l.Geometry(dsl.Dims(in[2:]))
		k, st, dl := l.KernelSizeNd(), l.StrideNd(), l.DilationNd()
		meta = []int64{in[0], in[1], in[2], in[3], l.NbGroups(), out[2], out[3], k[0], k[1], st[0], st[1], g.Pre[0], g.Pre[1], dl[0], dl[1]}
		bias := []int64{out[1], out[2] * out[3]} // [C, inner] of the bias kernel
		if isChannelsLast(x.layers, x.plan.Steps[i]) {
			bias[1] = 1 // channels are innermost
		}
		return meta, bias, nil
	}
	ins := make([][]int64, len(x.reads[i]))
	for j, t := range x.reads[i] {
		ins[j] = d[t]
	}
	return broadcastMeta(out, ins), nil, nil
}

// sliceView is a strict-bounds slice's start and stride on every axis of
// its input, from its attributes or its parameter tensors' values.
func sliceView(l *dsl.SliceLayer, sp *shapePlan) (start, stride []int64, err error) {
	rank := len(sp.dims[l.Input(0)])
	param := func(i int, static dsl.Dims) ([]int64, error) {
		t := l.Input(i)
		if t == nil {
			return static, nil
		}
		v, ok := sp.values[t]
		if !ok {
			return nil, diag.Errorf(diag.Internal, "%s: the value of parameter %q is not known when the launch is planned", dsl.LayerString(l), t.Name())
		}
		return v, nil
	}
	st, err := param(1, l.Start())
	if err != nil {
		return nil, nil, err
	}
	sd, err := param(3, l.Stride())
	if err != nil {
		return nil, nil, err
	}
	axes, err := param(5, l.Axes())
	if err != nil {
		return nil, nil, err
	}
	start, stride = make([]int64, rank), make([]int64, rank)
	for k := range stride {
		stride[k] = 1
	}
	if axes == nil {
		for k := 0; k < rank && k < len(st); k++ {
			axes = append(axes, int64(k))
		}
	}
	if len(st) < len(axes) || len(sd) < len(axes) {
		return nil, nil, diag.Errorf(diag.InvalidNode, "%s: %d axes but %d starts and %d strides", dsl.LayerString(l), len(axes), len(st), len(sd))
	}
	for j, a := range axes {
		if a < 0 {
			a += int64(rank)
		}
		if a < 0 || a >= int64(rank) {
			return nil, nil, diag.Errorf(diag.InvalidNode, "%s: axis %d is out of range for rank %d", dsl.LayerString(l), axes[j], rank)
		}
		start[a], stride[a] = st[j], sd[j]
	}
	in, out := sp.dims[l.Input(0)], sp.dims[l.Output(0)]
	for a := range in {
		if out[a] == 0 {
			continue
		}
		first, last := start[a], start[a]+(out[a]-1)*stride[a]
		if first < 0 || first >= in[a] || last < 0 || last >= in[a] {
			return nil, nil, diag.Errorf(diag.InvalidArgument, "%s: axis %d reads coordinates %d to %d of a dim of %d", dsl.LayerString(l), a, first, last, in[a])
		}
	}
	return start, stride, nil
}

// shuffleMeta is the copy of a shuffle with one transpose: before the
// reshape (first) or after it (second).
func shuffleMeta(l *dsl.ShuffleLayer, d map[*dsl.Tensor][]int64) []int64 {
	in, out := d[l.Input(0)], d[l.Output(0)]
	if p := l.FirstTranspose(); !p.IsIdentity() {
		is := contiguous(in)
		dims := make([]int64, len(p))
		ss := make([]int64, len(p))
		for k, a := range p {
			dims[k], ss[k] = in[a], is[a]
		}
		return copyMeta(dims, ss, contiguous(dims), 0, 0)
	}
	p := l.SecondTranspose()
	// The reshaped dims are the output dims un-permuted.
	reshaped := make([]int64, len(p))
	for k, a := range p {
		reshaped[a] = out[k]
	}
	rs := contiguous(reshaped)
	ss := make([]int64, len(p))
	for k, a := range p {
		ss[k] = rs[a]
	}
	return copyMeta(out, ss, contiguous(out), 0, 0)
}

// concatMetas is one copy per input into its place along the axis.
func concatMetas(l dsl.Layer, d map[*dsl.Tensor][]int64) [][]int64 {
	cl := l.(*dsl.ConcatenationLayer)
	out := d[l.Output(0)]
	axis := cl.Axis()
	os := contiguous(out)
	var metas [][]int64
	var at int64
	for j := 0; j < l.NbInputs(); j++ {
		in := d[l.Input(j)]
		metas = append(metas, copyMeta(in, contiguous(in), os, 0, at*os[axis]))
		at += in[axis]
	}
	return metas
}

// launch is the size of one kernel launch: the work items the kernel
// takes as n, the grid, and (for concatenation parts) the byte offset of
// its metadata.
type launch struct {
	meta int64
	n    int64
	grid cuda.Dim3
	// wide is the same copy in 16-byte elements (copyvec.go), when the
	// dims allow one: its metadata offset, count and grid; tiled the same
	// copy as a tiled transpose (transpose.go).
	wide, tiled *launch
}

// launchOf is a kernel, copy or gather step's launch for these dims: one
// thread per output element (grid-stride), or one block per output row
// for reductions, softmax and normalization.
func launchOf(l dsl.Layer, d map[*dsl.Tensor][]int64) launch {
	n := volume(d[l.Output(0)])
	rows := func(r int64) launch { return launch{n: r, grid: cuda.Dim3{X: int(min(max(r, 1), 65535))}} }
	switch l := l.(type) {
	case *dsl.ReduceLayer:
		if reducesPerThread(d[l.Input(0)], l.ReduceAxes()) {
			return launch{n: n, grid: grid(n)}
		}
		return rows(n)
	case *dsl.SoftMaxLayer:
		in := d[l.Input(0)]
		return rowsPerWarp(volume(in) / max(1, in[softmaxAxis(l, len(in))]))
	case *dsl.NormalizationLayer:
		in := d[l.Input(0)]
		k, _ := trailingAxes(l.Axes(), len(in))
		return rowsPerWarp(volume(in[:len(in)-k]))
	}
	switch l.(type) {
	case *dsl.ShuffleLayer, *dsl.SliceLayer:
		return pointwiseLaunch(n) // copies
	}
	if isPointwise(l) {
		return pointwiseLaunch(n)
	}
	return launch{n: n, grid: grid(n)}
}

// rowsPerWarp launches a row-per-warp kernel over r rows: eight warps
// to a block of 256 threads.
func rowsPerWarp(r int64) launch {
	return launch{n: r, grid: cuda.Dim3{X: int(min(max((r+7)/8, 1), 1<<20))}}
}

// gatherName is the fixed gather kernel for the element size and index type.
func gatherName(data, index dsl.DataType) string {
	ix := "i32"
	if index == dsl.Int64 {
		ix = "i64"
	}
	return fmt.Sprintf("trtc_gather%d_%s", max(data.Bits()/8, 1), ix)
}

// convColBytes is the im2col buffer a convolution needs.
func convColBytes(l dsl.Layer, d map[*dsl.Tensor][]int64) int64 {
	cl := l.(*dsl.ConvolutionLayer)
	in, out := d[l.Input(0)], d[l.Output(0)]
	k := cl.KernelSizeNd()
	return l.Input(0).Type().ByteSize(in[0] * in[1] * k[0] * k[1] * out[2] * out[3])
}

// hostEngine makes a one-layer network of l with inputs of the planned
// dims, for the CPU engine to run.
func hostEngine(l dsl.Layer, d map[*dsl.Tensor][]int64) (*cpueng.Engine, error) {
	net := dsl.NewNetwork()
	in := make([]*dsl.Tensor, l.NbInputs())
	for j := range in {
		if t := l.Input(j); t != nil {
			in[j] = hostNetworkInput(net, t, j, d)
		}
	}
	c := net.CopyLayer(l, in)
	if c == nil {
		return nil, net.Err()
	}
	for j := 0; j < c.NbOutputs(); j++ {
		c.Output(j).SetName(fmt.Sprintf("out%d", j))
		net.MarkOutput(c.Output(j))
	}
	if c.NbOutputs() == 0 {
		// An assertion: the engine needs an output; the check runs
		// with it.
		net.MarkOutput(net.AddIdentity(in[0]).Output(0))
	}
	return cpueng.New(net)
}

// hostNetworkInput is t in a host network: a copy of its constant, its
// values known at build time, or input "in<k>" of the planned dims.
// Constants stay constants, so layers that need their values while
// inferring (axes, shapes given as tensors) see them.
func hostNetworkInput(net *dsl.Network, t *dsl.Tensor, k int, d map[*dsl.Tensor][]int64) *dsl.Tensor {
	if p, _ := t.Producer(); p != nil && p.Type() == dsl.LayerConstant {
		return net.CopyLayer(p, nil).Output(0)
	}
	if v, ok := knownInts(t); ok {
		return v.build(net)
	}
	return net.AddInput(fmt.Sprintf("in%d", k), t.Type(), dsl.Dims(d[t]))
}

// heldByHostNetwork reports whether hostNetworkInput holds t itself
// (no input to read back).
func heldByHostNetwork(t *dsl.Tensor) bool {
	if p, _ := t.Producer(); p != nil && p.Type() == dsl.LayerConstant {
		return true
	}
	_, ok := knownInts(t)
	return ok
}

// run executes step i.
func (c *cudaContext) run(ctx context.Context, sp *shapePlan, i int, l dsl.Layer) error {
	s := c.x.plan.Steps[i]
	meta := func(k int) cuda.DevicePtr { return sp.meta.Ptr().Add(int(sp.metaOff[k])) }
	switch s.Kind {
	case kindConstant, kindAlias, kindFused, kindInRegion:
		return nil
	case kindShape:
		return c.stream.CopyHtoD(c.addr(sp, l.Output(0)), c.stageShape(sp, l))
	case kindKernel, kindCopy, kindGather:
		g := sp.launches[i]
		if w := g.wide; w != nil && s.Kind == kindCopy {
			out, in := c.addr(sp, l.Output(0)), c.addr(sp, l.Input(0))
			if aligned16(out, in) {
				return c.stream.Launch(c.x.fns[wideCopyName], w.grid, block256, 0, sp.meta.Ptr().Add(int(w.meta)), w.n, out, in)
			}
		}
		if t := g.tiled; t != nil && s.Kind == kindCopy {
			fn := c.x.fns[transposeName(elementBytes(l.Output(0).Type()))]
			return c.stream.Launch(fn, t.grid, block256, 0, sp.meta.Ptr().Add(int(t.meta)), t.n, c.addr(sp, l.Output(0)), c.addr(sp, l.Input(0)))
		}
		args := []any{meta(i), g.n}
		if c.x.faultArg[i] {
			args = append(args, c.faultPtr(i))
		}
		for _, t := range c.x.writes[i] {
			args = append(args, c.addr(sp, t))
		}
		ins := c.x.reads[i]
		if s.Kind == kindCopy {
			ins = ins[:1] // a shuffle's shape input or a slice's parameters are not the kernel's
		}
		for _, t := range ins {
			args = append(args, c.addr(sp, t))
		}
		for _, b := range c.x.famW[l] {
			p := cuda.DevicePtr(0)
			if b != nil {
				p = b.Ptr()
			}
			args = append(args, p)
		}
		return c.stream.Launch(c.x.fns[s.Kernel], g.grid, block256, 0, args...)
	case kindConcat:
		for j, part := range sp.parts[i] {
			if part.n == 0 {
				continue
			}
			fn, out, in := c.x.fns[s.Kernel], c.addr(sp, l.Output(0)), c.addr(sp, l.Input(j))
			if w := part.wide; w != nil && aligned16(out, in) {
				fn, part = c.x.fns[wideCopyName], *w
			}
			if err := c.stream.Launch(fn, part.grid, block256, 0, sp.meta.Ptr().Add(int(part.meta)), part.n, out, in); err != nil {
				return err
			}
		}
		return nil
	case kindMatmul:
		return sp.matmuls[i].run(c, sp, i, l)
	case kindConv:
		return c.conv(sp, i, l)
	case kindHost:
		return c.host(sp, i, l)
	case kindCounted:
		return diag.Errorf(diag.Internal, "a counted step runs at a phase boundary, not within a phase")
	case kindDeviceRegion:
		return c.deviceRegion(ctx, sp, i)
	case kindPlugin:
		return c.runPlugin(sp, i, l)
	}
	return diag.Errorf(diag.EngineCorrupt, "unknown step kind %q", s.Kind)
}

// stageShape writes a Shape layer's value (its input's dims, int64) into
// the layer's place in the pinned staging memory and returns those bytes.
// A graph replay copies from there, so they are written again before each
// replay: another shape plan may have used the same bytes meanwhile.
func (c *cudaContext) stageShape(sp *shapePlan, l dsl.Layer) []byte {
	v := sp.dims[l.Input(0)]
	t, _ := tensor.FromInt64([]int64{int64(len(v))}, append([]int64{}, v...))
	off := sp.stageOff[l.Output(0)]
	stage := c.stage.Bytes()[off : off+int64(len(t.Bytes()))]
	copy(stage, t.Bytes())
	return stage
}

func softmaxAxis(l *dsl.SoftMaxLayer, r int) int {
	for a := 0; a < r; a++ {
		if l.Axes()&(1<<a) != 0 {
			return a
		}
	}
	return 0
}

func copyName(dt dsl.DataType) string { return fmt.Sprintf("trtc_copy%d", max(dt.Bits()/8, 1)) }

// host runs one layer on the CPU engine: inputs down, outputs up.
func (c *cudaContext) host(sp *shapePlan, i int, l dsl.Layer) error {
	if err := c.stream.Synchronize(); err != nil {
		return err
	}
	out, err := c.runHost(sp, i, sp.hosts[i])
	if err != nil {
		return err
	}
	for j, t := range c.x.hostOutputs(i) {
		v := out[j]
		if fmt.Sprint(v.Shape()) != fmt.Sprint(sp.dims[t]) {
			return diag.Errorf(diag.ShapeMismatch, "output %d has shape %v on the host, planned %v", j, v.Shape(), sp.dims[t])
		}
		if err := c.x.dev.CopyHtoD(c.addr(sp, t), v.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// runHost runs host step i on the CPU engine e: the inputs its host
// network does not hold itself read back (named as hostNetworkInput
// names them), its outputs in hostOutputs' order.
func (c *cudaContext) runHost(sp *shapePlan, i int, e *cpueng.Engine) ([]*tensor.Tensor, error) {
	in := map[string]*tensor.Tensor{}
	for k, t := range c.x.hostInputs(i) {
		if t == nil || heldByHostNetwork(t) {
			continue
		}
		v := tensor.New(t.Type(), sp.dims[t]...)
		if len(v.Bytes()) > 0 {
			if err := c.x.dev.CopyDtoH(v.Bytes(), c.addr(sp, t)); err != nil {
				return nil, err
			}
		}
		in[fmt.Sprintf("in%d", k)] = v
	}
	out, err := e.Run(context.Background(), in)
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, len(c.x.hostOutputs(i)))
	for k := range res {
		if res[k] = out[fmt.Sprintf("out%d", k)]; res[k] == nil {
			return nil, diag.Errorf(diag.Internal, "%s: the host run gave no output %d", dsl.LayerString(c.x.layers[i]), k)
		}
	}
	return res, nil
}

// knownValues are the values of a small integer tensor known while the
// network is built (shape arithmetic, axes).
type knownValues struct {
	t    *dsl.Tensor
	vals []int64
}

func knownInts(t *dsl.Tensor) (knownValues, bool) {
	v, ok := t.KnownValues()
	if !ok || (t.Type() != dsl.Int32 && t.Type() != dsl.Int64) {
		return knownValues{}, false
	}
	return knownValues{t, v}, true
}

// build adds the values as a Constant of the tensor's type and dims.
func (k knownValues) build(net *dsl.Network) *dsl.Tensor {
	w := dsl.Int64Weights(k.vals...)
	if k.t.Type() == dsl.Int32 {
		v := make([]int32, len(k.vals))
		for i, x := range k.vals {
			v[i] = int32(x)
		}
		w = dsl.Int32Weights(v...)
	}
	return net.AddConstant(k.t.Dims(), w).Output(0)
}
