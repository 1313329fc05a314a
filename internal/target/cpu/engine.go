// Package cpu is trtc's reference engine: it runs any dsl.Network in plain
// Go and is the numeric oracle every other target is tested against.
//
// Numerics follow what a GPU does: fp16, bf16 and fp8 values are widened,
// computed in float32 or float64, and rounded to the layer's output type on
// store. Integers compute in int64 and wrap (int32 arithmetic wraps as it
// does on the GPU); casts saturate. Heavy layers (convolution, matrix
// multiply, pooling) spread work over all cores.
package cpu

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Engine runs one network. It is safe for concurrent use: each Run has its
// own values.
type Engine struct {
	net      *dsl.Network
	schedule []step
	release  [][]int // per top-level step, the values it reads last
}

// New checks the network and prepares it for execution.
func New(net *dsl.Network) (*Engine, error) {
	if err := net.Err(); err != nil {
		return nil, err
	}
	for _, l := range net.Layers() {
		if _, ok := kernels[l.Type()]; !ok {
			return nil, &diag.Error{Code: diag.UnsupportedNode, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(),
				Loc: l.Location(), Msg: "the CPU engine has no kernel for this layer kind"}
		}
	}
	s, err := buildSchedule(net)
	if err != nil {
		return nil, err
	}
	return &Engine{net: net, schedule: s, release: releasePlan(net, s)}, nil
}

// Network returns the network the engine runs.
func (e *Engine) Network() *dsl.Network { return e.net }

// Run executes the network on inputs (by input name) and returns the
// network outputs by name. Input types must match exactly; dims must match
// every static dimension of the declared input.
func (e *Engine) Run(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	x := &execCtx{ctx: ctx, vals: make([]*tensor.Tensor, len(e.net.Tensors()))}
	if err := e.bindInputs(x, inputs); err != nil {
		return nil, err
	}
	if err := runTopLevel(x, e.schedule, e.release); err != nil {
		return nil, err
	}
	out := make(map[string]*tensor.Tensor, e.net.NbOutputs())
	for _, t := range e.net.Outputs() {
		v := x.vals[t.ID()]
		if v == nil {
			return nil, diag.Errorf(diag.Internal, "output %q was not computed", t.Name())
		}
		out[t.Name()] = v
	}
	return out, nil
}

// Run is New followed by Engine.Run, for one-off use.
func Run(net *dsl.Network, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	e, err := New(net)
	if err != nil {
		return nil, err
	}
	return e.Run(context.Background(), inputs)
}

func (e *Engine) bindInputs(x *execCtx, inputs map[string]*tensor.Tensor) error {
	var errs diag.List
	known := map[string]bool{}
	for _, in := range e.net.Inputs() {
		known[in.Name()] = true
		v, ok := inputs[in.Name()]
		if !ok || v == nil {
			errs = append(errs, diag.Errorf(diag.InvalidArgument, "input %q (%v %v) is missing", in.Name(), in.Type(), in.Dims()))
			continue
		}
		if v.DType() != in.Type() {
			errs = append(errs, diag.Errorf(diag.TypeMismatch, "input %q must be %v, got %v", in.Name(), in.Type(), v.DType()))
			continue
		}
		if err := matchDims(in.Dims(), v.Shape()); err != nil {
			errs = append(errs, diag.Errorf(diag.ShapeMismatch, "input %q: %v", in.Name(), err))
			continue
		}
		x.vals[in.ID()] = v
	}
	for name := range inputs {
		if !known[name] {
			errs = append(errs, diag.Errorf(diag.InvalidArgument, "%q is not an input of network %q", name, e.net.Name()))
		}
	}
	return errs.Err()
}

// matchDims checks a concrete shape against declared dims with -1 wildcards.
func matchDims(want dsl.Dims, got []int64) error {
	if len(want) != len(got) {
		return fmt.Errorf("rank %d, want rank %d (%v)", len(got), len(want), want)
	}
	for i := range want {
		if want[i] >= 0 && want[i] != got[i] {
			return fmt.Errorf("shape %v does not match %v at dimension %d", got, want, i)
		}
	}
	return nil
}

// execCtx is the state of one Run: the value of every tensor computed so far.
type execCtx struct {
	ctx  context.Context
	vals []*tensor.Tensor
}

func (x *execCtx) value(t *dsl.Tensor) *tensor.Tensor {
	if t == nil {
		return nil
	}
	return x.vals[t.ID()]
}

// runLayer runs one layer's kernel on the current values, checks what it
// returned against the layer's inferred outputs, and stores the results.
func runLayer(x *execCtx, l dsl.Layer) (err error) {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	in := make([]*tensor.Tensor, l.NbInputs())
	for i := range in {
		in[i] = x.value(l.Input(i))
		if l.Input(i) != nil && in[i] == nil {
			return layerErr(l, diag.Internal, "input %d (%q) has no value: scheduling bug", i, l.Input(i).Name())
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = layerErr(l, diag.Internal, "internal error in the CPU kernel: %v\n%s", r, debug.Stack())
		}
	}()
	out, err := kernels[l.Type()](x, l, in)
	if err != nil {
		return err
	}
	if len(out) != l.NbOutputs() {
		return layerErr(l, diag.Internal, "kernel returned %d outputs, the layer has %d", len(out), l.NbOutputs())
	}
	for i, v := range out {
		t := l.Output(i)
		if v.DType() != t.Type() {
			return layerErr(l, diag.Internal, "output %d is %v at run time but was inferred as %v", i, v.DType(), t.Type())
		}
		if err := matchDims(t.Dims(), v.Shape()); err != nil {
			return layerErr(l, diag.Internal, "output %d disagrees with inferred dims: %v", i, err)
		}
		x.vals[t.ID()] = v
	}
	return nil
}

// layerErr builds an error about layer l.
func layerErr(l dsl.Layer, code diag.Code, format string, args ...any) error {
	return &diag.Error{Code: code, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(), Loc: l.Location(),
		Msg: fmt.Sprintf(format, args...)}
}
