package cuda

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// cudnnErr converts a cudnnStatus_t; call it on the thread that made the
// call (inside Context.do) so that cuDNN's last-error text is the call's.
func cudnnErr(op string, r C.cudnnStatus_t) error {
	if r == 0 {
		return nil
	}
	st := &Status{Library: "cuDNN", Code: int(r), Name: C.GoString(C.t_cudnnGetErrorString(r))}
	var buf [1024]C.char
	C.t_cudnnGetLastErrorString(&buf[0], C.size_t(len(buf)))
	st.Message = C.GoString(&buf[0])
	code := diag.Internal
	switch {
	case r == 1001 || r == 3005 || r == 3007 || r == 3009:
		code = diag.NoDevice
	case r == 4003 || r == 4004:
		code = diag.OutOfMemory
	case r >= 2000 && r < 3000:
		code = diag.InvalidArgument
	case r >= 3000 && r < 4000:
		code = diag.UnsupportedAttr
	}
	return diag.Wrap(code, st, "%s failed", op)
}

var (
	legacyOnce sync.Once
	legacyErr  error
)

// loadCudnnLegacy resolves the legacy convolution API from the handle that
// libcudnn.so.9 was opened with.
func loadCudnnLegacy() error {
	legacyOnce.Do(func() {
		if legacyErr = libCudnn.load(); legacyErr != nil {
			return
		}
		if missing := C.trtc_resolve(C.TRTC_LIB_CUDNN_LEGACY, libCudnn.h); missing != nil {
			legacyErr = diag.Errorf(diag.NoDevice, "%s lacks the legacy convolution API (%s)", libCudnn.path, C.GoString(missing))
		}
	})
	return legacyErr
}

// CudnnVersion loads cuDNN and returns its version, e.g. 91400 for 9.14.0.
func CudnnVersion() (int, error) {
	if err := libCudnn.load(); err != nil {
		return 0, err
	}
	return int(C.t_cudnnGetVersion()), nil
}

// Cudnn is a cuDNN handle.
type Cudnn struct {
	ctx *Context
	h   C.cudnnHandle_t
}

// NewCudnn loads cuDNN and creates a handle (on the legacy default stream
// until SetStream).
func (c *Context) NewCudnn() (*Cudnn, error) {
	if err := libCudnn.load(); err != nil {
		return nil, err
	}
	d := &Cudnn{ctx: c}
	if err := c.do(func() error { return cudnnErr("cudnnCreate", C.t_cudnnCreate(&d.h)) }); err != nil {
		return nil, err
	}
	setLeakFinalizer(d, func(d *Cudnn) bool { return d.h == nil }, func(*Cudnn) string { return "cuDNN handle" })
	return d, nil
}

// SetStream makes the handle's work go to s.
func (d *Cudnn) SetStream(s *Stream) error {
	return d.ctx.do(func() error { return cudnnErr("cudnnSetStream", C.t_cudnnSetStream(d.h, s.h)) })
}

// Close destroys the handle.
func (d *Cudnn) Close() error {
	if d == nil || d.h == nil {
		return nil
	}
	h := d.h
	d.h = nil
	return d.ctx.do(func() error { return cudnnErr("cudnnDestroy", C.t_cudnnDestroy(h)) })
}

func cudnnDataType(dt tensor.DataType) (int32, error) {
	switch dt {
	case tensor.Float32:
		return 0, nil
	case tensor.Float16:
		return 2, nil
	case tensor.BFloat16:
		return 9, nil
	case tensor.Int8:
		return 3, nil
	case tensor.Int32:
		return 4, nil
	}
	return 0, diag.Errorf(diag.TypeMismatch, "cuda: cuDNN has no data type for %v", dt)
}

// Activation is the optional pointwise op after a convolution's bias.
type Activation int

const (
	ActNone     Activation = iota
	ActReLU                // max(x, 0)
	ActGELU                // x*Φ(x), with erf
	ActGELUTanh            // tanh approximation of GELU
	ActSigmoid
	ActTanh
	ActSiLU // x*sigmoid(x) (swish with beta 1)
)

var actModes = map[Activation]int32{ActReLU: 100, ActTanh: 101, ActSigmoid: 102, ActGELU: 104, ActSiLU: 106, ActGELUTanh: 107}

// Conv2D describes a 2-D convolution forward (cross-correlation, as
// TensorRT and PyTorch) over NCHW tensors, or NHWC ones with
// ChannelsLast, optionally followed by + bias[k] and an activation,
// computed in float32.
type Conv2D struct {
	DataType   tensor.DataType // of x, w, bias and y
	N, C, H, W int             // input
	K, R, S    int             // output channels, kernel height and width
	Groups     int             // 0 means 1; w is K x C/Groups x R x S
	PadBegin   [2]int          // top, left
	PadEnd     [2]int          // bottom, right
	Stride     [2]int          // 0 means 1
	Dilation   [2]int          // 0 means 1
	Bias       bool            // add bias[k] (a K-vector of DataType)
	// Residual adds z, a tensor of y's dims and layout, after the bias
	// (before the activation): a residual connection.
	Residual   bool
	Activation Activation
	// AllowTF32 lets float32 convolutions use tensor cores (inputs rounded
	// to TF32, about 1e-3 relative error); off, they keep full float32.
	AllowTF32 bool
	// ChannelsLast stores x and y as NHWC and w as K x R x S x C/Groups:
	// the layout of cuDNN's tensor-core engines for half types.
	ChannelsLast bool
}

func one(v int) int {
	if v <= 0 {
		return 1
	}
	return v
}

// OutputHW is the output's height and width.
func (c Conv2D) OutputHW() (p, q int) {
	p = (c.H+c.PadBegin[0]+c.PadEnd[0]-one(c.Dilation[0])*(c.R-1)-1)/one(c.Stride[0]) + 1
	q = (c.W+c.PadBegin[1]+c.PadEnd[1]-one(c.Dilation[1])*(c.S-1)-1)/one(c.Stride[1]) + 1
	return p, q
}

func (c Conv2D) check() error {
	g := one(c.Groups)
	p, q := c.OutputHW()
	if c.N <= 0 || c.C <= 0 || c.H <= 0 || c.W <= 0 || c.K <= 0 || c.R <= 0 || c.S <= 0 || c.C%g != 0 || c.K%g != 0 || p <= 0 || q <= 0 {
		return diag.Errorf(diag.InvalidArgument, "cuda: bad convolution %+v", c)
	}
	return nil
}

// backend descriptors ---------------------------------------------------

type bdesc = C.cudnnBackendDescriptor_t

// Attribute types (cudnnBackendAttributeType_t).
const (
	typeHandle        = 0
	typeDataType      = 1
	typeBoolean       = 2
	typeInt64         = 3
	typeFloat         = 4
	typeVoidPtr       = 6
	typeConvMode      = 7
	typeHeurMode      = 8
	typePWMode        = 14
	typeNumericalNote = 11
	typeDescriptor    = 15
)

// builder makes backend descriptors and remembers them for Close.
type builder struct {
	d     *Cudnn
	descs []bdesc
	err   error
}

func (b *builder) create(kind int) bdesc {
	var h bdesc
	if b.err == nil {
		b.err = cudnnErr(fmt.Sprintf("cudnnBackendCreateDescriptor(%d)", kind), C.t_cudnnBackendCreateDescriptor(C.int(kind), &h))
		if b.err == nil {
			b.descs = append(b.descs, h)
		}
	}
	return h
}

func (b *builder) set(h bdesc, name, typ int, n int, p unsafe.Pointer) {
	if b.err == nil {
		b.err = cudnnErr(fmt.Sprintf("cudnnBackendSetAttribute(%d)", name), C.t_cudnnBackendSetAttribute(h, C.int(name), C.int(typ), C.int64_t(n), p))
	}
}

func (b *builder) setInt64s(h bdesc, name int, v ...int64) {
	b.set(h, name, typeInt64, len(v), unsafe.Pointer(&v[0]))
}

func (b *builder) setEnum(h bdesc, name, typ int, v int32) {
	b.set(h, name, typ, 1, unsafe.Pointer(&v))
}

func (b *builder) setDescs(h bdesc, name int, v ...bdesc) {
	b.set(h, name, typeDescriptor, len(v), unsafe.Pointer(&v[0]))
}

func (b *builder) finalize(h bdesc, what string) {
	if b.err == nil {
		b.err = cudnnErr("cudnnBackendFinalize("+what+")", C.t_cudnnBackendFinalize(h))
	}
}

func (b *builder) destroyAll() {
	for i := len(b.descs) - 1; i >= 0; i-- {
		C.t_cudnnBackendDestroyDescriptor(b.descs[i])
	}
	b.descs = nil
}

// tensor makes a packed tensor descriptor of NCHW dims, stored NCHW or,
// channels last, NHWC.
func (b *builder) tensor(uid int64, dt int32, dims [4]int64, virtual, channelsLast bool) bdesc {
	h := b.create(17) // CUDNN_BACKEND_TENSOR_DESCRIPTOR
	strides := []int64{dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1}
	if channelsLast {
		strides = []int64{dims[1] * dims[2] * dims[3], 1, dims[3] * dims[1], dims[1]}
	}
	b.setEnum(h, 901, typeDataType, dt)
	b.setInt64s(h, 902, dims[:]...)
	b.setInt64s(h, 903, strides...)
	b.setInt64s(h, 906, uid)
	b.setInt64s(h, 900, 16)
	if virtual {
		v := C.char(1) // CUDNN_TYPE_BOOLEAN is a C bool
		b.set(h, 907, typeBoolean, 1, unsafe.Pointer(&v))
	}
	b.finalize(h, "tensor")
	return h
}

func (b *builder) pointwise(mode int32, x, bias, y bdesc) bdesc {
	pw := b.create(0) // CUDNN_BACKEND_POINTWISE_DESCRIPTOR
	b.setEnum(pw, 0, typePWMode, mode)
	b.setEnum(pw, 1, typeDataType, 0) // math in float
	b.finalize(pw, "pointwise descriptor")
	op := b.create(13) // CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR
	b.setDescs(op, 750, pw)
	b.setDescs(op, 751, x)
	if bias != nil {
		b.setDescs(op, 752, bias)
	}
	b.setDescs(op, 753, y)
	b.finalize(op, "pointwise operation")
	return op
}

// Tensor unique ids in a convolution's variant pack.
const (
	uidX, uidW, uidB, uidY, uidZ = 1, 2, 3, 4, 5
)

// ConvPlan is a finalized cuDNN execution plan for one Conv2D.
type ConvPlan struct {
	d      *Cudnn
	cfg    Conv2D
	g      *sharedGraph // the operation graph's descriptors
	plan   bdesc
	ws     int
	engine int64 // the engine's global index, -1 if unknown
	notes  []int32
}

// NewConvPlan builds the best plan cuDNN's heuristics find for cfg.
func (d *Cudnn) NewConvPlan(cfg Conv2D) (*ConvPlan, error) {
	plans, err := d.ConvPlans(cfg, 1)
	if err != nil {
		return nil, err
	}
	return plans[0], nil
}

// ConvPlans builds up to max plans (every engine configuration the
// heuristics rank that finalizes on this device), best first, for timing.
func (d *Cudnn) ConvPlans(cfg Conv2D, max int) ([]*ConvPlan, error) {
	return d.convPlansOf(cfg, max, func(int64) bool { return true })
}

// ConvPlansWithout is ConvPlans without the engines skip names: they are
// passed over before counting to max and before finalizing, so a ruled
// out engine that the heuristics rank first (often with several
// configurations) leaves room for the next ones.
func (d *Cudnn) ConvPlansWithout(cfg Conv2D, max int, skip func(engine int64) bool) ([]*ConvPlan, error) {
	return d.convPlansOf(cfg, max, func(e int64) bool { return !skip(e) })
}

// ConvPlanOfEngine builds the plan of the heuristics' first configuration
// of one engine (a choice made by timing earlier, kept in an engine file
// or a timing cache), finalizing no other: finalizing is the slow part.
func (d *Cudnn) ConvPlanOfEngine(cfg Conv2D, engine int64) (*ConvPlan, error) {
	plans, err := d.convPlansOf(cfg, 1, func(e int64) bool { return e == engine })
	if err != nil {
		return nil, err
	}
	return plans[0], nil
}

// convPlansOf builds up to max plans of the engines keep accepts.
func (d *Cudnn) convPlansOf(cfg Conv2D, max int, keep func(engine int64) bool) ([]*ConvPlan, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	dt, err := cudnnDataType(cfg.DataType)
	if err != nil {
		return nil, err
	}
	var plans []*ConvPlan
	err = d.ctx.do(func() error {
		var ferr error
		plans, ferr = d.convPlans(cfg, dt, max, keep)
		return ferr
	})
	return plans, err
}

func (d *Cudnn) convPlans(cfg Conv2D, dt int32, max int, keep func(engine int64) bool) ([]*ConvPlan, error) {
	g := &builder{d: d}
	defer func() {
		if g.descs != nil {
			g.destroyAll()
		}
	}()
	p, q := cfg.OutputHW()
	n, k := int64(cfg.N), int64(cfg.K)
	cl := cfg.ChannelsLast
	x := g.tensor(uidX, dt, [4]int64{n, int64(cfg.C), int64(cfg.H), int64(cfg.W)}, false, cl)
	w := g.tensor(uidW, dt, [4]int64{k, int64(cfg.C / one(cfg.Groups)), int64(cfg.R), int64(cfg.S)}, false, cl)
	ydims := [4]int64{n, k, int64(p), int64(q)}
	y := g.tensor(uidY, dt, ydims, false, cl)

	conv := g.create(1)                   // CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR
	g.setEnum(conv, 100, typeDataType, 0) // compute in float
	g.setEnum(conv, 101, typeConvMode, 1) // CUDNN_CROSS_CORRELATION
	g.setInt64s(conv, 106, 2)             // spatial dims
	g.setInt64s(conv, 102, int64(one(cfg.Dilation[0])), int64(one(cfg.Dilation[1])))
	g.setInt64s(conv, 103, int64(one(cfg.Stride[0])), int64(one(cfg.Stride[1])))
	g.setInt64s(conv, 105, int64(cfg.PadBegin[0]), int64(cfg.PadBegin[1]))
	g.setInt64s(conv, 104, int64(cfg.PadEnd[0]), int64(cfg.PadEnd[1]))
	g.finalize(conv, "convolution descriptor")

	// conv -> [+bias] -> [+z] -> [activation] -> y: the pointwise stages
	// after the convolution, each with its operand (nil for none);
	// intermediates are virtual float.
	type stage struct {
		mode    int32
		operand bdesc
	}
	var stages []stage
	if cfg.Bias {
		stages = append(stages, stage{0 /* CUDNN_POINTWISE_ADD */, g.tensor(uidB, dt, [4]int64{1, k, 1, 1}, false, cl)})
	}
	if cfg.Residual {
		stages = append(stages, stage{0 /* CUDNN_POINTWISE_ADD */, g.tensor(uidZ, dt, ydims, false, cl)})
	}
	if cfg.Activation != ActNone {
		mode, ok := actModes[cfg.Activation]
		if !ok {
			return nil, diag.Errorf(diag.UnsupportedAttr, "cuda: cuDNN activation %d", cfg.Activation)
		}
		stages = append(stages, stage{mode, nil})
	}
	// written is what op k writes (0: the convolution): y for the last.
	written := func(k int) bdesc {
		if k == len(stages) {
			return y
		}
		return g.tensor(int64(101+k), 0, ydims, true, cl)
	}
	cur := written(0)
	op := g.create(10) // CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR
	alpha, beta := float32(1), float32(0)
	g.set(op, 700, typeFloat, 1, unsafe.Pointer(&alpha))
	g.set(op, 701, typeFloat, 1, unsafe.Pointer(&beta))
	g.setDescs(op, 702, conv)
	g.setDescs(op, 703, w)
	g.setDescs(op, 704, x)
	g.setDescs(op, 705, cur)
	g.finalize(op, "convolution operation")
	ops := []bdesc{op}
	for k, st := range stages {
		next := written(k + 1)
		ops = append(ops, g.pointwise(st.mode, cur, st.operand, next))
		cur = next
	}

	graph := g.create(15) // CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR
	h := d.h              // a local: &d.h would hand cgo the whole struct, Go pointers and all
	g.set(graph, 800, typeHandle, 1, unsafe.Pointer(&h))
	g.setDescs(graph, 801, ops...)
	g.finalize(graph, "operation graph")
	if g.err != nil {
		return nil, g.err
	}

	var plans []*ConvPlan
	var lastErr error
	for _, mode := range []int32{3 /* CUDNN_HEUR_MODE_A */, 2 /* FALLBACK */} {
		heur := g.create(4) // CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR
		g.setDescs(heur, 201, graph)
		g.setEnum(heur, 200, typeHeurMode, mode)
		g.finalize(heur, "engine heuristics")
		if g.err != nil {
			return nil, g.err
		}
		var count C.int64_t
		if err := cudnnErr("cudnnBackendGetAttribute(ENGINEHEUR_RESULTS count)", C.t_cudnnBackendGetAttribute(heur, 202, typeDescriptor, 0, &count, nil)); err != nil {
			return nil, err
		}
		if count == 0 {
			continue
		}
		cfgs := make([]bdesc, count)
		for i := range cfgs {
			cfgs[i] = g.create(3) // CUDNN_BACKEND_ENGINECFG_DESCRIPTOR
		}
		if g.err != nil {
			return nil, g.err
		}
		var got C.int64_t
		if err := cudnnErr("cudnnBackendGetAttribute(ENGINEHEUR_RESULTS)", C.t_cudnnBackendGetAttribute(heur, 202, typeDescriptor, count, &got, unsafe.Pointer(&cfgs[0]))); err != nil {
			return nil, err
		}
		for _, ec := range cfgs[:got] {
			if max > 0 && len(plans) >= max {
				break
			}
			idx, notes := engineInfo(ec)
			if !keep(idx) {
				continue
			}
			if cfg.DataType == tensor.Float32 && !cfg.AllowTF32 && (slices.Contains(notes, 0) || slices.Contains(notes, 1)) {
				lastErr = diag.Errorf(diag.UnsupportedAttr, "engine %d computes float32 with tensor cores (set AllowTF32)", idx)
				continue
			}
			plan, ws, err := d.finalizePlan(ec)
			if err != nil {
				lastErr = err
				continue
			}
			cp := &ConvPlan{d: d, cfg: cfg, plan: plan, ws: ws, engine: idx, notes: notes}
			setLeakFinalizer(cp, func(p *ConvPlan) bool { return p.plan == nil }, func(*ConvPlan) string { return "cuDNN convolution plan" })
			plans = append(plans, cp)
		}
		if len(plans) > 0 {
			break
		}
	}
	if len(plans) == 0 {
		if lastErr == nil {
			lastErr = diag.Errorf(diag.UnsupportedAttr, "cuDNN proposes no engine")
		}
		return nil, diag.Wrap(diag.UnsupportedAttr, lastErr, "cuDNN has no plan for convolution %+v", cfg)
	}
	// The plans keep the graph's descriptors alive; the last Close frees them.
	shared := &sharedGraph{descs: g.descs, refs: len(plans)}
	g.descs = nil
	for _, p := range plans {
		p.g = shared
	}
	return plans, nil
}

// finalizePlan makes an execution plan for one engine configuration.
func (d *Cudnn) finalizePlan(ec bdesc) (bdesc, int, error) {
	var plan bdesc
	if err := cudnnErr("cudnnBackendCreateDescriptor(EXECUTION_PLAN)", C.t_cudnnBackendCreateDescriptor(5, &plan)); err != nil {
		return nil, 0, err
	}
	b := &builder{d: d}
	h := d.h
	b.set(plan, 400, typeHandle, 1, unsafe.Pointer(&h))
	b.setDescs(plan, 401, ec)
	b.finalize(plan, "execution plan")
	var ws C.int64_t
	var got C.int64_t
	if b.err == nil {
		b.err = cudnnErr("cudnnBackendGetAttribute(EXECUTION_PLAN_WORKSPACE_SIZE)", C.t_cudnnBackendGetAttribute(plan, 402, typeInt64, 1, &got, unsafe.Pointer(&ws)))
	}
	if b.err != nil {
		C.t_cudnnBackendDestroyDescriptor(plan)
		return nil, 0, b.err
	}
	return plan, int(ws), nil
}

// engineInfo reads an engine configuration's engine global index (-1 if
// unknown) and numerical notes.
func engineInfo(ec bdesc) (int64, []int32) {
	var eng bdesc
	if C.t_cudnnBackendCreateDescriptor(2, &eng) != 0 { // CUDNN_BACKEND_ENGINE_DESCRIPTOR
		return -1, nil
	}
	defer C.t_cudnnBackendDestroyDescriptor(eng)
	var got C.int64_t
	if C.t_cudnnBackendGetAttribute(ec, 300, typeDescriptor, 1, &got, unsafe.Pointer(&eng)) != 0 {
		return -1, nil
	}
	idx := C.int64_t(-1)
	C.t_cudnnBackendGetAttribute(eng, 1301, typeInt64, 1, &got, unsafe.Pointer(&idx))
	var notes [16]int32
	got = 0
	if C.t_cudnnBackendGetAttribute(eng, 1303, typeNumericalNote, C.int64_t(len(notes)), &got, unsafe.Pointer(&notes[0])) != 0 {
		got = 0
	}
	return int64(idx), append([]int32(nil), notes[:got]...)
}

// Notes are the engine's cudnnBackendNumericalNote_t values (0 tensor
// cores, 1 down-converted inputs, 3 FFT, 5 Winograd, ...).
func (p *ConvPlan) Notes() []int32 { return p.notes }

// WorkspaceSize is the bytes of device workspace Execute needs.
func (p *ConvPlan) WorkspaceSize() int { return p.ws }

// Engine is the cuDNN engine's global index (a tactic name), -1 if unknown.
func (p *ConvPlan) Engine() int64 { return p.engine }

// Config is the convolution the plan computes.
func (p *ConvPlan) Config() Conv2D { return p.cfg }

// Execute runs the plan on the handle's stream: y = act(conv(x, w) +
// bias + z). bias and z are ignored unless the plan has them; workspace
// needs WorkspaceSize bytes (0 when that is 0).
func (p *ConvPlan) Execute(x, w, bias, z, y, workspace DevicePtr) error {
	uids := []int64{uidX, uidW, uidY}
	ptrs := []uint64{uint64(x), uint64(w), uint64(y)}
	if p.cfg.Bias {
		uids = append(uids, uidB)
		ptrs = append(ptrs, uint64(bias))
	}
	if p.cfg.Residual {
		uids = append(uids, uidZ)
		ptrs = append(ptrs, uint64(z))
	}
	ws := uint64(workspace)
	return p.d.ctx.do(func() error {
		var vp bdesc
		if err := cudnnErr("cudnnBackendCreateDescriptor(VARIANT_PACK)", C.t_cudnnBackendCreateDescriptor(16, &vp)); err != nil {
			return err
		}
		defer C.t_cudnnBackendDestroyDescriptor(vp)
		b := &builder{d: p.d}
		b.setInt64s(vp, 1000, uids...)
		b.set(vp, 1001, typeVoidPtr, len(ptrs), unsafe.Pointer(&ptrs[0]))
		b.set(vp, 1003, typeVoidPtr, 1, unsafe.Pointer(&ws))
		b.finalize(vp, "variant pack")
		if b.err != nil {
			return b.err
		}
		return cudnnErr("cudnnBackendExecute", C.t_cudnnBackendExecute(p.d.h, p.plan, vp))
	})
}

// sharedGraph is the descriptors the plans of one ConvPlans call share.
type sharedGraph struct {
	mu    sync.Mutex
	descs []bdesc
	refs  int
}

// Close destroys the plan (and the operation graph with the last plan
// made from it).
func (p *ConvPlan) Close() error {
	if p == nil || p.plan == nil {
		return nil
	}
	C.t_cudnnBackendDestroyDescriptor(p.plan)
	p.plan = nil
	if g := p.g; g != nil {
		p.g = nil
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.refs--; g.refs == 0 {
			(&builder{descs: g.descs}).destroyAll()
			g.descs = nil
		}
	}
	return nil
}
