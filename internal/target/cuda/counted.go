package cuda

import (
	"regexp"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/tensor"
)

// Counted layers. NonZero and NMS have outputs whose dims depend on the
// values of their inputs, so the plan always ends a phase at them
// (phases.go). Rather than read their inputs back and run them on the
// host, they run on the GPU in two halves around that boundary: the
// count kernels leave in scratch memory what the output dims need (how
// many elements are non-zero, how many boxes each batch item keeps),
// the run waits for the stream and reads those few numbers back, the
// next phase is planned with the output dims, and the fill kernels write
// the outputs into its arena from what the count left in scratch. The
// only synchronization is the one the data-dependent dims force.
const kindCounted = "counted"

// A counter is the GPU code of one counted layer kind.
type counter struct {
	// lower says whether l runs on the GPU, and when not, why (it then
	// runs on the host with the CPU engine's kernel).
	lower func(l dsl.Layer) (ok bool, why string)
	// source writes the kernels for l: every entry point is named name_
	// followed by one of entries.
	source  func(name string, l dsl.Layer) string
	entries []string
	// plan is the metadata the kernels read for the boundary's dims and
	// the scratch bytes they need; an error names what is wrong with the
	// inputs at run time.
	plan func(l dsl.Layer, dims map[*dsl.Tensor][]int64) (meta []int64, scratch int64, err error)
	// count launches the count kernels and returns how many int64 from
	// the start of scratch the run reads back.
	count func(r countedRun) (int, error)
	// outputs are what the numbers read back tell of l's outputs, in
	// order: dims, and the values of a small count output. An error is
	// one the count detected in the data (an NMS' IoU threshold).
	outputs func(l dsl.Layer, dims map[*dsl.Tensor][]int64, read []int64) ([]knownTensor, error)
	// fill launches the kernels that write the outputs.
	fill func(r countedRun, read []int64) error
}

var counters = map[dsl.LayerType]*counter{}

func registerCounter(k dsl.LayerType, c *counter) {
	if _, dup := counters[k]; dup {
		panic("cuda: two counters for " + k.String())
	}
	counters[k] = c
}

// countedKind is chooseKind for a layer with a counter.
func countedKind(c *counter, l dsl.Layer) (kind, why string) {
	if ok, why := c.lower(l); !ok {
		return kindHost, why
	}
	return kindCounted, ""
}

// countedRun is what a counter's count and fill launch with: the layer's
// kernels, metadata, scratch and tensors (inputs as they were at the
// boundary, nil ones as null pointers; outputs in the next phase, for
// fill only), and the boundary's dims.
type countedRun struct {
	c       *cudaContext
	l       dsl.Layer
	kernel  string // the base name of its entry points
	meta    cuda.DevicePtr
	scratch cuda.DevicePtr
	dims    map[*dsl.Tensor][]int64
	ins     []cuda.DevicePtr
	outs    []cuda.DevicePtr
}

// in is the address of input j, null where the layer has none.
func (r countedRun) in(j int) cuda.DevicePtr {
	if j < len(r.ins) {
		return r.ins[j]
	}
	return 0
}

// fn is the entry point name_entry.
func (r countedRun) fn(entry string) *cuda.Function { return r.c.x.fns[r.kernel+"_"+entry] }

// countedEntries are the entry points a counted step's kernel defines.
func countedEntries(l dsl.Layer, base string) []string {
	c := counters[l.Type()]
	if c == nil {
		return nil
	}
	names := make([]string, len(c.entries))
	for k, e := range c.entries {
		names[k] = base + "_" + e
	}
	return names
}

var entryPoint = regexp.MustCompile(`extern "C" __global__ void (\w+)\(`)

// entryPointsOf are the kernels program n defines under names n_...: a
// counted layer's several kernels; nil for a program of one kernel named
// n.
func entryPointsOf(n, src string) []string {
	var names []string
	for _, m := range entryPoint.FindAllStringSubmatch(src, -1) {
		if strings.HasPrefix(m[1], n+"_") {
			names = append(names, m[1])
		}
	}
	return names
}

// countsAt says whether sp ends at a counted step.
func (x *executable) countsAt(sp *shapePlan) bool {
	return sp.stop < len(x.layers) && x.plan.Steps[sp.stop].Kind == kindCounted
}

// planCounted plans the boundary at sp.stop, a counted step: its
// metadata goes into the phase's metadata by put.
func (x *executable) planCounted(sp *shapePlan, put func([]int64) int64) error {
	l := x.layers[sp.stop]
	m, scratch, err := counters[l.Type()].plan(l, sp.dims)
	if err != nil {
		return err
	}
	sp.countedMeta = put(m)
	sp.countedScratch = scratch
	return nil
}

// countedRunOf is the run of sp's boundary step, its inputs in sp.
func (c *cudaContext) countedRunOf(sp *shapePlan) countedRun {
	l := c.x.layers[sp.stop]
	r := countedRun{c: c, l: l, kernel: c.x.plan.Steps[sp.stop].Kernel, meta: sp.meta.Ptr().Add(int(sp.countedMeta)),
		scratch: c.countScratch.Ptr(), dims: sp.dims}
	for j := 0; j < l.NbInputs(); j++ {
		p := cuda.DevicePtr(0)
		if t := l.Input(j); t != nil {
			p = c.addr(sp, t)
		}
		r.ins = append(r.ins, p)
	}
	return r
}

// countAtBoundary runs the count half of sp's boundary step and returns
// what it read back and what that tells of the step's outputs.
func (c *cudaContext) countAtBoundary(sp *shapePlan) ([]int64, []knownTensor, error) {
	if err := c.ensure(&c.countScratch, sp.countedScratch); err != nil {
		return nil, nil, err
	}
	r := c.countedRunOf(sp)
	cn := counters[r.l.Type()]
	n, err := cn.count(r)
	if err != nil {
		return nil, nil, err
	}
	if err := c.stream.Synchronize(); err != nil {
		return nil, nil, err
	}
	v := tensor.New(dsl.Int64, int64(n))
	if err := c.x.dev.CopyDtoH(v.Bytes(), r.scratch); err != nil {
		return nil, nil, err
	}
	read := v.Int64Values()
	known, err := cn.outputs(r.l, sp.dims, read)
	if err != nil {
		return nil, nil, err
	}
	if len(known) != r.l.NbOutputs() {
		return nil, nil, diag.Errorf(diag.Internal, "%s: the count tells of %d outputs of %d", dsl.LayerString(r.l), len(known), r.l.NbOutputs())
	}
	return read, known, nil
}

// fillAfterBoundary runs the fill half of sp's boundary step, writing its
// outputs where the next phase placed them.
func (c *cudaContext) fillAfterBoundary(sp, next *shapePlan, read []int64) error {
	r := c.countedRunOf(sp)
	for j := 0; j < r.l.NbOutputs(); j++ {
		r.outs = append(r.outs, c.addr(next, r.l.Output(j)))
	}
	r.dims = next.dims
	return counters[r.l.Type()].fill(r, read)
}

// blocksFor is the grid of a count or fill kernel over n elements: 256
// threads a block, at most 1024 blocks (their counts are scanned by one
// block), each a whole number of 256-element tiles, and one block for no
// elements (it writes the count 0). It returns the blocks and the
// elements each takes.
func blocksFor(n int64) (blocks, chunk int64) {
	tiles := max((n+255)/256, 1)
	blocks = min(tiles, 1024)
	chunk = (tiles + blocks - 1) / blocks * 256
	return max((n+chunk-1)/chunk, 1), chunk
}

// dim3 is a one-dimensional grid or block of n.
func dim3(n int64) cuda.Dim3 { return cuda.Dim3{X: int(n)} }
