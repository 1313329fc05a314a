package onnx

import (
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// RNN, GRU and LSTM as one dsl Loop per direction over the sequence axis.
// A loop (rather than unrolling) keeps the network's size independent of
// the sequence length and works when that length is only known at run
// time. The input projections X·Wᵀ (+ biases) of every step are computed
// before the loop with one matrix multiply per gate and fed to the body by
// Iterators (reversed for the reverse direction); the body holds the
// recurrent products H·Rᵀ, the gates' activations and the state updates.
// With sequence_lens, steps past a batch entry's length keep its state and
// write zeros to Y, so Y_h/Y_c hold the last valid step in both directions.
// Everything is computed in Float32 and cast back to the input's type.

func init() {
	const types = "float32, float16, bfloat16"
	// Opsets before 7 only add output_sequence (Y is produced when the
	// node names it either way); GRU-3 adds linear_before_reset; 14 adds
	// layout.
	for _, since := range []int64{1, 7, 14} {
		register(OpInfo{Op: "RNN", Since: since, Types: types}, importRNNOp(rnnPlain))
		register(OpInfo{Op: "LSTM", Since: since, Types: types}, importRNNOp(rnnLSTM))
	}
	for _, since := range []int64{1, 3, 7, 14} {
		register(OpInfo{Op: "GRU", Since: since, Types: types}, importRNNOp(rnnGRU))
	}
}

type rnnKind int

const (
	rnnPlain rnnKind = iota
	rnnGRU
	rnnLSTM
)

// gates is the number of gate blocks in W and R; acts the number of
// activation functions per direction.
func (k rnnKind) gates() int64 { return [...]int64{1, 3, 4}[k] }
func (k rnnKind) acts() int    { return [...]int{1, 2, 3}[k] }
func (k rnnKind) defaultActs() []string {
	return [...][]string{{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}}[k]
}

// rnnAct is one activation function with its parameters.
type rnnAct struct {
	name        string
	alpha, beta float32
}

// rnnActs resolves the activations attribute and consumes
// activation_alpha/beta in order by the functions that take them, as
// onnxruntime does; missing values take ONNX's defaults.
func (c *nodeCtx) rnnActs(kind rnnKind, nd int) ([][]rnnAct, error) {
	names := c.AttrStrings("activations", nil)
	per := kind.acts()
	switch len(names) {
	case 0:
		for d := 0; d < nd; d++ {
			names = append(names, kind.defaultActs()...)
		}
	case per:
		if nd == 2 {
			names = append(names, names...)
		}
	case per * nd:
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute activations has %d entries; want %d per direction (%d directions)", len(names), per, nd)
	}
	alphas, betas := c.AttrFloats("activation_alpha", nil), c.AttrFloats("activation_beta", nil)
	out := make([][]rnnAct, nd)
	for i, n := range names {
		a := rnnAct{name: strings.ToLower(n)}
		var defA, defB float32
		needA, needB := true, false
		switch a.name {
		case "relu", "tanh", "sigmoid", "softsign", "softplus":
			needA = false
		case "affine":
			defA, needB = 1, true
		case "leakyrelu":
			defA = 0.01
		case "thresholdedrelu", "elu":
			defA = 1
		case "scaledtanh":
			defA, defB, needB = 1, 1, true
		case "hardsigmoid":
			defA, defB, needB = 0.2, 0.5, true
		default:
			return nil, c.Errorf(diag.UnsupportedAttr, "activation %q is not one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus", n)
		}
		a.alpha, a.beta = defA, defB
		if needA && len(alphas) > 0 {
			a.alpha, alphas = alphas[0], alphas[1:]
		}
		if needB && len(betas) > 0 {
			a.beta, betas = betas[0], betas[1:]
		}
		out[i/per] = append(out[i/per], a)
	}
	return out, nil
}

// rnnApply applies an activation (with the optional clip first).
func (c *nodeCtx) rnnApply(t *dsl.Tensor, a rnnAct, clip float32) *dsl.Tensor {
	if clip > 0 {
		t = c.ctlClip(t, -clip, clip)
	}
	switch a.name {
	case "relu":
		return c.ctlAct(t, dsl.ActivationReLU, 0, 0)
	case "tanh":
		return c.ctlAct(t, dsl.ActivationTanh, 0, 0)
	case "sigmoid":
		return c.ctlAct(t, dsl.ActivationSigmoid, 0, 0)
	case "softsign":
		return c.ctlAct(t, dsl.ActivationSoftsign, 0, 0)
	case "softplus":
		return c.ctlAct(t, dsl.ActivationSoftplus, 1, 1)
	case "affine":
		return c.ew(c.ew(t, c.ctlF32(a.alpha), dsl.ElementWiseProd), c.ctlF32(a.beta), dsl.ElementWiseSum)
	case "leakyrelu":
		return c.ctlAct(t, dsl.ActivationLeakyReLU, a.alpha, 0)
	case "thresholdedrelu":
		return c.ctlAct(t, dsl.ActivationThresholdedReLU, a.alpha, 0)
	case "elu":
		return c.ctlAct(t, dsl.ActivationELU, a.alpha, 0)
	case "scaledtanh":
		return c.ctlAct(t, dsl.ActivationScaledTanh, a.alpha, a.beta)
	default: // hardsigmoid; rnnActs accepts nothing else
		return c.ctlAct(t, dsl.ActivationHardSigmoid, a.alpha, a.beta)
	}
}

// rnnSetup is what every direction's loop shares.
type rnnSetup struct {
	kind            rnnKind
	x               *dsl.Tensor // Float32 input
	hidden          int64
	seqAxis, bAxis  int
	trip            *dsl.Tensor // sequence length, Int64 scalar
	lens            *dsl.Tensor // Int64 [batch] sequence lengths, or nil
	clip            float32
	linearBeforeRst bool
	inputForget     bool
	acts            [][]rnnAct
}

// rnnMat takes gate k of direction d from W or R ([dirs, G*H, n]) as an
// [H, n] matrix.
func (c *nodeCtx) rnnMat(t *dsl.Tensor, d int, gates, k, hidden int64) *dsl.Tensor {
	td := c.ctlReshape(c.ctlTake(t, 0, int64(d)), dsl.Dims{gates, hidden, -1})
	return c.ctlTake(td, 0, k)
}

// rnnVec takes part p of n, gate k, direction d from a [dirs, n*G*H]
// tensor (B: n = 2, Wb then Rb; P: n = 1, gates i, o, f) as [H].
func (c *nodeCtx) rnnVec(t *dsl.Tensor, d int, n, p, gates, k, hidden int64) *dsl.Tensor {
	td := c.ctlReshape(c.ctlTake(t, 0, int64(d)), dsl.Dims{n, gates, hidden})
	return c.ctlTake(c.ctlTake(td, 0, p), 0, k)
}

func importRNNOp(kind rnnKind) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) { return c.importRNN(kind) }
}

func (c *nodeCtx) importRNN(kind rnnKind) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	xType := x.Type()
	if xType != dsl.Float32 && xType != dsl.Float16 && xType != dsl.BFloat16 {
		return nil, c.Errorf(diag.TypeMismatch, "X %q must be float32, float16 or bfloat16, got %v", x.Name(), xType)
	}
	if x.Rank() != 3 {
		return nil, c.Errorf(diag.ShapeMismatch, "X %q must have rank 3, got dims %v", x.Name(), x.Dims())
	}
	s := rnnSetup{kind: kind, x: c.ctlCast(x, dsl.Float32)}
	w, r := c.ctlCast(c.Input(1), dsl.Float32), c.ctlCast(c.Input(2), dsl.Float32)
	if w.Rank() != 3 || r.Rank() != 3 {
		return nil, c.Errorf(diag.ShapeMismatch, "W and R must have rank 3; got dims %v and %v", w.Dims(), r.Dims())
	}
	s.hidden = c.AttrInt("hidden_size", r.Dims()[2])
	if s.hidden <= 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute hidden_size=%d must be positive (or R's last dim static)", s.hidden)
	}
	nd := 1
	var reverse []bool
	switch dir := c.AttrString("direction", "forward"); dir {
	case "forward":
		reverse = []bool{false}
	case "reverse":
		reverse = []bool{true}
	case "bidirectional":
		nd, reverse = 2, []bool{false, true}
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute direction=%q is not forward, reverse or bidirectional", dir)
	}
	g := kind.gates()
	for _, chk := range []struct {
		name string
		t    *dsl.Tensor
		want dsl.Dims
	}{{"W", w, dsl.Dims{int64(nd), g * s.hidden, -1}}, {"R", r, dsl.Dims{int64(nd), g * s.hidden, s.hidden}}} {
		for i, v := range chk.want {
			if d := chk.t.Dims()[i]; v >= 0 && d >= 0 && d != v {
				return nil, c.Errorf(diag.ShapeMismatch, "%s has dims %v; want [%d, %d, %s] for %d direction(s) and hidden_size %d",
					chk.name, chk.t.Dims(), nd, g*s.hidden, map[bool]string{true: "input_size", false: "hidden_size"}[chk.name == "W"], nd, s.hidden)
			}
		}
	}
	layout := c.AttrInt("layout", 0)
	switch layout {
	case 0:
		s.seqAxis, s.bAxis = 0, 1
	case 1:
		s.seqAxis, s.bAxis = 1, 0
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute layout=%d must be 0 or 1", layout)
	}
	if c.HasAttr("clip") {
		if s.clip = c.AttrFloat("clip", 0); s.clip <= 0 {
			return nil, c.Errorf(diag.UnsupportedAttr, "attribute clip=%g must be positive", s.clip)
		}
	}
	s.linearBeforeRst = c.AttrInt("linear_before_reset", 0) != 0
	s.inputForget = c.AttrInt("input_forget", 0) != 0
	var err error
	if s.acts, err = c.rnnActs(kind, nd); err != nil {
		return nil, err
	}
	s.trip = c.ctlDim(s.x, s.seqAxis)
	if c.HasInput(4) {
		seq := s.x.Dims()[s.seqAxis]
		lens, ok := c.ConstInts(4)
		full := ok && seq >= 0
		for _, l := range lens {
			full = full && l == seq
		}
		if !full {
			s.lens = c.ctlCast(c.Input(4), dsl.Int64)
		}
	}
	nOut := map[rnnKind]int{rnnPlain: 2, rnnGRU: 2, rnnLSTM: 3}[kind]
	var ys, hs, cs []*dsl.Tensor
	for d := 0; d < nd; d++ {
		y, h, cell, err := c.rnnDirection(&s, d, reverse[d], w, r)
		if err != nil {
			return nil, err
		}
		ys, hs, cs = append(ys, y), append(hs, h), append(cs, cell)
	}
	// Y is [seq, dirs, batch, H] (layout 1: [batch, seq, dirs, H]); the
	// states are [dirs, batch, H] (layout 1: [batch, dirs, H]).
	stack := func(parts []*dsl.Tensor, axis int64) *dsl.Tensor {
		for i, p := range parts {
			parts[i] = c.unsqueeze(p, axis)
		}
		out := parts[0]
		if len(parts) > 1 {
			l := c.Net().AddConcatenation(parts)
			l.SetAxis(int(axis))
			out = l.Output(0)
		}
		return c.ctlCast(out, xType)
	}
	res := make([]*dsl.Tensor, min(nOut, c.NbOutputs()))
	if c.HasOutput(0) {
		res[0] = stack(ys, int64(s.seqAxis)+1)
	}
	if c.HasOutput(1) {
		res[1] = stack(hs, int64(s.seqAxis))
	}
	if kind == rnnLSTM && c.HasOutput(2) {
		res[2] = stack(cs, int64(s.seqAxis))
	}
	return res, nil
}
