package cuda

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target"
)

// Loops and conditionals on the GPU. An outermost loop or conditional
// whose parts lower becomes a device-region step: its body (and a While
// loop's condition), or each branch of a conditional, is a network of its
// own — the region's layers copied, with the tensors the region reads
// from outside, the recurrences' states and the iterators' slices as
// inputs — built by the CUDA target into an engine of its own, stored as
// a section of this one. At run time the step reads back only what
// decides control flow (the trip count once, a While condition or a
// branch condition when it is needed), runs the parts' engines on its
// context's stream with their inputs bound to device memory in place
// (recurrences in two device buffers that swap, iterators along axis 0
// as slices of their input in place, along another axis copied out), and
// copies their outputs into the region's outputs (a
// concatenated loop output slot by slot). Nested regions are regions of
// the parts' engines, device regions where they lower.
//
// A region stays on the host (region.go) where a tensor of the region
// other than a loop or conditional output is read after it, or where a
// part does not build for the CUDA target; the build summary names the
// reason.
const kindDeviceRegion = "device-region"

// binding is what feeds an input of a part: a tensor of the parent
// network, read in place, or the current state of recurrence rec, or the
// current slice of iterator iter (indices into the region's lists; -1:
// none).
type binding struct {
	parent    *dsl.Tensor
	rec, iter int
}

// subNet is one part of a device region: a network whose input k
// ("in<k>") is ins[k] and whose output k ("out<k>") is the value of the
// parent's tensor outs[k].
type subNet struct {
	net  *dsl.Network
	ins  []binding
	outs []*dsl.Tensor
}

// regionParts is how a region runs on the GPU: for a loop its boundary
// layers, its body and (for a While loop) condition; for a conditional
// its condition, outputs and two branches.
type regionParts struct {
	name string
	// A loop. The body's outputs are the recurrences' next values, in
	// order, then the values the Concatenate and Reverse outputs stack,
	// in order of outs (contrib: their body output, -1 for LastValue).
	count, while *dsl.TripLimitLayer
	recs         []*dsl.RecurrenceLayer
	iters        []*dsl.IteratorLayer
	outs         []*dsl.LoopOutputLayer
	contrib      []int
	body, cond   *subNet
	// A conditional: branch 0 (true) and 1 (false) each compute every
	// output's input of that side.
	condition *dsl.Tensor
	couts     []*dsl.ConditionalOutputLayer
	branches  [2]*subNet
}

// parts are the sub-networks in the order of their sections.
func (p *regionParts) parts() []*subNet {
	if p.condition != nil {
		return p.branches[:]
	}
	if p.cond != nil {
		return []*subNet{p.body, p.cond}
	}
	return []*subNet{p.body}
}

// regionPartsOf splits outermost region r (rg its inputs and outputs)
// into the parts it runs on the GPU, or says why it cannot.
func regionPartsOf(layers []dsl.Layer, r dsl.Region, rg *region) (*regionParts, string) {
	p := &regionParts{name: r.Name()}
	exits := map[*dsl.Tensor]bool{}
	for _, l := range r.Boundary {
		if l.Type() == dsl.LayerLoopOutput || l.Type() == dsl.LayerConditionalOutput {
			exits[l.Output(0)] = true
		}
	}
	for _, t := range rg.outs {
		if !exits[t] {
			return nil, fmt.Sprintf("%q, which is no output of the region, is read after it", t.Name())
		}
	}
	order := map[dsl.Layer]int{}
	for i, l := range layers {
		order[l] = i
	}
	sorted := func(ls []dsl.Layer) []dsl.Layer {
		out := slices.Clone(ls)
		slices.SortFunc(out, func(a, b dsl.Layer) int { return order[a] - order[b] })
		return out
	}
	bound := map[*dsl.Tensor]binding{}
	var err error
	if r.IfConditional != nil {
		for _, l := range r.Boundary {
			switch l := l.(type) {
			case *dsl.ConditionLayer:
				p.condition = l.Input(0)
			case *dsl.ConditionalInputLayer:
				bound[l.Output(0)] = binding{parent: l.Input(0), rec: -1, iter: -1}
			case *dsl.ConditionalOutputLayer:
				p.couts = append(p.couts, l)
			}
		}
		for side, branch := range [][]dsl.Layer{r.TrueBranch, r.FalseBranch} {
			var outs []*dsl.Tensor
			for _, o := range p.couts {
				outs = append(outs, o.Input(side))
			}
			if p.branches[side], err = buildSubNet(sorted(branch), bound, outs); err != nil {
				return nil, err.Error()
			}
		}
		return p, ""
	}
	for _, l := range r.Boundary {
		switch l := l.(type) {
		case *dsl.TripLimitLayer:
			if l.TripLimit() == dsl.TripLimitWhile {
				p.while = l
			} else {
				p.count = l
			}
		case *dsl.RecurrenceLayer:
			bound[l.Output(0)] = binding{rec: len(p.recs), iter: -1}
			p.recs = append(p.recs, l)
		case *dsl.IteratorLayer:
			bound[l.Output(0)] = binding{rec: -1, iter: len(p.iters)}
			p.iters = append(p.iters, l)
		case *dsl.LoopOutputLayer:
			p.outs = append(p.outs, l)
		}
	}
	var outs []*dsl.Tensor
	for _, rc := range p.recs {
		outs = append(outs, rc.Input(1))
	}
	for _, o := range p.outs {
		if o.LoopOutput() == dsl.LoopOutputLastValue {
			p.contrib = append(p.contrib, -1)
			continue
		}
		p.contrib = append(p.contrib, len(outs))
		outs = append(outs, o.Input(0))
	}
	if p.body, err = buildSubNet(sorted(r.Body), bound, outs); err != nil {
		return nil, err.Error()
	}
	if p.while != nil {
		if p.cond, err = buildSubNet(sorted(ancestorsIn(p.while.Input(0), r.Body)), bound, []*dsl.Tensor{p.while.Input(0)}); err != nil {
			return nil, err.Error()
		}
	}
	return p, ""
}

// ancestorsIn are the layers of set that t depends on.
func ancestorsIn(t *dsl.Tensor, set []dsl.Layer) []dsl.Layer {
	in := map[dsl.Layer]bool{}
	for _, l := range set {
		in[l] = true
	}
	seen := map[dsl.Layer]bool{}
	var out []dsl.Layer
	var visit func(t *dsl.Tensor)
	visit = func(t *dsl.Tensor) {
		l, _ := t.Producer()
		if l == nil || !in[l] || seen[l] {
			return
		}
		seen[l] = true
		out = append(out, l)
		for j := 0; j < l.NbInputs(); j++ {
			if u := l.Input(j); u != nil {
				visit(u)
			}
		}
	}
	visit(t)
	return out
}

// buildSubNet copies members (in network order) into a network of their
// own: each tensor they read from outside becomes an input (bound says
// what feeds the region's recurrences, iterators and conditional inputs;
// any other is the parent's tensor itself; constants and values known at
// build time are copied in), and outs its outputs.
func buildSubNet(members []dsl.Layer, bound map[*dsl.Tensor]binding, outs []*dsl.Tensor) (*subNet, error) {
	net := dsl.NewNetwork()
	s := &subNet{net: net, outs: outs}
	produced := map[*dsl.Tensor]bool{}
	for _, l := range members {
		for j := 0; j < l.NbOutputs(); j++ {
			produced[l.Output(j)] = true
		}
	}
	m := map[*dsl.Tensor]*dsl.Tensor{}
	input := func(t *dsl.Tensor) *dsl.Tensor {
		if mt, ok := m[t]; ok {
			return mt
		}
		b, ok := bound[t]
		if !ok {
			if heldByHostNetwork(t) {
				m[t] = hostNetworkInput(net, t, 0, nil)
				return m[t]
			}
			b = binding{parent: t, rec: -1, iter: -1}
		}
		m[t] = net.AddInput(fmt.Sprintf("in%d", len(s.ins)), t.Type(), t.Dims())
		s.ins = append(s.ins, b)
		return m[t]
	}
	type pending struct {
		c   dsl.Layer
		j   int
		src *dsl.Tensor
	}
	var later []pending
	for _, l := range members {
		in := make([]*dsl.Tensor, l.NbInputs())
		var mine []pending
		for j := range in {
			t := l.Input(j)
			switch {
			case t == nil:
			case produced[t] && m[t] == nil:
				mine = append(mine, pending{j: j, src: t}) // a nested recurrence's next value
			default:
				in[j] = input(t)
			}
		}
		c := net.CopyLayer(l, in)
		if c == nil {
			return nil, net.Err()
		}
		for _, p := range mine {
			p.c = c
			later = append(later, p)
		}
		for j := 0; j < l.NbOutputs(); j++ {
			m[l.Output(j)] = c.Output(j)
		}
	}
	for _, p := range later {
		p.c.SetInput(p.j, m[p.src])
	}
	for k, t := range outs {
		o := input(t)
		if p, _ := o.Producer(); o.IsNetworkInput() || o.IsNetworkOutput() || p != nil && p.Type() == dsl.LayerConstant {
			o = net.AddIdentity(o).Output(0) // an input or constant passed through, or one value twice
		}
		o.SetName(fmt.Sprintf("out%d", k))
		net.MarkOutput(o)
	}
	return s, net.Err()
}

// outermostRegions are the network's outermost loops and conditionals
// by the step of their last layer, as lowerRegions makes them steps.
func outermostRegions(net *dsl.Network, layers []dsl.Layer) map[int]dsl.Region {
	index, _ := stepsOf(layers)
	out := map[int]dsl.Region{}
	for _, r := range outermost(net.Regions()) {
		m := regionMembers(index, r)
		out[m[len(m)-1]] = r
	}
	return out
}

// regionSection names part k of the device region at step i.
func regionSection(i, k int) string { return fmt.Sprintf("cuda.region.%d.%d", i, k) }

// lowerDeviceRegions builds the parts of each region step of p that runs
// on the GPU into sections of b; the others stay host steps, their Why
// saying what kept them there. dims are the parent's at its first
// profile's opt shapes (the parts are tuned there where they resolve).
func lowerDeviceRegions(net *dsl.Network, layers []dsl.Layer, p *plan, b *target.Build, dims map[*dsl.Tensor][]int64) {
	regions := outermostRegions(net, layers)
	for i := range p.Steps {
		s := &p.Steps[i]
		if len(s.Region) == 0 {
			continue
		}
		r, ok := regions[i]
		if !ok {
			continue
		}
		parts, why := regionPartsOf(layers, r, regionOf(layers, s.Region))
		var sections [][]byte
		if parts != nil {
			for _, sn := range parts.parts() {
				data, err := buildPart(sn, b, parts, dims)
				if err != nil {
					why = err.Error()
					break
				}
				sections = append(sections, data)
			}
		}
		if why != "" {
			s.Why += "; not on the GPU: " + why
			continue
		}
		for k, data := range sections {
			b.AddSection(regionSection(i, k), "cuda-region", data)
		}
		s.Kind, s.Why = kindDeviceRegion, ""
	}
}

// buildPart lowers one part for b's device, with a static profile of the
// parent's dims where they resolve, and encodes its sections.
func buildPart(sn *subNet, b *target.Build, parts *regionParts, dims map[*dsl.Tensor][]int64) ([]byte, error) {
	sb := &target.Build{Options: b.Options, Device: b.Device, WorkspaceLimit: b.WorkspaceLimit, TimingCache: b.TimingCache}
	var prof target.Profile
	for k, bd := range sn.ins {
		t := bd.parent
		switch {
		case bd.rec >= 0:
			t = parts.recs[bd.rec].Input(0)
		case bd.iter >= 0:
			t = parts.iters[bd.iter].Output(0)
		}
		if d, ok := dims[t]; ok {
			prof.Inputs = append(prof.Inputs, target.ShapeRange{Input: fmt.Sprintf("in%d", k), Min: d, Opt: d, Max: d})
		}
	}
	if len(prof.Inputs) > 0 {
		sb.Profiles = []target.Profile{prof}
	}
	if err := (cudaTarget{}).Lower(ir.New(sn.net), sb); err != nil {
		return nil, err
	}
	for _, w := range sb.Warnings {
		b.Warnings = append(b.Warnings, fmt.Sprintf("in %q: %s", parts.name, w))
	}
	return encodeSections(sb.Metadata, sb.Sections)
}

// encodeSections writes a part's metadata (JSON) and sections: a
// uvarint length before each string and byte slice.
func encodeSections(meta map[string]string, ss []target.Section) ([]byte, error) {
	mb, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	out := binary.AppendUvarint(nil, uint64(len(mb)))
	out = append(out, mb...)
	out = binary.AppendUvarint(out, uint64(len(ss)))
	for _, s := range ss {
		for _, f := range [][]byte{[]byte(s.Name), []byte(s.Kind), s.Data} {
			out = binary.AppendUvarint(out, uint64(len(f)))
			out = append(out, f...)
		}
	}
	return out, nil
}

// partSections are a part's sections, decoded from its section of the
// parent engine.
type partSections struct {
	name     string
	meta     map[string]string
	sections map[string][]byte
}

func (p *partSections) Section(name string) ([]byte, error) {
	b, ok := p.sections[name]
	if !ok {
		return nil, diag.Errorf(diag.EngineCorrupt, "%s has no section %q", p.name, name)
	}
	return b, nil
}
func (p *partSections) Metadata() map[string]string { return p.meta }
func (p *partSections) Name() string                { return p.name }

func decodeSections(name string, b []byte) (*partSections, error) {
	corrupt := diag.Errorf(diag.EngineCorrupt, "%s does not decode", name)
	next := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		f := b[k : k+int(n)]
		b = b[k+int(n):]
		return f, true
	}
	mb, ok := next()
	if !ok {
		return nil, corrupt
	}
	p := &partSections{name: name, sections: map[string][]byte{}}
	if err := json.Unmarshal(mb, &p.meta); err != nil {
		return nil, corrupt
	}
	count, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, corrupt
	}
	b = b[k:]
	for range count {
		n, ok1 := next()
		_, ok2 := next()
		d, ok3 := next()
		if !ok1 || !ok2 || !ok3 {
			return nil, corrupt
		}
		p.sections[string(n)] = d
	}
	if len(b) != 0 {
		return nil, corrupt
	}
	return p, nil
}

// deviceRegion is a loaded device region: its parts and their engines.
type deviceRegion struct {
	parts *regionParts
	execs []*executable
}

// loadDeviceRegions loads the parts of every device-region step.
func (x *executable) loadDeviceRegions(s target.Sections) error {
	regions := outermostRegions(x.net, x.layers)
	for i, st := range x.plan.Steps {
		if st.Kind != kindDeviceRegion {
			continue
		}
		r, ok := regions[i]
		if !ok {
			return diag.Errorf(diag.EngineCorrupt, "%s: device-region step %d is no region's", s.Name(), i)
		}
		parts, why := regionPartsOf(x.layers, r, x.regions[i])
		if parts == nil {
			return diag.Errorf(diag.EngineCorrupt, "%s: the region %q of step %d does not split into parts: %s", s.Name(), r.Name(), i, why)
		}
		dr := &deviceRegion{parts: parts}
		x.devRegions[i] = dr
		for k, sn := range parts.parts() {
			data, err := s.Section(regionSection(i, k))
			if err != nil {
				return err
			}
			ps, err := decodeSections(fmt.Sprintf("%s (part %d of %q)", s.Name(), k, r.Name()), data)
			if err != nil {
				return err
			}
			sub, err := load(ps, x.dev)
			if err != nil {
				return err
			}
			dr.execs = append(dr.execs, sub)
			ins, outs := sub.net.Inputs(), sub.net.Outputs()
			if len(ins) != len(sn.ins) || len(outs) != len(sn.outs) {
				return diag.Errorf(diag.EngineCorrupt, "%s: part %d of %q has %d inputs and %d outputs, the region %d and %d", s.Name(), k, r.Name(), len(ins), len(outs), len(sn.ins), len(sn.outs))
			}
			for j, t := range ins {
				if t.Name() != fmt.Sprintf("in%d", j) {
					return diag.Errorf(diag.EngineCorrupt, "%s: input %d of part %d of %q is %q", s.Name(), j, k, r.Name(), t.Name())
				}
			}
			for j, t := range outs {
				if t.Name() != fmt.Sprintf("out%d", j) {
					return diag.Errorf(diag.EngineCorrupt, "%s: output %d of part %d of %q is %q", s.Name(), j, k, r.Name(), t.Name())
				}
			}
		}
	}
	return nil
}
