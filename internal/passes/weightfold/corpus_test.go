package weightfold

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

// TestCorpus runs the pass over every ONNX backend test model that passes
// on the CPU engine, as imported and with a batch norm (a channel Scale)
// inserted after every convolution with constant weights: the corpus has
// no convolution followed by a foldable layer (PyTorch's exporter folds
// batch norms itself), so the second form is what exercises the fold on
// real convolution geometries (1-d through 3-d, groups, depthwise,
// transposed). Every result must verify and compute the same outputs
// within the tolerance of the longest convolution sum.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes a while; skipped with -short")
	}
	changed, withBN := 0, 0
	for _, m := range irtest.ConformanceModels(t) {
		if check(t, m.Name, m.Net, m.Inputs) {
			changed++
		}
		if net := insertBatchNorms(t, m.Net); net != nil {
			withBN++
			if !check(t, m.Name+" with batch norms", net, m.Inputs) {
				t.Errorf("%s with batch norms: nothing folded", m.Name)
			}
		}
	}
	t.Logf("%d models changed as imported; %d of %d with batch norms inserted", changed, withBN, withBN)
	if withBN == 0 {
		t.Errorf("no corpus model has a convolution with constant weights")
	}
}

// check runs the pass on net and compares it with the original on the CPU
// engine (irtest.CheckPass); it reports whether the pass changed the
// network.
func check(t *testing.T, name string, net *dsl.Network, in map[string]*tensor.Tensor) bool {
	t.Helper()
	return irtest.CheckPass(t, name, ScaleIntoConv, ir.Options{OptLevel: 3}, net, in, maxReduction(net))
}

// insertBatchNorms returns a copy of net with a random channel Scale after
// every convolution and deconvolution with constant weights, or nil when
// there is none.
func insertBatchNorms(t *testing.T, net *dsl.Network) *dsl.Network {
	t.Helper()
	r := ir.NewRebuilder(net)
	n := 0
	for _, l := range net.TopoLayers() {
		c := r.Copy(l)
		if newFolded(l) == nil {
			continue
		}
		k := l.(convWeights).NbOutputMaps()
		s := r.Dst.AddScaleNd(c.Output(0), dsl.ScaleChannel, randW(dsl.Float32, k), randW(dsl.Float32, k), dsl.Weights{}, 1)
		s.SetName(l.Name() + "/bn")
		r.Alias(l.Output(0), s.Output(0))
		n++
	}
	if n == 0 {
		return nil
	}
	out, err := r.Finish()
	if err != nil {
		t.Fatalf("inserting batch norms into %q: %v", net.Name(), err)
	}
	return out
}

// maxReduction is the longest sum a convolution of net computes per output
// (input channels per group times kernel taps).
func maxReduction(net *dsl.Network) int {
	n := 1
	for _, l := range net.Layers() {
		c, ok := l.(convWeights)
		if !ok || c.KernelWeights().IsEmpty() {
			continue
		}
		// Kernel values per output map: C/G times the taps, for KCRS
		// convolution and CKRS deconvolution kernels alike.
		n = max(n, int(c.KernelWeights().Count()/c.NbOutputMaps()))
	}
	return n
}
