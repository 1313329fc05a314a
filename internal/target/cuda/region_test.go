package cuda

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// TestRegionsRunOnTheHost lowers the loop and conditional networks: each
// outermost region is one host step at its last layer, its other layers
// steps that do nothing, the step reading what the region reads from
// outside and writing what is read after it; and the region's host
// network computes on the CPU engine what the whole network computes.
func TestRegionsRunOnTheHost(t *testing.T) {
	for _, name := range []string{"loop", "if", "loop with if"} {
		t.Run(name, func(t *testing.T) {
			net := dsltest.Networks()[name](rand.New(rand.NewPCG(1, 2)))
			layers := net.TopoLayers()
			// The values the regions read from outside them all, as outputs.
			inRegion := ir.RegionMembers(net)
			for l := range inRegion {
				for j := 0; j < l.NbInputs(); j++ {
					if x := l.Input(j); x != nil && !x.IsNetworkInput() && !x.IsNetworkOutput() {
						if p, _ := x.Producer(); p != nil && !inRegion[p] && p.Type() != dsl.LayerConstant {
							net.MarkOutput(x)
						}
					}
				}
			}
			if err := net.Err(); err != nil {
				t.Fatal(err)
			}
			p, _, err := lowerNetwork(net, ir.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := p.encode()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodePlan(b, len(layers)); err != nil {
				t.Fatalf("the plan does not load: %v", err)
			}
			regions := regionsOfPlan(layers, p)
			if len(regions) != 1 {
				t.Fatalf("%d regions lowered, want 1", len(regions))
			}
			reads, writes := stepReads(layers, p, regionsOfPlan(layers, p)), stepWrites(layers, p, regionsOfPlan(layers, p))
			for i, rg := range regions {
				s := p.Steps[i]
				if s.Kind != kindHost || !strings.Contains(s.Why, "runs on the host") {
					t.Errorf("the region's step is %q (%s), want a host step", s.Kind, s.Why)
				}
				for _, m := range rg.members[:len(rg.members)-1] {
					if p.Steps[m].Kind != kindInRegion || p.Steps[m].Into != i || len(reads[m]) > 0 || len(writes[m]) > 0 {
						t.Errorf("member step %d: %+v, reads %d, writes %d; want a step of region %d that does nothing", m, p.Steps[m], len(reads[m]), len(writes[m]), i)
					}
				}
				if !slices.Equal(reads[i], rg.ins) || !slices.Equal(writes[i], rg.outs) || len(rg.outs) == 0 {
					t.Errorf("the host step reads %d and writes %d tensors; its region reads %d and writes %d", len(reads[i]), len(writes[i]), len(rg.ins), len(rg.outs))
				}
				in := irtest.RandomInputs(net, 3, 1)
				want, err := cpueng.Run(net, in)
				if err != nil {
					t.Fatal(err)
				}
				value := func(x *dsl.Tensor) *tensor.Tensor {
					if v, ok := in[x.Name()]; ok && x.IsNetworkInput() {
						return v
					}
					return want[x.Name()]
				}
				dims := map[*dsl.Tensor][]int64{}
				hostIn := map[string]*tensor.Tensor{}
				for k, x := range rg.ins {
					if v := value(x); v != nil {
						dims[x] = v.Shape()
						hostIn[fmt.Sprintf("in%d", k)] = v
					}
				}
				e, err := regionEngine(layers, rg, dims)
				if err != nil {
					t.Fatal(err)
				}
				got, err := e.Run(context.Background(), hostIn)
				if err != nil {
					t.Fatal(err)
				}
				for k, x := range rg.outs {
					if err := irtest.Compare(map[string]*tensor.Tensor{x.Name(): want[x.Name()]}, map[string]*tensor.Tensor{x.Name(): got[fmt.Sprintf("out%d", k)]}, 0); err != nil {
						t.Errorf("output %q: %v", x.Name(), err)
					}
				}
			}
		})
	}
}

// TestRegionHostNetworksOnConformance lowers every ONNX backend test
// model with a loop or conditional (RNN, GRU and LSTM import as loops)
// and runs each region's host network on the values the whole network
// gives its inputs: its outputs must be the whole network's, bit for bit.
func TestRegionHostNetworksOnConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes a while; skipped with -short")
	}
	checked := 0
	for _, m := range irtest.ConformanceModels(t) {
		if len(m.Net.Regions()) == 0 {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			layers := m.Net.TopoLayers()
			p, _, err := lowerNetwork(m.Net, ir.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// A copy of the network with every region's inputs and
			// outputs as network outputs, run once for their values.
			r := ir.NewRebuilder(m.Net)
			for _, l := range layers {
				r.Copy(l)
			}
			cp, err := r.Finish()
			if err != nil {
				t.Fatal(err)
			}
			regions := regionsOfPlan(layers, p)
			name := map[*dsl.Tensor]string{}
			for _, rg := range regions {
				for _, x := range append(slices.Clone(rg.ins), rg.outs...) {
					c := r.Map(x)
					if c.IsNetworkInput() || c.IsNetworkOutput() {
						name[x] = c.Name()
						continue
					}
					if p, _ := c.Producer(); p != nil && p.Type() == dsl.LayerConstant {
						continue
					}
					c.SetName(fmt.Sprintf("zz_%d", len(name)))
					name[x] = c.Name()
					cp.MarkOutput(c)
				}
			}
			want, err := cpueng.Run(cp, m.Inputs)
			if err != nil {
				t.Fatal(err)
			}
			value := func(x *dsl.Tensor) *tensor.Tensor {
				if v, ok := want[name[x]]; ok {
					return v
				}
				return m.Inputs[name[x]]
			}
			for _, rg := range regions {
				dims := map[*dsl.Tensor][]int64{}
				in := map[string]*tensor.Tensor{}
				for k, x := range rg.ins {
					v := value(x)
					if v == nil {
						continue // a constant
					}
					dims[x] = v.Shape()
					if !heldByHostNetwork(x) {
						in[fmt.Sprintf("in%d", k)] = v // as runHost reads them
					}
				}
				e, err := regionEngine(layers, rg, dims)
				if err != nil {
					t.Fatal(err)
				}
				got, err := e.Run(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				for k, x := range rg.outs {
					if err := irtest.Compare(map[string]*tensor.Tensor{"y": value(x)}, map[string]*tensor.Tensor{"y": got[fmt.Sprintf("out%d", k)]}, 0); err != nil {
						t.Errorf("region output %q: %v", x.Name(), err)
					}
				}
			}
			checked++
		})
	}
	t.Logf("%d models with regions checked", checked)
	if checked == 0 {
		t.Error("no model with a loop or conditional")
	}
}

// TestSupportMatchesLowering lowers every dsltest network and checks
// Support against the steps: a "gpu" kind runs on the GPU in some
// network, a "host" kind never does, a "region" kind is in a region.
// (Einsum runs on the GPU once the compiler's einsum pass has made it
// matrix multiplies; lowered as it is here, it is a host step.)
func TestSupportMatchesLowering(t *testing.T) {
	onGPU, seen := map[dsl.LayerType]bool{}, map[dsl.LayerType]string{}
	for name, build := range dsltest.Networks() {
		net := build(rand.New(rand.NewPCG(1, 2)))
		p, _, err := lowerNetwork(net, ir.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, l := range net.TopoLayers() {
			k := p.Steps[i].Kind
			if k != kindHost && k != kindInRegion {
				onGPU[l.Type()] = true
			}
			if k == kindInRegion || len(p.Steps[i].Region) > 0 {
				seen[l.Type()] = "region"
			} else if seen[l.Type()] == "" {
				seen[l.Type()] = k
			}
		}
	}
	for _, k := range dsl.AllLayerTypes() {
		got := Support(k)
		switch {
		case seen[k] == "" && k != dsl.LayerEinsum:
			t.Errorf("%v is in no dsltest network", k)
		case got == "gpu" && !onGPU[k] && k != dsl.LayerEinsum:
			t.Errorf("%v: Support says gpu, but it runs on the GPU in no network", k)
		case got == "host" && onGPU[k]:
			t.Errorf("%v: Support says host, but it runs on the GPU", k)
		case got == "region" && seen[k] != "region":
			t.Errorf("%v: Support says region, lowered as %q", k, seen[k])
		}
	}
}
