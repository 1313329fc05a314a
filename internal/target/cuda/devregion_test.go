package cuda

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/internal/timingcache"
)

// WhileLoopNet counts i from 0 while i < 5, scaling acc by 1.5 and adding
// x each time; its outputs are acc's last value and the next values
// stacked in reverse into 8 slots (the loop's length is not known before
// it ends).
func WhileLoopNet() *dsl.Network {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{4})
	lp := n.AddLoop()
	lp.SetName("while i < 5")
	i := lp.AddRecurrence(n.AddConstant(dsl.Dims{}, dsl.Int32Weights(0)).Output(0))
	acc := lp.AddRecurrence(x)
	lp.AddTripLimit(n.AddElementWise(i.Output(0), n.AddConstant(dsl.Dims{}, dsl.Int32Weights(5)).Output(0), dsl.ElementWiseLess).Output(0), dsl.TripLimitWhile)
	i.SetInput(1, n.AddElementWise(i.Output(0), n.AddConstant(dsl.Dims{}, dsl.Int32Weights(1)).Output(0), dsl.ElementWiseSum).Output(0))
	next := n.AddElementWise(n.AddElementWise(acc.Output(0), n.AddConstant(dsl.Dims{1}, dsl.Float32Weights(1.5)).Output(0), dsl.ElementWiseProd).Output(0), x, dsl.ElementWiseSum)
	acc.SetInput(1, next.Output(0))
	last := lp.AddLoopOutput(acc.Output(0), dsl.LoopOutputLastValue, 0)
	rev := lp.AddLoopOutput(next.Output(0), dsl.LoopOutputReverse, 0)
	rev.SetInput(1, n.AddConstant(dsl.Dims{}, dsl.Int32Weights(8)).Output(0))
	for _, l := range []dsl.Layer{last, rev} {
		n.MarkOutput(l.Output(0))
	}
	return n
}

// ScanLoopNet runs a count loop over the columns of seq [3, 5] in
// reverse: acc = acc/2 + column; its outputs are every acc stacked along
// axis 1 ([3, 5]), the columns stacked in reverse along axis 0 into 6
// slots (one stays zero), and acc's last value.
func ScanLoopNet() *dsl.Network {
	n := dsl.NewNetwork()
	seq := n.AddInput("seq", dsl.Float32, dsl.Dims{3, 5})
	lp := n.AddLoop()
	lp.SetName("scan")
	cnt := n.AddConstant(dsl.Dims{}, dsl.Int64Weights(5)).Output(0)
	lp.AddTripLimit(cnt, dsl.TripLimitCount)
	acc := lp.AddRecurrence(n.AddConstant(dsl.Dims{3}, dsl.Float32Weights(0, 0, 0)).Output(0))
	row := lp.AddIterator(seq, 1, true).Output(0)
	next := n.AddElementWise(n.AddElementWise(acc.Output(0), n.AddConstant(dsl.Dims{1}, dsl.Float32Weights(0.5)).Output(0), dsl.ElementWiseProd).Output(0), row, dsl.ElementWiseSum)
	acc.SetInput(1, next.Output(0))
	all := lp.AddLoopOutput(next.Output(0), dsl.LoopOutputConcatenate, 1)
	all.SetInput(1, cnt)
	rows := lp.AddLoopOutput(row, dsl.LoopOutputReverse, 0)
	rows.SetInput(1, n.AddConstant(dsl.Dims{}, dsl.Int32Weights(6)).Output(0))
	last := lp.AddLoopOutput(acc.Output(0), dsl.LoopOutputLastValue, 0)
	for _, l := range []dsl.Layer{all, rows, last} {
		n.MarkOutput(l.Output(0))
	}
	return n
}

// TestDeviceRegionsLower builds networks with loops and conditionals for
// the CUDA target (NVRTC, no GPU): the regions whose parts lower are
// device-region steps whose parts' sections decode into engines of their
// own.
func TestDeviceRegionsLower(t *testing.T) {
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	nets := dsltest.Networks()
	for name, tc := range map[string]struct {
		net   *dsl.Network
		parts int
	}{
		"if":           {net: nets["if"](rand.New(rand.NewPCG(1, 2))), parts: 2},
		"loop with if": {net: nets["loop with if"](rand.New(rand.NewPCG(1, 2))), parts: 1},
		"while":        {net: WhileLoopNet(), parts: 2},
		"scan":         {net: ScanLoopNet(), parts: 1},
		"loop":         {net: nets["loop"](rand.New(rand.NewPCG(1, 2))), parts: 1},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.net.Err(); err != nil {
				t.Fatal(err)
			}
			b := &target.Build{Device: target.Device{Arch: "sm_80"}, TimingCache: timingcache.New()}
			if err := (cudaTarget{}).Lower(ir.New(tc.net), b); err != nil {
				t.Fatal(err)
			}
			var planBytes []byte
			sections := map[string][]byte{}
			for _, s := range b.Sections {
				sections[s.Name] = s.Data
				if s.Name == sectionPlan {
					planBytes = s.Data
				}
			}
			p, err := decodePlan(planBytes, len(tc.net.TopoLayers()))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for i, s := range p.Steps {
				if len(s.Region) == 0 {
					continue
				}
				found = true
				if s.Kind != kindDeviceRegion {
					t.Fatalf("step %q (%s), want a device region", s.Kind, s.Why)
				}
				for k := range tc.parts {
					ps, err := decodeSections("part", sections[regionSection(i, k)])
					if err != nil {
						t.Fatalf("part %d: %v", k, err)
					}
					if _, err := ps.Section(sectionPlan); err != nil {
						t.Errorf("part %d: %v", k, err)
					}
				}
				if _, ok := sections[regionSection(i, tc.parts)]; ok {
					t.Errorf("more than %d parts", tc.parts)
				}
			}
			if !found {
				t.Fatal("no region step")
			}
		})
	}
}

func TestPartSectionsRoundTrip(t *testing.T) {
	in := []target.Section{{Name: "a", Kind: "k", Data: []byte{1, 2, 3}}, {Name: "b", Data: nil}}
	b, err := encodeSections(map[string]string{"m": "v"}, in)
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodeSections("x", b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Section("a"); string(got) != "\x01\x02\x03" || p.Metadata()["m"] != "v" {
		t.Errorf("decoded %v, metadata %v", p.sections, p.meta)
	}
	if _, err := p.Section("c"); !errors.Is(err, diag.EngineCorrupt) {
		t.Errorf("a missing section: %v", err)
	}
	for _, cut := range []int{1, len(b) / 2, len(b) - 1} {
		if _, err := decodeSections("x", b[:cut]); !errors.Is(err, diag.EngineCorrupt) {
			t.Errorf("cut at %d: %v, want EngineCorrupt", cut, err)
		}
	}
}
