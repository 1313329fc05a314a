package cuda

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/timingcache"
	"github.com/trtc/trtc/tensor"
)

// matmulPlan is one cuBLASLt problem for a shape plan. Row-major C = op(A)
// op(B) is computed as column-major C^T = op(B)^T op(A)^T, so cuBLASLt sees
// B first. Batch dims collapse into one strided batch: an operand with the
// output's batch dims has a stride of one matrix, one whose batch dims are
// all 1 broadcasts with stride 0; other broadcasts are refused.
type matmulPlan struct {
	desc       *cuda.MatmulDesc
	la, lb, lc *cuda.MatrixLayout
	algo       *cuda.Algo
	// algos are the heuristic's candidates, timed once (matmulAlgo,
	// tactics.go) unless the engine or the timing cache has the choice;
	// sig is the problem's timing-cache signature.
	algos []cuda.Algo
	tuned bool
	sig   string
	elem  int64 // bytes per element
	// conv: one GEMM per group, W[g] (M x K) by col[n][g] (K x P) per
	// image; the group offsets in elements of the column buffer, the
	// weights and the output.
	groups                 int64
	groupA, groupB, groupC int64
	// out is the tensor D is: the layer's output, or the bias add's its
	// epilogue computes.
	out *dsl.Tensor
}

func (m *matmulPlan) close() {
	for _, l := range []*cuda.MatrixLayout{m.la, m.lb, m.lc} {
		if l != nil {
			l.Close()
		}
	}
	if m.desc != nil {
		m.desc.Close()
	}
}

func computeType(dt dsl.DataType, tf32 bool) cuda.ComputeType {
	if dt == dsl.Float32 && tf32 {
		return cuda.Compute32FFastTF32
	}
	return cuda.Compute32F
}

// gemm builds descriptors for column-major D[m,n] = op(A)[m,k] op(B)[k,n]
// (+ bias[m] where bias is not 0) with batch count and strides
// (elements), with cuBLASLt's heuristic candidates (the first runs until
// one is timed faster).
func (x *executable) gemm(dt dsl.DataType, transA, transB bool, m, n, k, lda, ldb, ldc int64, batch int64, sa, sb, sc int64, bias cuda.DevicePtr) (*matmulPlan, error) {
	p := &matmulPlan{elem: dt.ByteSize(1)}
	var err error
	if p.desc, err = x.lt.NewMatmulDesc(computeType(dt, x.plan.TF32), tensor.Float32); err != nil {
		return nil, err
	}
	if err := p.desc.SetTranspose(transA, transB); err != nil {
		p.close()
		return nil, err
	}
	if bias != 0 {
		err := p.desc.SetEpilogue(cuda.EpilogueBias)
		if err == nil {
			err = p.desc.SetBias(bias, dt)
		}
		if err != nil {
			p.close()
			return nil, err
		}
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if p.la, err = x.lt.NewLayout(dt, ar, ac, lda); err == nil {
		if p.lb, err = x.lt.NewLayout(dt, br, bc, ldb); err == nil {
			p.lc, err = x.lt.NewLayout(dt, m, n, ldc)
		}
	}
	if err == nil && batch > 1 {
		if err = p.la.SetBatch(int(batch), sa); err == nil {
			if err = p.lb.SetBatch(int(batch), sb); err == nil {
				err = p.lc.SetBatch(int(batch), sc)
			}
		}
	}
	if err != nil {
		p.close()
		return nil, err
	}
	pref, err := x.lt.NewPreference(workspaceBytes)
	if err != nil {
		p.close()
		return nil, err
	}
	defer pref.Close()
	algos, err := x.lt.Heuristic(p.desc, p.la, p.lb, p.lc, p.lc, pref, candidates(x.plan.OptLevel))
	if err != nil {
		p.close()
		return nil, err
	}
	p.algos, p.algo = algos, &algos[0]
	p.sig = timingcache.Signature("cuda.matmul", dt.String(), transA, transB, m, n, k, lda, ldb, ldc, batch, sa, sb, sc, x.plan.TF32, bias != 0)
	return p, nil
}

// newMatmulPlan plans step s: a MatrixMultiply, with the bias add its
// epilogue folds in, or a Convolution's GEMM.
func (x *executable) newMatmulPlan(s step, l dsl.Layer, d map[*dsl.Tensor][]int64) (*matmulPlan, error) {
	if cl, ok := l.(*dsl.ConvolutionLayer); ok {
		in, out := d[l.Input(0)], d[l.Output(0)]
		k := cl.KernelSizeNd()
		G := cl.NbGroups()
		M := out[1] / G              // output channels per group
		K := in[1] / G * k[0] * k[1] // taps per output
		P := out[2] * out[3]
		// Column-major: C^T[P, M] = col^T[P, K] · W^T[K, M], batched over
		// images: col stride G*K*P, out stride Cout*P, weights shared.
		p, err := x.gemm(l.Input(0).Type(), false, false, P, M, K, P, K, P, in[0], G*K*P, 0, out[1]*P, 0)
		if err != nil {
			return nil, err
		}
		p.out = l.Output(0)
		p.groups, p.groupA, p.groupB, p.groupC = G, K*P, M*K, M*P
		p.tuned = true // the im2col fallback runs cuBLASLt's first choice
		return p, nil
	}
	mm := l.(*dsl.MatrixMultiplyLayer)
	a, b, c := d[l.Input(0)], d[l.Input(1)], d[l.Output(0)]
	ta, tb := mm.Operation(0) == dsl.MatrixOpTranspose, mm.Operation(1) == dsl.MatrixOpTranspose
	ra, ca := a[len(a)-2], a[len(a)-1]
	rb, cb := b[len(b)-2], b[len(b)-1]
	M, K := ra, ca
	if ta {
		M, K = ca, ra
	}
	N := cb
	if tb {
		N = rb
	}
	batch := c[:len(c)-2]
	stride := func(dims []int64, rows, cols int64) (int64, bool) {
		switch b := dims[:len(dims)-2]; {
		case slices.Equal(b, batch):
			return rows * cols, true
		case volume(b) == 1:
			return 0, true
		}
		return 0, false
	}
	sa, okA := stride(a, ra, ca)
	sb, okB := stride(b, rb, cb)
	if !okA || !okB {
		return nil, diag.Errorf(diag.UnsupportedNode, "%s: batch broadcasting of %v by %v does not run on the CUDA target yet", dsl.LayerString(l), a, b)
	}
	// Row-major C[M,N] = op(A) op(B)  <=>  col-major C^T[N,M] = op(B)^T op(A)^T:
	// cuBLASLt's A is our B (stored col-major as B^T, so "transposed" iff tb),
	// its B is our A.
	nb := volume(batch)
	if nb > 1 && sb == 0 && !ta {
		// A batch of A's by one B (a linear layer over [batch, tokens,
		// features]) is one GEMM with the batches stacked as rows of A
		// and C: a batched GEMM of small M runs at half the speed.
		M, nb, sa = M*nb, 1, 0
	}
	var bias cuda.DevicePtr
	if s.Epilogue > 0 {
		b, ok := x.consts[biasOf(x.layers[s.Epilogue-1], l.Output(0))]
		if !ok {
			return nil, diag.Errorf(diag.EngineCorrupt, "%s: the bias its plan folds in is no constant", dsl.LayerString(l))
		}
		bias = b.Ptr()
	}
	p, err := x.gemm(l.Input(0).Type(), tb, ta, N, M, K, cb, ca, N, nb, sb, sa, M*N, bias)
	if err != nil {
		return nil, err
	}
	_, p.out = fusedIO(x.layers, s)
	return p, nil
}

func (m *matmulPlan) run(c *cudaContext, sp *shapePlan, i int, l dsl.Layer) error {
	return m.runAlgo(c, sp, l, c.matmulAlgo(sp, i, l, m))
}

func (m *matmulPlan) runAlgo(c *cudaContext, sp *shapePlan, l dsl.Layer, a *cuda.Algo) error {
	A, B := c.addr(sp, l.Input(1)), c.addr(sp, l.Input(0))
	D := c.addr(sp, m.out)
	return c.x.lt.Matmul(c.stream, m.desc, 1, A, m.la, B, m.lb, 0, D, m.lc, D, m.lc, a, c.workspace.Ptr(), workspaceBytes)
}

// conv runs a convolution through cuDNN (with its bias fused) when cuDNN
// has an engine for it, else as im2col, one batched GEMM per group, and
// the bias kernel.
func (c *cudaContext) conv(sp *shapePlan, i int, l dsl.Layer) error {
	if p := c.cudnnPlan(sp, i, l); p != nil {
		if err := c.ensure(&c.convWS, int64(p.WorkspaceSize())); err != nil {
			return err
		}
		return c.runConvPlan(sp, i, l, p)
	}
	s := c.x.plan.Steps[i]
	if isChannelsLast(c.x.layers, s) {
		return diag.Errorf(diag.UnsupportedNode, "%s: cuDNN has no engine for this channels-last convolution (or is not loaded), and the im2col path takes NCHW only", dsl.LayerString(l))
	}
	if err := c.ensure(&c.col, sp.convCol); err != nil {
		return err
	}
	cl := l.(*dsl.ConvolutionLayer)
	m := sp.matmuls[i]
	in := sp.dims[l.Input(0)]
	out := sp.dims[l.Output(0)]
	k := cl.KernelSizeNd()
	total := in[0] * in[1] * k[0] * k[1] * out[2] * out[3]
	metaPtr := sp.meta.Ptr().Add(int(sp.metaOff[i]))
	if err := c.stream.Launch(c.x.fns[s.Kernel], grid(total), block256, 0, metaPtr, total, c.col.Ptr(), c.addr(sp, l.Input(0))); err != nil {
		return err
	}
	w := c.x.convW[l]
	D := c.addr(sp, l.Output(0))
	for g := int64(0); g < m.groups; g++ {
		B := c.col.Ptr().Add(int(g * m.groupA * m.elem))
		A := w.Ptr().Add(int(g * m.groupB * m.elem))
		Dg := D.Add(int(g * m.groupC * m.elem))
		// cuBLASLt's A is the column matrix (col^T[P,K]), its B the weights.
		if err := c.x.lt.Matmul(c.stream, m.desc, 1, B, m.la, A, m.lb, 0, Dg, m.lc, Dg, m.lc, m.algo, c.workspace.Ptr(), workspaceBytes); err != nil {
			return err
		}
	}
	if s.Extra != "" {
		n := volume(out)
		bias := c.x.convB[l]
		return c.stream.Launch(c.x.fns[s.Extra], grid(n), block256, 0, sp.meta.Ptr().Add(int(sp.extraOff[i])), n, D, bias.Ptr())
	}
	return nil
}

// convKey names one convolution of one shape plan.
type convKey struct {
	sp   *shapePlan
	step int
}

// cudnnPlan returns this context's cuDNN plan for a convolution, made the
// first time, or nil when cuDNN is missing or has no engine for it (the
// im2col path runs instead).
func (c *cudaContext) cudnnPlan(sp *shapePlan, i int, l dsl.Layer) *cuda.ConvPlan {
	if p, ok := c.convPlans[convKey{sp, i}]; ok {
		return p
	}
	var plan *cuda.ConvPlan
	defer func() { c.convPlans[convKey{sp, i}] = plan }()
	if c.dnn == nil && !c.noDNN {
		d, err := c.x.dev.NewCudnn()
		if err == nil {
			err = d.SetStream(c.stream)
		}
		if err != nil {
			c.noDNN = true
			return nil
		}
		c.dnn = d
	}
	if c.dnn == nil {
		return nil
	}
	cl := l.(*dsl.ConvolutionLayer)
	s := c.x.plan.Steps[i]
	in := sp.dims[l.Input(0)]
	k, st, dl := cl.KernelSizeNd(), cl.StrideNd(), cl.DilationNd()
	g := cl.Geometry(dsl.Dims(in[2:]))
	cfg := cuda.Conv2D{DataType: l.Input(0).Type(), N: int(in[0]), C: int(in[1]), H: int(in[2]), W: int(in[3]),
		K: int(cl.NbOutputMaps()), R: int(k[0]), S: int(k[1]), Groups: int(cl.NbGroups()),
		PadBegin: [2]int{int(g.Pre[0]), int(g.Pre[1])}, PadEnd: [2]int{int(g.Post[0]), int(g.Post[1])},
		Stride: [2]int{int(st[0]), int(st[1])}, Dilation: [2]int{int(dl[0]), int(dl[1])},
		Bias: c.x.convB[l] != nil && cl.BiasWeights().Type() == l.Input(0).Type(), AllowTF32: c.x.plan.TF32,
		ChannelsLast: isChannelsLast(c.x.layers, s), Residual: s.Residual > 0}
	if s.Activation > 0 {
		cfg.Activation = cuda.ActReLU
	}
	plan = c.fastestConvPlan(sp, i, l, cfg)
	return plan
}

// runConvPlan runs a cuDNN plan, and the bias kernel after it when the
// plan does not add the bias itself.
func (c *cudaContext) runConvPlan(sp *shapePlan, i int, l dsl.Layer, p *cuda.ConvPlan) error {
	var bias cuda.DevicePtr
	b := c.x.convB[l]
	if b != nil {
		bias = b.Ptr()
	}
	s := c.x.plan.Steps[i]
	in, out := fusedIO(c.x.layers, s) // NHWC views for channels-last steps
	var z cuda.DevicePtr
	if t := residualInput(c.x.layers, s); t != nil {
		z = c.addr(sp, t)
	}
	y := c.addr(sp, out)
	if err := p.Execute(c.addr(sp, in), c.x.convW[l].Ptr(), bias, z, y, c.convWS.Ptr()); err != nil {
		return err
	}
	if b == nil || p.Config().Bias {
		return nil
	}
	n := volume(sp.dims[l.Output(0)])
	return c.stream.Launch(c.x.fns[c.x.plan.Steps[i].Extra], grid(n), block256, 0, sp.meta.Ptr().Add(int(sp.extraOff[i])), n, y, bias)
}

// convCandidates are cuDNN's plans for a convolution: up to n with the
// bias in cuDNN's graph and, when there is a bias, up to n without it
// (the bias kernel follows): for NCHW half convolutions cuDNN's fused
// engines can be several times slower than its plain ones.
func (c *cudaContext) convCandidates(i int, l dsl.Layer, key string, cfg cuda.Conv2D) []*cuda.ConvPlan {
	n := candidates(c.x.plan.OptLevel)
	without := func(bias bool) func(int64) bool {
		return func(e int64) bool { return c.x.isExcluded(key, choice{Engine: e, Bias: bias}) }
	}
	var plans []*cuda.ConvPlan
	if cfg.Bias {
		plans, _ = c.dnn.ConvPlansWithout(cfg, n, without(true))
	}
	if c.x.plainConvOK(i, l) {
		plain := cfg
		plain.Bias = false
		more, _ := c.dnn.ConvPlansWithout(plain, n, without(false))
		plans = append(plans, more...)
	}
	return plans
}

// plainConvOK reports whether step i's convolution may run a cuDNN plan
// without the bias: it has no bias, or a bias kernel to add it after
// and no residual sum or activation in its graph to apply after the bias.
func (x *executable) plainConvOK(i int, l dsl.Layer) bool {
	s := x.plan.Steps[i]
	return x.convB[l] == nil || s.Extra != "" && s.Activation == 0 && s.Residual == 0
}

// fastestConvPlan picks the convolution's cuDNN plan for this shape plan:
// the engine's or the timing cache's choice, else the fastest candidate
// timed on the real buffers the first time any context meets it; later
// contexts take the same choice without timing.
func (c *cudaContext) fastestConvPlan(sp *shapePlan, i int, l dsl.Layer, cfg cuda.Conv2D) *cuda.ConvPlan {
	key, sig := choiceKey(i, l, sp.dims), timingcache.Signature("cuda.conv", cfg)
	// A choice made before: build only its plan.
	if ch, ok := c.x.knownChoice(key, sig); ok && (ch.Bias && cfg.Bias || !ch.Bias && c.x.plainConvOK(i, l)) && !c.x.isExcluded(key, ch) {
		want := cfg
		want.Bias = ch.Bias
		if p, err := c.dnn.ConvPlanOfEngine(want, ch.Engine); err == nil {
			return p
		}
	}
	plans := c.convCandidates(i, l, key, cfg)
	if len(plans) == 0 {
		return nil
	}
	pick, d := c.timeConvPlans(sp, i, l, plans)
	if d > 0 {
		c.x.measured(key, sig, choice{Engine: plans[pick].Engine(), Bias: plans[pick].Config().Bias, TimeNS: d.Nanoseconds()})
	}
	for j, p := range plans {
		if j != pick {
			p.Close()
		}
	}
	return plans[pick]
}

// timeConvPlans returns the index of the fastest plan and its time for
// one run (plans that fail are skipped; 0 when nothing was timed).
func (c *cudaContext) timeConvPlans(sp *shapePlan, i int, l dsl.Layer, plans []*cuda.ConvPlan) (int, time.Duration) {
	if len(plans) == 1 {
		return 0, 0
	}
	best, bestTime := 0, time.Duration(0)
	for j, p := range plans {
		if err := c.ensure(&c.convWS, int64(p.WorkspaceSize())); err != nil {
			continue
		}
		d, ok := c.timeRuns(func() error { return c.runConvPlan(sp, i, l, p) })
		if !ok {
			continue
		}
		if profilingLayers {
			fmt.Fprintf(os.Stderr, "trtc/cuda: %s: cuDNN engine %d (bias fused %v, notes %v): %v a run\n", dsl.LayerString(l), p.Engine(), p.Config().Bias, p.Notes(), d)
		}
		if bestTime == 0 || d < bestTime {
			best, bestTime = j, d
		}
	}
	return best, bestTime
}
