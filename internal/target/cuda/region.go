package cuda

import (
	"fmt"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
)

// Loops and conditionals: each outermost one is one step, at the place of
// its last layer; its other layers are steps that do nothing
// (kindInRegion). Where its parts lower it runs on the GPU as a device
// region (devregion.go); else it is a host step that reads the tensors its
// layers read from outside it back from the GPU, runs the region (nested
// ones included) on the CPU engine as a network of its own, and writes the
// tensors read after it to the GPU. A device region whose outputs' dims
// depend on data runs the host way at its phase boundary.

// kindInRegion is a layer of a loop or conditional that its region's
// host step computes (Into).
const kindInRegion = "region"

// region is one outermost loop or conditional of a plan: its layers'
// steps (Region, ascending, the host step last), the tensors its layers
// read from outside it, and those read after it (or network outputs).
type region struct {
	members []int
	ins     []*dsl.Tensor
	outs    []*dsl.Tensor
}

// lowerRegions makes every outermost loop and conditional of the network
// one host step, or says why one cannot be.
func lowerRegions(net *dsl.Network, layers []dsl.Layer, kinds []string, steps []step) error {
	index, consumers := stepsOf(layers)
	for _, r := range outermost(net.Regions()) {
		members := regionMembers(index, r)
		last := members[len(members)-1]
		rg := regionOf(layers, members)
		for _, t := range rg.outs {
			for _, i := range consumers[t] {
				if !slices.Contains(members, i) && i < last {
					return &diag.Error{Code: diag.UnsupportedNode, Layer: layers[last].Name(), Op: layers[last].Type().String(), Index: layers[last].Index(),
						Msg: fmt.Sprintf("%s reads %q of %s before the region's last layer; build for --target cpu", dsl.LayerString(layers[i]), t.Name(), r.Name())}
				}
			}
		}
		for _, i := range members {
			steps[i] = step{Layer: i, Kind: kindInRegion, Into: last}
			kinds[i] = kindInRegion
		}
		what := "loop"
		if r.IfConditional != nil {
			what = "conditional"
		}
		steps[last] = step{Layer: last, Kind: kindHost, Region: members,
			Why: fmt.Sprintf("the %s %q runs on the host with the CPU engine (%d layers)", what, r.Name(), len(members))}
		kinds[last] = kindHost
	}
	return nil
}

// outermost are the regions that are not nested in another (a nested one
// runs within its outermost region's step).
func outermost(regions []dsl.Region) []dsl.Region {
	inner := map[dsl.Layer]bool{} // layers of a region's body, nested regions' included
	for _, r := range regions {
		for _, l := range r.Body {
			inner[l] = true
		}
	}
	var out []dsl.Region
	for _, r := range regions {
		if len(r.Boundary) > 0 && !inner[r.Boundary[0]] {
			out = append(out, r)
		}
	}
	return out
}

// regionMembers are the steps of region r's layers (its boundary, body
// and dead layers), ascending.
func regionMembers(index map[dsl.Layer]int, r dsl.Region) []int {
	var members []int
	for _, set := range [][]dsl.Layer{r.Boundary, r.Body, r.Dead} {
		for _, l := range set {
			members = append(members, index[l])
		}
	}
	slices.Sort(members)
	return slices.Compact(members)
}

// regionOf works out a region's inputs and outputs from its members.
func regionOf(layers []dsl.Layer, members []int) *region {
	in := map[dsl.Layer]bool{}
	for _, i := range members {
		in[layers[i]] = true
	}
	rg := &region{members: members}
	produced := map[*dsl.Tensor]bool{}
	for _, i := range members {
		for j := 0; j < layers[i].NbOutputs(); j++ {
			produced[layers[i].Output(j)] = true
		}
	}
	seen := map[*dsl.Tensor]bool{}
	for _, i := range members {
		l := layers[i]
		for j := 0; j < l.NbInputs(); j++ {
			if t := l.Input(j); t != nil && !produced[t] && !seen[t] {
				seen[t] = true
				rg.ins = append(rg.ins, t)
			}
		}
	}
	readOutside := map[*dsl.Tensor]bool{}
	for _, l := range layers {
		if in[l] {
			continue
		}
		for j := 0; j < l.NbInputs(); j++ {
			if t := l.Input(j); t != nil && produced[t] {
				readOutside[t] = true
			}
		}
	}
	for _, i := range members {
		for j := 0; j < layers[i].NbOutputs(); j++ {
			if t := layers[i].Output(j); readOutside[t] || t.IsNetworkOutput() {
				rg.outs = append(rg.outs, t)
			}
		}
	}
	return rg
}

// regionsOfPlan are the plan's regions by host step.
func regionsOfPlan(layers []dsl.Layer, p *plan) map[int]*region {
	out := map[int]*region{}
	for i, s := range p.Steps {
		if len(s.Region) > 0 {
			out[i] = regionOf(layers, s.Region)
		}
	}
	return out
}

// regionEngine makes the host network of a region, inputs of the planned
// dims named in0, in1, ... in the order of rg.ins (constants and values
// known at build time stay in the network) and outputs out0, out1, ...
func regionEngine(layers []dsl.Layer, rg *region, d map[*dsl.Tensor][]int64) (*cpueng.Engine, error) {
	net := dsl.NewNetwork()
	m := map[*dsl.Tensor]*dsl.Tensor{}
	for k, t := range rg.ins {
		m[t] = hostNetworkInput(net, t, k, d)
	}
	type pending struct {
		c   dsl.Layer
		j   int
		src *dsl.Tensor
	}
	var later []pending
	for _, i := range rg.members {
		l := layers[i]
		in := make([]*dsl.Tensor, l.NbInputs())
		for j := range in {
			t := l.Input(j)
			if t == nil {
				continue
			}
			if mt, ok := m[t]; ok {
				in[j] = mt
			} else {
				later = append(later, pending{j: j, src: t}) // a recurrence's next value
			}
		}
		c := net.CopyLayer(l, in)
		if c == nil {
			return nil, net.Err()
		}
		for k := len(later) - 1; k >= 0 && later[k].c == nil; k-- {
			later[k].c = c
		}
		for j := 0; j < l.NbOutputs(); j++ {
			m[l.Output(j)] = c.Output(j)
		}
	}
	for _, p := range later {
		t, ok := m[p.src]
		if !ok {
			return nil, diag.Errorf(diag.Internal, "the host network of a region: input %d of %s (%q) is never produced", p.j, dsl.LayerString(p.c), p.src.Name())
		}
		p.c.SetInput(p.j, t)
	}
	for k, t := range rg.outs {
		o := m[t]
		if o.IsNetworkInput() || o.IsNetworkOutput() {
			o = net.AddIdentity(o).Output(0)
		}
		o.SetName(fmt.Sprintf("out%d", k))
		net.MarkOutput(o)
	}
	if err := net.Err(); err != nil {
		return nil, err
	}
	return cpueng.New(net)
}

// hostInputs are the tensors host step i reads: its layer's inputs (nil
// where unset), or its region's.
func (x *executable) hostInputs(i int) []*dsl.Tensor {
	if rg := x.regions[i]; rg != nil {
		return rg.ins
	}
	l := x.layers[i]
	ins := make([]*dsl.Tensor, l.NbInputs())
	for j := range ins {
		ins[j] = l.Input(j)
	}
	return ins
}

// hostOutputs are the tensors host step i writes: its layer's outputs, or
// its region's.
func (x *executable) hostOutputs(i int) []*dsl.Tensor {
	if rg := x.regions[i]; rg != nil {
		return rg.outs
	}
	l := x.layers[i]
	outs := make([]*dsl.Tensor, l.NbOutputs())
	for j := range outs {
		outs[j] = l.Output(j)
	}
	return outs
}

// hostEngineOf is the CPU engine of host step i at dims d.
func (x *executable) hostEngineOf(i int, d map[*dsl.Tensor][]int64) (*cpueng.Engine, error) {
	if rg := x.regions[i]; rg != nil {
		return regionEngine(x.layers, rg, d)
	}
	return hostEngine(x.layers[i], d)
}
