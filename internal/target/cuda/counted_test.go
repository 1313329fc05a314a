package cuda

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/tensor"
)

// NonZeroNet is NonZero over an input x of type dt and dims d.
func NonZeroNet(dt dsl.DataType, d dsl.Dims, indices dsl.DataType) *dsl.Network {
	net := dsl.NewNetwork()
	nz := net.AddNonZero(net.AddInput("x", dt, d))
	nz.SetIndicesType(indices)
	nz.Output(0).SetName("y")
	net.MarkOutput(nz.Output(0))
	return net
}

// NMSCase is an NMS network's attributes and the inputs' shape.
type NMSCase struct {
	Name                string
	dt                  dsl.DataType
	batch, boxes, class int64
	perClass, center    bool
	maxOut              int64
	maxOutType          dsl.DataType
	iou, score          float32 // NaN: the input is left out
	topK                int
}

func (c NMSCase) Net() *dsl.Network {
	net := dsl.NewNetwork()
	bd := dsl.Dims{c.batch, c.boxes, 4}
	if c.perClass {
		bd = dsl.Dims{c.batch, c.boxes, c.class, 4}
	}
	boxes := net.AddInput("boxes", c.dt, bd)
	scores := net.AddInput("scores", c.dt, dsl.Dims{c.batch, c.boxes, c.class})
	mo := tensor.New(c.maxOutType)
	mo.SetInt64(0, c.maxOut)
	l := net.AddNMS(boxes, scores, net.AddConstant(dsl.Dims{}, dsl.NewWeights(mo)).Output(0), dsl.Int32)
	if c.center {
		l.SetBoundingBoxFormat(dsl.BoxCenterSizes)
	}
	if c.topK > 0 {
		l.SetTopKBoxLimit(c.topK)
	}
	for j, v := range map[int]float32{3: c.iou, 4: c.score} {
		if !math.IsNaN(float64(v)) {
			l.SetInput(j, net.AddConstant(dsl.Dims{}, dsl.Float32Weights(v)).Output(0))
		}
	}
	if !math.IsNaN(float64(c.score)) && math.IsNaN(float64(c.iou)) {
		l.SetInput(3, net.AddConstant(dsl.Dims{}, dsl.Float32Weights(0)).Output(0))
	}
	l.Output(0).SetName("selected")
	l.Output(1).SetName("count")
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	return net
}

// WithIoU is c with IoU threshold v.
func (c NMSCase) WithIoU(v float32) NMSCase {
	c.iou = v
	return c
}

// Inputs are boxes clustered so that many overlap, with corners in
// either order, and scores on a grid of eighths, so that many tie.
func (c NMSCase) Inputs(rng *rand.Rand) map[string]*tensor.Tensor {
	bd := []int64{c.batch, c.boxes, 4}
	if c.perClass {
		bd = []int64{c.batch, c.boxes, c.class, 4}
	}
	boxes := tensor.New(c.dt, bd...)
	for k := int64(0); k < boxes.Len(); k += 4 {
		x, y := float64(rng.IntN(8)), float64(rng.IntN(8))
		w, h := 0.5+3*rng.Float64(), 0.5+3*rng.Float64()
		v := [4]float64{x, y, x + w, y + h}
		if c.center {
			v = [4]float64{x, y, w, h}
		} else if rng.IntN(2) == 0 {
			v = [4]float64{x + w, y + h, x, y}
		}
		for j := range 4 {
			boxes.SetFloat64(k+int64(j), v[j])
		}
	}
	scores := tensor.New(c.dt, c.batch, c.boxes, c.class)
	for k := range scores.Len() {
		scores.SetFloat64(k, float64(rng.IntN(9))/8)
	}
	return map[string]*tensor.Tensor{"boxes": boxes, "scores": scores}
}

var NMSCases = []NMSCase{
	{Name: "shared boxes", dt: dsl.Float32, batch: 2, boxes: 50, class: 3, maxOut: 4, maxOutType: dsl.Int32, iou: 0.5, score: 0.2},
	{Name: "per-class center fp16 topk", dt: dsl.Float16, batch: 3, boxes: 40, class: 2, perClass: true, center: true, maxOut: 10, maxOutType: dsl.Int64, iou: 0.3, score: 0.1, topK: 7},
	{Name: "global sort", dt: dsl.Float32, batch: 2, boxes: 1500, class: 2, maxOut: 100, maxOutType: dsl.Int64, iou: 0.6, score: float32(math.NaN())},
	{Name: "no thresholds", dt: dsl.Float32, batch: 1, boxes: 30, class: 4, maxOut: 30, maxOutType: dsl.Int32, iou: float32(math.NaN()), score: float32(math.NaN())},
	{Name: "none per class", dt: dsl.Float32, batch: 2, boxes: 10, class: 2, maxOut: 0, maxOutType: dsl.Int32, iou: 0.5, score: 0},
	{Name: "no boxes", dt: dsl.Float32, batch: 2, boxes: 0, class: 3, maxOut: 5, maxOutType: dsl.Int32, iou: 0.5, score: 0},
}

// TestCountedStepsLower checks NonZero and NMS lower to counted steps
// whose program defines every entry point the step runs (and compiles,
// where NVRTC is installed), and that a NonZero of a type without a
// kernel runs on the host with the reason.
func TestCountedStepsLower(t *testing.T) {
	nets := map[string]*dsl.Network{}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64, dsl.Int8, dsl.UInt8, dsl.Bool} {
		nets["NonZero "+dt.String()] = NonZeroNet(dt, dsl.Dims{3, 4}, dsl.Int32)
	}
	for _, c := range NMSCases {
		nets["NMS "+c.Name] = c.Net()
	}
	_, nvrtc, _ := cuda.NVRTCVersion()
	for name, net := range nets {
		if err := net.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, srcs, err := lowerNetwork(net, ir.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		found := false
		for i, l := range net.TopoLayers() {
			if counters[l.Type()] == nil {
				continue
			}
			found = true
			s := p.Steps[i]
			if s.Kind != kindCounted {
				t.Fatalf("%s: step %q (%s), want counted", name, s.Kind, s.Why)
			}
			if got, want := entryPointsOf(s.Kernel, srcs[s.Kernel]), countedEntries(l, s.Kernel); !slices.Equal(got, want) {
				t.Errorf("%s: the program defines %v, the step runs %v", name, got, want)
			}
		}
		if !found {
			t.Fatalf("%s: no counted layer", name)
		}
		if nvrtc > 0 {
			mods, err := compileKernels(srcs, "sm_80")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var kernels []string
			for _, m := range mods {
				kernels = append(kernels, m.kernels...)
			}
			for _, s := range p.Steps {
				for _, k := range countedEntries(net.TopoLayers()[s.Layer], s.Kernel) {
					if !slices.Contains(kernels, k) {
						t.Errorf("%s: kernel %s is in no module (%v)", name, k, kernels)
					}
				}
			}
		}
	}
	p, _, err := lowerNetwork(NonZeroNet(dsl.FP8E4M3, dsl.Dims{4}, dsl.Int64), ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Steps[0]; s.Kind != kindHost || s.Why != "no NonZero kernel for fp8e4m3" {
		t.Errorf("NonZero of FP8: step %q (%s), want host with the reason", s.Kind, s.Why)
	}
}

func TestBlocksFor(t *testing.T) {
	for _, n := range []int64{0, 1, 255, 256, 257, 1 << 18, 1<<18 + 1, 3_000_001, 1 << 33} {
		blocks, chunk := blocksFor(n)
		if blocks < 1 || blocks > 1024 || chunk%256 != 0 || blocks*chunk < n || n > 0 && (blocks-1)*chunk >= n {
			t.Errorf("blocksFor(%d) = %d blocks of %d", n, blocks, chunk)
		}
	}
}

func TestNMSPlan(t *testing.T) {
	c := NMSCase{dt: dsl.Float32, batch: 2, boxes: 5, class: 3, maxOut: 1, maxOutType: dsl.Int32, iou: 0.5, score: 0, topK: 4}
	net := c.Net()
	l := net.TopoLayers()[len(net.TopoLayers())-1]
	dims := map[*dsl.Tensor][]int64{l.Input(0): {2, 5, 4}, l.Input(1): {2, 5, 3}}
	m, scratch, err := nmsPlan(l, dims)
	if err != nil {
		t.Fatal(err)
	}
	// P = 16 keys per item, K = min(4, 15).
	if m[5] != 16 || m[7] != 4 {
		t.Errorf("P %d, K %d; want 16, 4", m[5], m[7])
	}
	keys, counts, sel, boxes := m[8], m[9], m[10], m[11]
	if keys != 4 || counts != keys+2*16 || sel != counts+2*3 || boxes < sel+2*4 || boxes%2 != 0 || scratch != 8*(boxes+2*2*4) {
		t.Errorf("scratch layout %v, %d bytes", m[8:], scratch)
	}
	dims[l.Input(0)] = []int64{2, 6, 4}
	_, _, err = nmsPlan(l, dims)
	wantCode(t, err, diag.ShapeMismatch, "boxes [2 6 4] do not match scores [2 5 3]")
}
