package autocast

import (
	"fmt"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// plan is what autocast decided about one layer of the source network
// before rebuilding it.
type plan struct {
	rule  rule
	class class
	// group holds the float inputs that take the compute type; empty for
	// layers that keep every input's declared type.
	group []int
	// region is "loop" or "conditional" for layers inside one.
	region string
	// declared marks a float computation whose inputs are not float32 in
	// the source (a layer the user already wrote in half): it keeps them.
	declared bool
	// typ and reason are the decision when it is known before the rebuild
	// (fixed); follow layers learn theirs from the types that arrive.
	typ    dsl.DataType
	fixed  bool
	reason string
	// convert marks a constant whose weights become typ at build time.
	convert bool
}

func (p *plan) inGroup(i int) bool { return slices.Contains(p.group, i) }

// planner decides every layer's compute type on the source network.
type planner struct {
	net       *dsl.Network
	o         ir.Options
	plans     map[dsl.Layer]*plan
	consumers map[*dsl.Tensor][]use
	demands   map[*dsl.Tensor]map[dsl.DataType]bool
	// arrive predicts the type each tensor will have in the rebuilt
	// network; a tensor missing from it is flexible: it comes from a
	// float32 constant (possibly through data movement) whose type is
	// decided by its readers.
	arrive map[*dsl.Tensor]dsl.DataType
}

// use is one input of a layer.
type use struct {
	l dsl.Layer
	i int
}

func requested(dt dsl.DataType) string { return DescribePrecision(dt) + " requested" }

// regionOf maps every layer inside a loop or conditional (boundary, body
// and dead layers, nested regions included) to "loop" or "conditional"; a
// layer inside both says loop.
func regionOf(net *dsl.Network) map[dsl.Layer]string {
	m := map[dsl.Layer]string{}
	for _, r := range net.Regions() {
		kind := "conditional"
		if r.Loop != nil {
			kind = "loop"
		}
		for _, set := range [][]dsl.Layer{r.Boundary, r.Body, r.Dead} {
			for _, l := range set {
				if m[l] != "loop" {
					m[l] = kind
				}
			}
		}
	}
	return m
}

// makePlans decides each layer's type statically (compute layers,
// plugins, overrides), predicts the type every tensor will arrive in, and
// from that decides the constants. Data-movement layers are decided during
// the rebuild from the types that actually arrive; the prediction only
// lets constants pick the type their readers will want.
func makePlans(net *dsl.Network, topo []dsl.Layer, o ir.Options) (map[dsl.Layer]*plan, error) {
	pl := &planner{net: net, o: o, plans: map[dsl.Layer]*plan{}, consumers: map[*dsl.Tensor][]use{},
		demands: map[*dsl.Tensor]map[dsl.DataType]bool{}, arrive: map[*dsl.Tensor]dsl.DataType{}}
	regions := regionOf(net)
	overridden := map[string]bool{}
	for _, l := range topo {
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				pl.consumers[t] = append(pl.consumers[t], use{l, i})
			}
		}
		r := ruleOf(l)
		p := &plan{rule: r, class: r.class, group: floatGroup(l, r), region: regions[l]}
		pl.plans[l] = p
		if p.region != "" {
			p.class, p.group = classExplicit, nil
		}
		ov, has := o.LayerPrecisions[l.Name()]
		if has {
			overridden[l.Name()] = true
			if err := pl.override(l, p, ov); err != nil {
				return nil, err
			}
			continue
		}
		pl.decide(l, p)
	}
	names := make([]string, 0, len(o.LayerPrecisions))
	for name := range o.LayerPrecisions {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !overridden[name] {
			e := diag.Errorf(diag.InvalidArgument, "autocast: a layer precision override names %q, which is not a layer of network %q", name, net.Name())
			e.Layer = name
			return nil, e
		}
	}
	for _, in := range net.Inputs() {
		pl.arrive[in] = in.Type()
	}
	for _, l := range topo {
		pl.predict(l, pl.plans[l])
	}
	for _, l := range topo {
		if p := pl.plans[l]; p.class == classConstant && !p.fixed {
			pl.decideConstant(l.(*dsl.ConstantLayer), p)
		}
	}
	return pl.plans, nil
}

// override applies o.LayerPrecisions to one layer, or says why it cannot.
func (pl *planner) override(l dsl.Layer, p *plan, dt dsl.DataType) error {
	fail := func(format string, args ...any) error {
		e := diag.Errorf(diag.InvalidArgument, "autocast: layer precision override for %s: %s", dsl.LayerString(l), fmt.Sprintf(format, args...))
		e.Layer, e.Op, e.Index = l.Name(), l.Type().String(), l.Index()
		return e
	}
	if !isFloat(dt) {
		return fail("%v is not a float compute type (want fp32, fp16 or bf16)", dt)
	}
	switch {
	case p.region != "":
		return fail("the layer is inside a %s, where every layer keeps its declared type", p.region)
	case p.class == classConstant:
		if w := l.(*dsl.ConstantLayer).Weights(); w.IsEmpty() || !isFloat(w.Type()) {
			return fail("the constant holds %v weights, not floats", w.Type())
		}
		p.convert = l.(*dsl.ConstantLayer).Weights().Type() != dt
	case p.class == classExplicit || p.class == classAny:
		return fail("%v layers carry their own types", l.Type())
	case len(p.group) == 0:
		return fail("the layer computes no float values")
	case !allows(p.rule, dt):
		return fail("%v layers have no %s kernel", l.Type(), DescribePrecision(dt))
	case p.class == classPlugin && !pluginAccepts(l.(*dsl.PluginLayer), p.group, dt):
		return fail("%s does not accept %s inputs", dsl.PluginID(l.(*dsl.PluginLayer).Plugin()), DescribePrecision(dt))
	}
	p.typ, p.fixed, p.reason = dt, true, "override from config"
	return nil
}

// decide fixes the type of compute and plugin layers.
func (pl *planner) decide(l dsl.Layer, p *plan) {
	if p.class != classCompute && p.class != classPlugin {
		return
	}
	if len(p.group) == 0 {
		p.class = classExplicit // an integer computation
		return
	}
	for _, i := range p.group {
		if dt := l.Input(i).Type(); dt != dsl.Float32 {
			p.declared, p.group, p.class = true, nil, classExplicit
			p.typ, p.fixed, p.reason = dt, true, "declared "+DescribePrecision(dt)
			return
		}
	}
	c := pl.o.Compute
	p.fixed = true
	switch {
	case c == dsl.Float32:
		p.typ, p.reason = dsl.Float32, fp32Reason(l, pl.o)
	case p.rule.keep != nil && p.rule.keep(l) != "":
		p.typ, p.reason = dsl.Float32, p.rule.keep(l)
	case !allows(p.rule, c):
		p.typ, p.reason = dsl.Float32, fmt.Sprintf("%v has no %s kernel; kept in fp32", l.Type(), DescribePrecision(c))
	case p.class == classPlugin && !pluginAccepts(l.(*dsl.PluginLayer), p.group, c):
		p.typ, p.reason = dsl.Float32, fmt.Sprintf("%s does not accept %s; kept in fp32", dsl.PluginID(l.(*dsl.PluginLayer).Plugin()), DescribePrecision(c))
	default:
		p.typ, p.reason = c, requested(c)
	}
}

// fp32Reason explains a float32 decision for a layer nothing kept in fp32.
func fp32Reason(l dsl.Layer, o ir.Options) string {
	if o.TF32 {
		switch l.Type() {
		case dsl.LayerMatrixMultiply, dsl.LayerConvolution, dsl.LayerDeconvolution:
			return "fp32 with TF32 tensor cores"
		}
	}
	return "fp32 requested"
}

// pluginAccepts asks a plugin whether it takes dt on its float data
// inputs; an error (or a panic in user code) means no.
func pluginAccepts(l *dsl.PluginLayer, group []int, dt dsl.DataType) (ok bool) {
	p := l.Plugin()
	if p == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	types := make([]dsl.DataType, l.NbInputs())
	for i := range types {
		types[i] = l.Input(i).Type()
	}
	for _, i := range group {
		types[i] = dt
	}
	_, err := p.OutputTypes(types)
	return err == nil
}

// predict records the types l's outputs will have: compute layers turn
// their float32 outputs into their compute type; data movement takes the
// type its non-flexible inputs agree on (float32 when they disagree) and
// is flexible itself when every float input is; float32 constants are
// flexible; everything else keeps its declared types.
func (pl *planner) predict(l dsl.Layer, p *plan) {
	set := func(dt dsl.DataType) {
		for i := 0; i < l.NbOutputs(); i++ {
			o := l.Output(i)
			if isFloat(o.Type()) && o.Type() == dsl.Float32 {
				pl.arrive[o] = dt
			} else {
				pl.arrive[o] = o.Type()
			}
		}
	}
	switch {
	case p.class == classConstant && !p.fixed:
		if l.Output(0).Type() != dsl.Float32 {
			set(l.Output(0).Type())
		}
		return // flexible
	case p.fixed:
		set(p.typ)
		return
	case p.class != classFollow || len(p.group) == 0:
		set(dsl.Float32)
		return
	}
	var dt dsl.DataType
	known := false
	for _, i := range p.group {
		a, ok := pl.arrive[l.Input(i)]
		switch {
		case !ok:
		case !known:
			dt, known = a, true
		case a != dt:
			dt = dsl.Float32
		}
	}
	if !known {
		for i := 0; i < l.NbOutputs(); i++ {
			if o := l.Output(i); !isFloat(o.Type()) {
				pl.arrive[o] = o.Type()
			}
		}
		return // flexible: every float input is
	}
	if !allows(p.rule, dt) {
		dt = dsl.Float32
	}
	set(dt)
}

// decideConstant converts a float32 constant when every reader wants it
// in one half type; otherwise it stays and readers that want half share
// one cast.
func (pl *planner) decideConstant(l *dsl.ConstantLayer, p *plan) {
	w := l.Weights()
	if w.IsEmpty() || !isFloat(w.Type()) {
		p.class = classExplicit
		return
	}
	p.typ, p.fixed, p.reason = w.Type(), true, "follows its consumers"
	if w.Type() != dsl.Float32 {
		p.reason = "declared " + DescribePrecision(w.Type())
		return
	}
	d := pl.demand(l.Output(0))
	if len(d) != 1 {
		return
	}
	for dt := range d {
		if isHalf(dt) {
			p.typ, p.convert = dt, true
			p.reason = "converted to " + DescribePrecision(dt) + " at build time for its consumers"
		}
	}
}

// predicted reports whether a follow layer's type is predicted (it is not
// flexible), followType what it is.
func (pl *planner) predicted(l dsl.Layer) bool {
	_, ok := pl.arrive[firstFloat(l)]
	return ok
}

func (pl *planner) followType(l dsl.Layer) dsl.DataType { return pl.arrive[firstFloat(l)] }

// firstFloat returns l's first float output, or nil.
func firstFloat(l dsl.Layer) *dsl.Tensor {
	for i := 0; i < l.NbOutputs(); i++ {
		if o := l.Output(i); isFloat(o.Type()) {
			return o
		}
	}
	return nil
}

// demand is the set of types t's readers want it in: compute layers their
// compute type, follow layers what their own readers want, everything
// else (and the network output binding) t's declared type. Layers that
// take any type (Shape, Cast) want nothing.
func (pl *planner) demand(t *dsl.Tensor) map[dsl.DataType]bool {
	if d, ok := pl.demands[t]; ok {
		return d
	}
	d := map[dsl.DataType]bool{}
	pl.demands[t] = d // a cycle (never outside regions) sees an empty set
	if t.IsNetworkOutput() {
		d[t.Type()] = true
	}
	for _, u := range pl.consumers[t] {
		p := pl.plans[u.l]
		switch {
		case p.class == classAny:
		case !p.inGroup(u.i):
			d[t.Type()] = true
		case p.fixed:
			d[p.typ] = true
		case p.class == classFollow && pl.predicted(u.l):
			d[pl.followType(u.l)] = true
		case p.class == classFollow:
			for o := 0; o < u.l.NbOutputs(); o++ {
				if out := u.l.Output(o); isFloat(out.Type()) {
					for dt := range pl.demand(out) {
						d[dt] = true
					}
				}
			}
		default:
			d[t.Type()] = true
		}
	}
	return d
}
