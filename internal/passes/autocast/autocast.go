// Package autocast is the mixed-precision pass behind `trtc compile
// --precision fp16|bf16`. trtc networks are strongly typed (TensorRT's
// kSTRONGLY_TYPED: every tensor has a type, conversions are Cast layers),
// so reduced precision is a rewrite of the network, not a builder flag:
// float32 layers are rebuilt to compute in half where that is safe, and
// kept in float32 where it matters, the way torch.autocast and TensorRT's
// mixed precision do it:
//
//   - compute layers (matrix multiplies, convolutions, pointwise math,
//     pooling, max/min reductions) run in the requested type;
//   - softmax, normalization statistics, sum/mean/product reductions,
//     cumulative sums, LRN and the pointwise ops that overflow in half
//     (exp, log, reciprocal, pow, softplus, ...) stay in float32;
//   - data movement (Shuffle, Gather, Slice, Concatenation, ...) runs in
//     whatever type its input arrives in, so it never adds casts;
//   - Cast, Q/DQ and Fill layers keep their explicit types; plugins run in
//     half only when they accept it; everything inside loops and
//     conditionals keeps its types (recurrences need matching types);
//   - network inputs and outputs keep their declared types (like trtexec
//     --fp16 keeps float32 bindings): casts at the edges.
//
// Casts are inserted where a tensor's type differs from what a reader
// computes in, one per (tensor, type), shared by readers. Weights of half
// layers (convolution kernels and biases, scale parameters, constants all
// of whose readers are half) are converted once at build time instead.
// Every layer with a float output gets an ir.PrecisionDecision saying what
// it computes in and why; trtc inspect shows them.
package autocast

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// Autocast rewrites g to compute in o.Compute where it is safe, with
// o.LayerPrecisions overriding the type of the layers they name. With
// Compute float32 and no overrides it changes nothing and only records a
// decision per float layer.
func Autocast(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	if !isFloat(o.Compute) {
		return nil, diag.Errorf(diag.InvalidArgument, "autocast: compute type %v is not fp32, fp16 or bf16", o.Compute)
	}
	for name, dt := range o.LayerPrecisions {
		if !isFloat(dt) {
			e := diag.Errorf(diag.InvalidArgument, "autocast: the precision override for layer %q is %v; want fp32, fp16 or bf16", name, dt)
			e.Layer = name
			return nil, e
		}
	}
	topo := g.Net.TopoLayers()
	if o.Compute == dsl.Float32 && len(o.LayerPrecisions) == 0 {
		return withDecisions(g, fp32Decisions(topo, o)), nil
	}
	plans, err := makePlans(g.Net, topo, o)
	if err != nil {
		return nil, err
	}
	b := &builder{r: ir.NewRebuilder(g.Net), plans: plans, casts: map[castKey]*dsl.Tensor{}, decisions: map[string]ir.PrecisionDecision{}}
	for _, l := range topo {
		if err := b.layer(l); err != nil {
			return nil, err
		}
	}
	b.outputs()
	if !b.changed {
		return withDecisions(g, b.decisions), nil
	}
	net, err := b.r.Finish()
	if err != nil {
		return nil, diag.Wrap(diag.Internal, err, "autocast of %q to %s", g.Net.Name(), DescribePrecision(o.Compute))
	}
	ng := g.Derive(net)
	for name, d := range b.decisions {
		ng.Precisions[name] = d
	}
	ng.Fusions = connectedFusions(ng.Fusions)
	return ng, nil
}

// withDecisions returns g's network with decisions added: a new Graph, so
// g itself is not modified.
func withDecisions(g *ir.Graph, ds map[string]ir.PrecisionDecision) *ir.Graph {
	ng := &ir.Graph{Net: g.Net, Fusions: g.Fusions, Precisions: make(map[string]ir.PrecisionDecision, len(g.Precisions)+len(ds))}
	for k, v := range g.Precisions {
		ng.Precisions[k] = v
	}
	for k, v := range ds {
		ng.Precisions[k] = v
	}
	return ng
}

// fp32Decisions records what an fp32 build computes each float layer in.
func fp32Decisions(topo []dsl.Layer, o ir.Options) map[string]ir.PrecisionDecision {
	ds := map[string]ir.PrecisionDecision{}
	for _, l := range topo {
		dt, ok := floatOutput(l)
		if !ok {
			continue
		}
		reason := fp32Reason(l, o)
		if dt != dsl.Float32 {
			reason = "declared " + DescribePrecision(dt)
		}
		ds[l.Name()] = ir.PrecisionDecision{Type: dt, Reason: reason}
	}
	return ds
}

// floatOutput returns the type of l's first float output.
func floatOutput(l dsl.Layer) (dsl.DataType, bool) {
	for i := 0; i < l.NbOutputs(); i++ {
		if dt := l.Output(i).Type(); isFloat(dt) {
			return dt, true
		}
	}
	return 0, false
}

// builder rebuilds the network following the plans.
type builder struct {
	r         *ir.Rebuilder
	plans     map[dsl.Layer]*plan
	casts     map[castKey]*dsl.Tensor
	decisions map[string]ir.PrecisionDecision
	changed   bool
}

type castKey struct {
	t  *dsl.Tensor // a tensor of the new network
	dt dsl.DataType
}

// cast returns t (of the new network) converted to dt, adding the Cast
// the first time: "<tensor> to fp16".
func (b *builder) cast(t *dsl.Tensor, dt dsl.DataType) *dsl.Tensor {
	if t.Type() == dt {
		return t
	}
	k := castKey{t, dt}
	if c, ok := b.casts[k]; ok {
		return c
	}
	name := fmt.Sprintf("%s to %s", t.Name(), DescribePrecision(dt))
	if c := b.convertedConstant(t, dt, name); c != nil {
		b.casts[k] = c
		return c
	}
	cl := b.r.Dst.AddCast(t, dt)
	cl.SetName(name)
	cl.Output(0).SetName(name)
	b.casts[k] = cl.Output(0)
	b.decisions[name] = ir.PrecisionDecision{Type: dt, Reason: "cast inserted by autocast"}
	b.changed = true
	return cl.Output(0)
}

// convertedConstant is a copy of the float constant t (of the new
// network) converted to the float type dt at build time, for readers that
// compute in dt while others read t as it is (a constant all of whose
// readers compute in dt is converted in place); nil when t is no such
// constant. Targets see a constant, not a Cast that would run on every
// inference: a bias a matrix multiply can add in its epilogue, say.
func (b *builder) convertedConstant(t *dsl.Tensor, dt dsl.DataType, name string) *dsl.Tensor {
	p, _ := t.Producer()
	cl, ok := p.(*dsl.ConstantLayer)
	if !ok || !isFloat(t.Type()) || !isFloat(dt) || cl.Weights().IsEmpty() {
		return nil
	}
	w, err := cl.Weights().Tensor().Convert(dt)
	if err != nil {
		return nil // the Cast converts it at run time instead
	}
	c := b.r.Dst.AddConstant(t.Dims(), dsl.NewWeights(w))
	c.SetName(name)
	c.Output(0).SetName(name)
	b.decisions[name] = ir.PrecisionDecision{Type: dt, Reason: "constant converted at build time by autocast"}
	b.changed = true
	return c.Output(0)
}

// layer copies one source layer with its inputs cast to what it computes in.
func (b *builder) layer(l dsl.Layer) error {
	p := b.plans[l]
	if p.region != "" {
		b.regionLayer(l, p)
		return nil
	}
	ct, reason := p.typ, p.reason
	if p.class == classFollow && !p.fixed {
		ct, reason = b.followType(l, p)
	}
	in := make([]*dsl.Tensor, l.NbInputs())
	for i := range in {
		t := l.Input(i)
		if t == nil {
			continue
		}
		m := b.r.Map(t)
		if m == nil {
			return diag.Errorf(diag.Internal, "autocast: input %d of %s (%q) was not produced before it", i, dsl.LayerString(l), t.Name())
		}
		switch {
		case p.class == classAny:
		case p.inGroup(i):
			m = b.cast(m, ct)
		default:
			m = b.cast(m, t.Type())
		}
		in[i] = m
	}
	c := b.r.Dst.CopyLayer(l, in)
	if c == nil {
		return diag.Errorf(diag.Internal, "autocast: copying %s failed", dsl.LayerString(l))
	}
	for i := 0; i < l.NbOutputs(); i++ {
		b.r.Alias(l.Output(i), c.Output(i))
	}
	if isHalf(ct) && len(p.group) > 0 || p.convert {
		if err := b.convertWeights(c, ct); err != nil {
			return err
		}
	}
	for i := 0; i < l.NbOutputs(); i++ {
		if c.Output(i).Type() != l.Output(i).Type() {
			b.changed = true
		}
	}
	b.decide(l, c, p, ct, reason)
	return nil
}

// followType is the type a data-movement layer runs in: the type its float
// inputs arrive in, or float32 when they arrive in different types (the
// widest, as torch.autocast promotes) or in a type the layer has no kernel
// for.
func (b *builder) followType(l dsl.Layer, p *plan) (dsl.DataType, string) {
	var dt dsl.DataType
	for k, i := range p.group {
		a := b.r.Map(l.Input(i)).Type()
		if k == 0 {
			dt = a
		} else if a != dt {
			return dsl.Float32, "inputs arrive in different types; promoted to fp32"
		}
	}
	if !allows(p.rule, dt) {
		return dsl.Float32, fmt.Sprintf("%v has no %s kernel; kept in fp32", l.Type(), DescribePrecision(dt))
	}
	return dt, "follows its input"
}

// regionLayer copies a layer of a loop or conditional keeping every
// type: inputs from outside that now arrive in half are cast back.
func (b *builder) regionLayer(l dsl.Layer, p *plan) {
	type saved struct{ src, dst *dsl.Tensor }
	var restore []saved
	for i := 0; i < l.NbInputs(); i++ {
		t := l.Input(i)
		if t == nil || !b.r.Mapped(t) {
			continue // a back edge, patched by Finish
		}
		m := b.r.Map(t)
		if c := b.cast(m, t.Type()); c != m {
			restore = append(restore, saved{t, m})
			b.r.Alias(t, c)
		}
	}
	c := b.r.Copy(l)
	for _, s := range restore {
		b.r.Alias(s.src, s.dst)
	}
	if c == nil {
		return
	}
	if dt, ok := floatOutput(l); ok {
		b.decisions[l.Name()] = ir.PrecisionDecision{Type: dt, Reason: "inside a " + p.region}
	}
}

// convertWeights converts the float32 weights of a copied layer that
// computes in dt (constants: to their planned type) at build time.
func (b *builder) convertWeights(c dsl.Layer, dt dsl.DataType) error {
	conv := func(w dsl.Weights) (dsl.Weights, bool, error) {
		if w.IsEmpty() || w.Type() == dt || !isFloat(w.Type()) {
			return w, false, nil
		}
		t, err := w.Tensor().Convert(dt)
		if err != nil {
			return w, false, diag.Wrap(diag.Internal, err, "autocast: converting the weights of %s to %s", dsl.LayerString(c), DescribePrecision(dt))
		}
		b.changed = true
		return dsl.NewWeights(t), true, nil
	}
	type kernelBias interface {
		KernelWeights() dsl.Weights
		SetKernelWeights(dsl.Weights)
		BiasWeights() dsl.Weights
		SetBiasWeights(dsl.Weights)
	}
	var err error
	set := func(get func() dsl.Weights, put func(dsl.Weights)) {
		if err != nil {
			return
		}
		w, ok, e := conv(get())
		if err = e; ok {
			put(w)
		}
	}
	switch l := c.(type) {
	case *dsl.ConstantLayer:
		set(l.Weights, l.SetWeights)
	case *dsl.ScaleLayer:
		set(l.Shift, l.SetShift)
		set(l.Scale, l.SetScale)
		set(l.Power, l.SetPower)
	case kernelBias: // Convolution, Deconvolution
		set(l.KernelWeights, l.SetKernelWeights)
		set(l.BiasWeights, l.SetBiasWeights)
	}
	return err
}

// decide records the decision for a layer with a float output.
func (b *builder) decide(src, c dsl.Layer, p *plan, ct dsl.DataType, reason string) {
	out, ok := floatOutput(c)
	if !ok {
		return
	}
	var d ir.PrecisionDecision
	switch {
	case p.fixed: // compute layers, plugins, constants, overrides, declared half
		d = ir.PrecisionDecision{Type: p.typ, Reason: p.reason}
	case p.class == classFollow && len(p.group) > 0:
		d = ir.PrecisionDecision{Type: ct, Reason: reason}
	case src.Type() == dsl.LayerCast:
		d = ir.PrecisionDecision{Type: out, Reason: "explicit cast"}
	case src.Type() == dsl.LayerQuantize || src.Type() == dsl.LayerDequantize || src.Type() == dsl.LayerDynamicQuantize:
		d = ir.PrecisionDecision{Type: out, Reason: "Q/DQ layers keep their explicit types"}
	case src.Type() == dsl.LayerFill:
		d = ir.PrecisionDecision{Type: out, Reason: "fill keeps its declared type"}
	default:
		d = ir.PrecisionDecision{Type: out, Reason: "declared " + DescribePrecision(out)}
	}
	b.decisions[src.Name()] = d
}

// outputs casts every network output back to its declared type. The half
// tensor inside gets a name of its own, so the binding's name stays unique.
func (b *builder) outputs() {
	for _, o := range b.r.Src.Outputs() {
		m := b.r.Map(o)
		if m == nil || m.Type() == o.Type() {
			continue
		}
		c := b.cast(m, o.Type())
		if m.Name() == o.Name() {
			m.SetName(fmt.Sprintf("%s (%s)", o.Name(), DescribePrecision(m.Type())))
		}
		b.r.Alias(o, c)
	}
}

// connectedFusions drops fusions that inserted casts split: every member
// after the first must read an output of an earlier member (ir.Check).
func connectedFusions(fs []ir.Fusion) []ir.Fusion {
	var out []ir.Fusion
next:
	for _, f := range fs {
		produced := map[*dsl.Tensor]bool{}
		for k, l := range f.Layers {
			if k > 0 {
				reads := false
				for i := 0; i < l.NbInputs(); i++ {
					reads = reads || produced[l.Input(i)]
				}
				if !reads {
					continue next
				}
			}
			for i := 0; i < l.NbOutputs(); i++ {
				produced[l.Output(i)] = true
			}
		}
		out = append(out, f)
	}
	return out
}
