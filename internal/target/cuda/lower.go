package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
)

// step is one layer of the plan.
type step struct {
	Layer  int    `json:"layer"` // index in the decoded network's TopoLayers
	Kind   string `json:"kind"`
	Kernel string `json:"kernel,omitempty"`
	Extra  string `json:"extra,omitempty"` // a second kernel (conv: the bias add); a plugin kernel's fingerprint
	Why    string `json:"why,omitempty"`   // why a layer runs on the host
}

// plan is the engine's launch plan (the "plan" section, JSON).
type plan struct {
	Steps []step `json:"steps"`
	TF32  bool   `json:"tf32"`
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

// lowerNetwork decides each layer's step and writes the kernels' source,
// one program per distinct kernel (names are content hashes, so layers
// that compute the same thing share a kernel, and a process compiles each
// kernel once; see compileCached).
func lowerNetwork(net *dsl.Network, o ir.Options) (*plan, map[string]string, error) {
	srcs := map[string]string{fixedModule: copyKernels() + gatherKernels()}
	p := &plan{TF32: o.TF32}
	regions := ir.RegionMembers(net)
	for i, l := range net.TopoLayers() {
		s := step{Layer: i}
		if regions[l] {
			return nil, nil, &diag.Error{Code: diag.UnsupportedNode, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(),
				Msg: "loops and conditionals do not run on the CUDA target yet; build for --target cpu"}
		}
		k, why := chooseKind(l)
		s.Kind, s.Why = k, why
		switch k {
		case kindCopy, kindConcat:
			s.Kernel = copyName(l.Output(0).Type())
		case kindGather:
			s.Kernel = gatherName(l.Output(0).Type(), l.Input(1).Type())
		case kindKernel:
			name, ok := addKernel(srcs, func(n string) (string, bool) { return kernelSource(n, l) })
			if !ok {
				s.Kind, s.Why = kindHost, "no generated kernel for these types"
				break
			}
			s.Kernel = name
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
		p.Steps = append(p.Steps, s)
	}
	return p, srcs, nil
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
	switch l := l.(type) {
	case *dsl.ReduceLayer:
		return reduceKernel(name, l)
	case *dsl.SoftMaxLayer:
		return softmaxKernel(name, l)
	case *dsl.NormalizationLayer:
		return normalizationKernel(name, l)
	case *dsl.PoolingLayer:
		return poolKernel(name, l)
	}
	return pointwiseKernel(name, l)
}

// chooseKind picks how a layer runs, or the host with the reason.
func chooseKind(l dsl.Layer) (kind, why string) {
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
		first, second := isIdentity(l.FirstTranspose()), isIdentity(l.SecondTranspose())
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
		for i := 1; i < l.NbInputs(); i++ {
			if l.Input(i) != nil {
				return kindHost, "slice parameters given as tensors"
			}
		}
		if len(l.Axes()) != 0 {
			return kindHost, "slice with axes"
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

func isIdentity(p dsl.Permutation) bool {
	for i, v := range p {
		if v != i {
			return false
		}
	}
	return true
}

func (p *plan) encode() ([]byte, error) { return json.Marshal(p) }

func decodePlan(b []byte, nbLayers int) (*plan, error) {
	p := &plan{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, diag.Wrap(diag.EngineCorrupt, err, "cuda plan section does not decode")
	}
	if len(p.Steps) != nbLayers {
		return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan has %d steps for %d layers", len(p.Steps), nbLayers)
	}
	for i, s := range p.Steps {
		if s.Layer != i {
			return nil, diag.Errorf(diag.EngineCorrupt, "cuda plan step %d is for layer %d", i, s.Layer)
		}
	}
	return p, nil
}
