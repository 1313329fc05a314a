package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// The kinds of step an engine runs, one per layer.
const (
	kindKernel   = "kernel"   // a generated kernel over the layer's inputs and output
	kindAlias    = "alias"    // the output is the input's memory (reshape, squeeze, same-type identity)
	kindConstant = "constant" // weights uploaded once per engine
	kindShape    = "shape"    // the input's dims, known on the host, uploaded
	kindCopy     = "copy"     // one strided copy (transpose, slice)
	kindConcat   = "concat"   // one strided copy per input into the output
	kindGather   = "gather"   // a gather kernel along one axis
	kindMatmul   = "matmul"   // cuBLASLt
	kindConv     = "conv"     // im2col kernel + cuBLASLt + bias kernel
	kindHost     = "host"     // the CPU engine's kernel, with copies in and out
	kindFused    = "fused"    // computed by a later step's fused pointwise kernel (Into)
	// kindCounted (counted.go): count kernels, a phase boundary, fill kernels
)

// step is one layer of the plan.
type step struct {
	Layer  int    `json:"layer"` // index in the decoded network's TopoLayers
	Kind   string `json:"kind"`
	Kernel string `json:"kernel,omitempty"`
	Extra  string `json:"extra,omitempty"` // a second kernel (conv: the bias add); a plugin kernel's fingerprint
	Why    string `json:"why,omitempty"`   // why a layer runs on the host
	// Members are the layers a fused pointwise kernel computes, in
	// order, this step's own last; Into is the step that computes a
	// fused layer.
	Members []int `json:"members,omitempty"`
	Into    int   `json:"into,omitempty"`
	// Prologue and Epilogue are the casts a softmax or normalization
	// kernel reads through and writes through (castfuse.go), or the bias
	// add a matrix multiply's epilogue computes (matmulfuse.go): their
	// step + 1, 0 for none.
	Prologue int `json:"prologue,omitempty"`
	Epilogue int `json:"epilogue,omitempty"`
	// Residual is the sum with another tensor, and Activation the ReLU,
	// that a channels-last convolution's cuDNN graph applies to its
	// output (layout.go); Sum is the sum of two tensors a normalization
	// kernel reads as its input (castfuse.go): their step + 1, 0 for none.
	Residual   int `json:"residual,omitempty"`
	Activation int `json:"activation,omitempty"`
	Sum        int `json:"sum,omitempty"`
	// Views are the head transposes (step + 1, 0 for none) an attention
	// step reads Q, K and V through, and Scale the product of Q with a
	// scalar constant it applies to the scores (attentionfuse.go); its
	// Epilogue is then the transpose of its output.
	Views []int `json:"views,omitempty"`
	Scale int   `json:"scale,omitempty"`
	// Region lists the steps of the loop or conditional a host step runs
	// (region.go), ascending, its own last.
	Region []int `json:"region,omitempty"`
}

// plan is the engine's launch plan (the "plan" section, JSON).
type plan struct {
	// Version is planVersion when the plan was written; kernels'
	// signatures change between versions.
	Version int    `json:"version"`
	Steps   []step `json:"steps"`
	TF32    bool   `json:"tf32"`
	// OptLevel says how many tactics are timed (candidates).
	OptLevel int `json:"opt_level"`
	// Choices are the tactics measured at build time, by step and shape
	// (choiceKey; tactics.go).
	Choices map[string]choice `json:"choices,omitempty"`
	// Excluded are the tactics (choice.tactic) the build's stream-order
	// check ruled out, by choice key (streamorder.go): a step timed when
	// the engine first runs does not time them.
	Excluded map[string][]string `json:"excluded,omitempty"`
	// Modules locate each cubin in the cubin section and name its kernels.
	Modules []module `json:"modules"`
}

// module is one compiled NVRTC program: trtc's kernels, named, or a
// plugin's (PluginStep is its step + 1, 0 for trtc's modules; a plugin's
// entries are looked up when launched).
type module struct {
	Kernels    []string `json:"kernels,omitempty"`
	PluginStep int      `json:"plugin_step,omitempty"`
	Offset     int64    `json:"offset"`
	Length     int64    `json:"length"`
}

// planVersion is the version of the plan and kernel signatures this trtc
// writes and runs (2: kernels that check indices take a fault slot; 3:
// matrix multiplies fold in bias adds, which an older trtc would skip; 4:
// channels-last convolutions and poolings, and residual sums and ReLUs
// folded into convolutions and normalizations; 5: head transposes and
// the query scale folded into attention; 6: NonZero and NMS as counted
// steps on the GPU, loops and conditionals as device regions).
const planVersion = 6

// lowerNetwork decides each layer's step and writes the kernels' source,
// one program per distinct kernel (names are content hashes, so layers
// that compute the same thing share a kernel, and a process compiles each
// kernel once; see compileKernels).
func lowerNetwork(net *dsl.Network, o ir.Options) (*plan, map[string]string, error) {
	srcs := map[string]string{fixedModule: fixedModuleSource()}
	p := &plan{Version: planVersion, TF32: o.TF32, OptLevel: o.OptLevel}
	regions := ir.RegionMembers(net)
	dataDep := dependsOnData(net)
	layers := net.TopoLayers()
	kinds := make([]string, len(layers))
	for i, l := range layers {
		if regions[l] {
			kinds[i] = kindInRegion // lowerRegions below
			p.Steps = append(p.Steps, step{Layer: i, Kind: kindInRegion})
			continue
		}
		s := step{Layer: i}
		s.Kind, s.Why = chooseKind(l, dataDep)
		if s.Kind == kindKernel && isPointwise(l) {
			if !hasPointwiseKernel(l) {
				s.Kind, s.Why = kindHost, "no generated kernel for these types"
			}
		}
		kinds[i] = s.Kind
		p.Steps = append(p.Steps, s)
	}
	if err := lowerRegions(net, layers, kinds, p.Steps); err != nil {
		return nil, nil, err
	}
	fuseChannelsLast(layers, kinds, p.Steps)
	fuseConvActivations(layers, kinds, p.Steps)
	fuseCasts(layers, kinds, p.Steps)
	fuseMatmulBias(layers, kinds, p.Steps)
	fuseAttentionOperands(layers, kinds, p.Steps)
	groups := pointwiseGroups(layers, kinds)
	members := map[int][]int{}
	for i, g := range groups {
		if g >= 0 {
			members[g] = append(members[g], i)
		}
	}
	for i, l := range layers {
		s := &p.Steps[i]
		switch s.Kind {
		case kindCopy, kindConcat:
			s.Kernel = copyName(l.Output(0).Type())
		case kindGather:
			s.Kernel = gatherName(l.Output(0).Type(), l.Input(1).Type())
		case kindKernel:
			if g := groups[i]; g >= 0 && g != i {
				s.Kind, s.Into = kindFused, g
				continue
			}
			gen := func(n string) (string, bool) { return kernelSource(n, l) }
			switch pl, pool := l.(*dsl.PoolingLayer); {
			case pool && isChannelsLast(layers, *s):
				gen = func(n string) (string, bool) { return poolKernel(n, pl, true) }
			case l.Type() == dsl.LayerAttention && (len(s.Views) > 0 || s.Scale > 0 || s.Epilogue > 0):
				a := layoutOf(layers, *s)
				gen = func(n string) (string, bool) { return tensorCoreAttentionKernel(n, l, tensorCoreHeadDim(l), a) }
			case s.Prologue > 0 || s.Epilogue > 0 || s.Sum > 0:
				in, out := fusedIO(layers, *s)
				sum := s.Sum > 0
				gen = func(n string) (string, bool) { return castFusedSource(n, l, in.Type(), out.Type(), sum) }
			}
			if ms := members[i]; len(ms) > 0 {
				if len(ms) > 1 {
					s.Members = ms
				}
				gen = func(n string) (string, bool) { return pointwiseKernel(n, memberLayers(layers, ms)) }
			}
			name, ok := addKernel(srcs, gen)
			switch {
			case !ok && len(s.Members) > 0:
				// Every member has a kernel of its own (probed above).
				return nil, nil, diag.Errorf(diag.Internal, "no fused kernel for the pointwise group ending at %s", dsl.LayerString(l))
			case !ok:
				s.Kind, s.Why = kindHost, "no generated kernel for these types"
			default:
				s.Kernel = name
			}
		case kindCounted:
			s.Kernel, _ = addKernel(srcs, func(n string) (string, bool) { return counters[l.Type()].source(n, l), true })
		case kindConv:
			cl := l.(*dsl.ConvolutionLayer)
			s.Kernel, _ = addKernel(srcs, func(n string) (string, bool) { return im2colKernel(n, l.Input(0).Type()) })
			if !cl.BiasWeights().IsEmpty() {
				name, ok := addKernel(srcs, func(n string) (string, bool) {
					return biasKernel(n, l.Output(0).Type(), cl.BiasWeights().Type())
				})
				if !ok {
					s.Kind, s.Why, s.Kernel = kindHost, "bias type has no kernel", ""
					break
				}
				s.Extra = name
			}
		}
	}
	return p, srcs, nil
}

// fixedModuleSource is the module every engine has: the copies, wide
// copies, tiled transposes and gathers (fixedKernelNames).
func fixedModuleSource() string {
	return copyKernels() + wideCopyKernel() + transposeKernels() + gatherKernels() + rowCopyKernels()
}

// launches counts what one inference launches on the GPU: generated
// kernels, copies and gathers (a concatenation one per input), cuBLASLt and
// cuDNN calls, plugin kernels, shape uploads; with every fused step as a
// launch of its own, the count without fusion (the transposes a
// channels-last convolution folds in are views, launched in neither). (A convolution
// whose fastest cuDNN plan leaves the bias out launches one more, known
// only when the plan is timed.)
func (p *plan) launches(layers []dsl.Layer) (fused, unfused int) {
	for i, s := range p.Steps {
		n := 0
		switch s.Kind {
		case kindKernel, kindCopy, kindGather, kindMatmul, kindConv, kindPlugin, kindShape, kindDeviceRegion:
			n = 1 // a device region: its parts' launches, per iteration, are not counted
		case kindCounted:
			n = len(counters[layers[i].Type()].entries) // about: NMS sorts in one launch per stage above 2048 pairs
		case kindConcat:
			n = layers[i].NbInputs()
		case kindFused:
			if _, view := layers[i].(*dsl.ShuffleLayer); !view || !isChannelsLast(layers, p.Steps[s.Into]) {
				unfused++ // (a channels-last view is no launch in either count)
			}
		}
		fused += n
		unfused += n
	}
	return fused, unfused
}

// memberLayers are the layers of step indices ms.
func memberLayers(layers []dsl.Layer, ms []int) []dsl.Layer {
	out := make([]dsl.Layer, len(ms))
	for k, i := range ms {
		out[k] = layers[i]
	}
	return out
}

// fixedModule names the program of the kernels every engine has (copies,
// gathers).
const fixedModule = "trtc_fixed"

// addKernel generates a kernel under a placeholder name, renames it after
// the hash of its source and adds it to srcs.
func addKernel(srcs map[string]string, gen func(name string) (string, bool)) (string, bool) {
	const placeholder = "trtc_kernel_placeholder"
	code, ok := gen(placeholder)
	if !ok {
		return "", false
	}
	sum := sha256.Sum256([]byte(code))
	name := "trtc_k" + hex.EncodeToString(sum[:8])
	srcs[name] = strings.ReplaceAll(code, placeholder, name)
	return name, true
}

// kernelSource writes the kernel of a kindKernel layer.
func kernelSource(name string, l dsl.Layer) (string, bool) {
	if f := familyOf(l); f != nil {
		return f.source(name, l)
	}
	switch l := l.(type) {
	case *dsl.ReduceLayer:
		return reduceKernel(name, l)
	case *dsl.SoftMaxLayer:
		return softmaxKernel(name, l)
	case *dsl.NormalizationLayer:
		return normalizationKernel(name, l)
	case *dsl.PoolingLayer:
		return poolKernel(name, l, false)
	}
	return pointwiseKernel(name, []dsl.Layer{l})
}

// chooseKind picks how a layer runs, or the host with the reason;
// dataDep marks the tensors whose values are known only at run time.
func chooseKind(l dsl.Layer, dataDep map[*dsl.Tensor]bool) (kind, why string) {
	if f := familyOf(l); f != nil {
		return familyKind(f, l, dataDep)
	}
	if c := counters[l.Type()]; c != nil {
		return countedKind(c, l)
	}
	switch l := l.(type) {
	case *dsl.PluginLayer:
		if _, k := pluginKernel(l); k != nil {
			return kindPlugin, ""
		}
		return kindHost, dsl.PluginID(l.Plugin()) + " has no CUDA kernel: its Go implementation runs"
	case *dsl.ConstantLayer:
		return kindConstant, ""
	case *dsl.ShapeLayer:
		return kindShape, ""
	case *dsl.SqueezeLayer, *dsl.UnsqueezeLayer:
		return kindAlias, ""
	case *dsl.IdentityLayer:
		if l.Input(0).Type() == l.Output(0).Type() {
			return kindAlias, ""
		}
		return kindKernel, ""
	case *dsl.ElementWiseLayer, *dsl.UnaryLayer, *dsl.ActivationLayer, *dsl.CastLayer, *dsl.SelectLayer, *dsl.ParametricReLULayer:
		for i := 0; i < l.NbInputs(); i++ {
			if l.Input(i).Rank() != l.Output(0).Rank() {
				return kindHost, "inputs of another rank than the output"
			}
		}
		return kindKernel, ""
	case *dsl.ShuffleLayer:
		first, second := l.FirstTranspose().IsIdentity(), l.SecondTranspose().IsIdentity()
		switch {
		case first && second:
			return kindAlias, ""
		case first || second:
			return kindCopy, ""
		}
		return kindHost, "a shuffle with two transposes"
	case *dsl.ConcatenationLayer:
		return kindConcat, ""
	case *dsl.SliceLayer:
		if l.Mode() != dsl.SampleStrictBounds {
			return kindHost, "slice mode " + l.Mode().String()
		}
		for _, i := range sliceParamInputs {
			if t := l.Input(i); t != nil && dataDep[t] {
				return kindHost, "slice parameters computed from data"
			}
		}
		return kindCopy, ""
	case *dsl.GatherLayer:
		if l.Mode() != dsl.GatherDefault || l.NbElementWiseDims() != 0 {
			return kindHost, "gather mode " + l.Mode().String()
		}
		return kindGather, ""
	case *dsl.ReduceLayer, *dsl.SoftMaxLayer:
		return kindKernel, ""
	case *dsl.NormalizationLayer:
		if _, ok := trailingAxes(l.Axes(), l.Input(0).Rank()); !ok || l.NbGroups() > 1 {
			return kindHost, "normalization over axes that are not the trailing ones, or with groups"
		}
		return kindKernel, ""
	case *dsl.PoolingLayer:
		if len(l.WindowSizeNd()) != 2 {
			return kindHost, "pooling that is not 2-d"
		}
		return kindKernel, ""
	case *dsl.MatrixMultiplyLayer:
		if l.Operation(0) == dsl.MatrixOpVector || l.Operation(1) == dsl.MatrixOpVector {
			return kindHost, "matrix-vector products"
		}
		if !isFloat(l.Input(0).Type()) || l.Input(0).Rank() < 2 || l.Input(1).Rank() < 2 {
			return kindHost, "non-float or rank-1 matrix multiply"
		}
		return kindMatmul, ""
	case *dsl.ConvolutionLayer:
		if len(l.KernelSizeNd()) != 2 || l.NbInputs() > 1 && l.Input(1) != nil || !isFloat(l.Input(0).Type()) {
			return kindHost, "convolution that is not 2-d with constant weights"
		}
		return kindConv, ""
	}
	return kindHost, "no CUDA kernel for " + l.Type().String() + " yet"
}

func (p *plan) encode() ([]byte, error) { return json.Marshal(p) }

func decodePlan(b []byte, nbLayers int) (*plan, error) {
	p := &plan{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, diag.Wrap(diag.EngineCorrupt, err, "cuda plan section does not decode")
	}
	if p.Version != planVersion {
		return nil, diag.Errorf(diag.EngineIncompatible, "the engine's CUDA plan is version %d, this trtc runs version %d; rebuild the engine with this trtc", p.Version, planVersion)
	}
	if len(p.Steps) != nbLayers {
		return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan has %d steps for %d layers", len(p.Steps), nbLayers)
	}
	for i, s := range p.Steps {
		if s.Layer != i {
			return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d is for layer %d", i, s.Layer)
		}
		if s.Kind == kindInRegion && (s.Into <= i || s.Into >= len(p.Steps) || !slices.Contains(p.Steps[s.Into].Region, i)) {
			return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d is in a region whose step %d does not run it", i, s.Into)
		}
		if n := len(s.Region); n > 0 && (s.Kind != kindHost && s.Kind != kindDeviceRegion || s.Region[n-1] != i || !slices.IsSorted(s.Region) || slices.ContainsFunc(s.Region[:n-1], func(m int) bool { return m < 0 || p.Steps[m].Kind != kindInRegion })) {
			return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d runs region %v, which is not its layers", i, s.Region)
		}
		if s.Kind == kindFused && !computes(p.Steps, s.Into, i) {
			return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d is fused into step %d, which does not compute it", i, s.Into)
		}
		if len(s.Views) > 0 && (len(s.Views) != 3 || p.Steps[i].Kind != kindKernel) {
			return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d reads %d operands through views", i, len(s.Views))
		}
		for _, c := range append([]int{s.Prologue, s.Epilogue, s.Residual, s.Activation, s.Sum, s.Scale}, s.Views...) {
			if c > 0 && (c > len(p.Steps) || p.Steps[c-1].Kind != kindFused || p.Steps[c-1].Into != i) {
				return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d folds in step %d, which is not fused into it", i, c-1)
			}
		}
		if n := len(s.Members); n > 0 && s.Members[n-1] != i {
			return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d fuses members %v that do not end with it", i, s.Members)
		}
		for k, m := range s.Members {
			if m < 0 || m > i || k > 0 && m <= s.Members[k-1] || (m < i) != (p.Steps[m].Kind == kindFused) || m == i && k != len(s.Members)-1 {
				return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d lists member %d out of order or not fused", i, m)
			}
		}
	}
	return p, nil
}

// computes reports whether step into computes fused step i: as a member
// of its pointwise group (a later step) or as a cast it folds in.
func computes(steps []step, into, i int) bool {
	if into < 0 || into >= len(steps) || into == i {
		return false
	}
	t := steps[into]
	return into > i && slices.Contains(t.Members, i) || slices.Contains(append([]int{t.Prologue, t.Epilogue, t.Residual, t.Activation, t.Sum, t.Scale}, t.Views...), i+1)
}

// castFusedSource writes a softmax or normalization kernel that reads
// its data input as type in and stores its output as type out; with
// sum, a normalization's input is the sum of two tensors of type in.
func castFusedSource(name string, l dsl.Layer, in, out dsl.DataType, sum bool) (string, bool) {
	switch l := l.(type) {
	case *dsl.SoftMaxLayer:
		return softmaxKernelTypes(name, l, in, out)
	case *dsl.NormalizationLayer:
		return normalizationKernelTypes(name, l, in, out, sum)
	}
	return "", false
}
