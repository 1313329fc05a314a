// Package cuda is trtc's own GPU target: kernels generated as CUDA C and
// compiled by NVRTC for the build GPU's architecture, matrix multiplies
// through cuBLASLt, convolutions as an im2col kernel and a cuBLASLt GEMM.
// Layers with no kernel yet run on the host through the CPU engine's
// kernels, with copies in and out, and the build summary names each one.
//
// The engine holds the network (for shape resolution and host layers, the
// CPU target's sections), the launch plan (JSON) and one cubin. Loading
// checks the GPU architecture and the major versions of CUDA, NVRTC and
// cuBLASLt against the build's. Shapes are resolved on the host per set of
// input shapes, once; contexts share weights and kernels and each has its
// own stream and activation arena, planned by liveness.
package cuda

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

const (
	sectionPlan  = "cuda.plan"
	sectionCubin = "cuda.cubin"
)

func init() { target.Register(cudaTarget{}) }

type cudaTarget struct{}

func (cudaTarget) Name() string { return "cuda" }

// Probe finds GPU 0 and the libraries, and reports their versions.
func (cudaTarget) Probe() (target.Device, error) {
	if err := cuda.Available(); err != nil {
		return target.Device{}, err
	}
	props, err := cuda.DeviceProperties(0)
	if err != nil {
		return target.Device{}, err
	}
	libs := map[string]string{}
	if v, err := cuda.DriverVersion(); err == nil {
		libs["cuda"] = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	if ma, mi, err := cuda.NVRTCVersion(); err == nil {
		libs["nvrtc"] = fmt.Sprintf("%d.%d", ma, mi)
	}
	if v, err := cuda.BlasLtVersion(); err == nil {
		libs["cublasLt"] = fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
	}
	return target.Device{Arch: props.Arch, Name: props.Name, Libraries: libs}, nil
}

// Lower plans every layer, generates and compiles the kernels, and checks
// that the shapes each profile is tuned for resolve on the host.
func (cudaTarget) Lower(g *ir.Graph, b *target.Build) error {
	net := g.Net
	profiles := b.Profiles
	if len(profiles) == 0 {
		profiles = []target.Profile{{}} // static inputs: their own dims
	}
	var optShapes []map[string][]int64
	for _, p := range profiles {
		shapes := map[string][]int64{}
		for _, in := range net.Inputs() {
			shapes[in.Name()] = in.Dims()
		}
		for _, r := range p.Inputs {
			shapes[r.Input] = r.Opt
		}
		// Dims that depend on data resolve at run time (phases.go).
		if _, _, _, err := resolveKnown(net, shapes, nil); err != nil {
			return err
		}
		optShapes = append(optShapes, shapes)
	}
	if _, err := cuda.CudnnVersion(); err == nil {
		// Channels-last convolutions need cuDNN (the im2col path is NCHW).
		if net, _, err = channelsLast(net); err != nil {
			return err
		}
	}
	p, srcs, err := lowerNetwork(net, b.Options)
	if err != nil {
		return err
	}
	if len(net.Regions()) > 0 {
		dims, _, _, err := resolveKnown(net, optShapes[0], nil)
		if err != nil {
			return err
		}
		lowerDeviceRegions(net, net.TopoLayers(), p, b, dims)
	}
	var cubins []byte
	mods, err := compileKernels(srcs, b.Device.Arch)
	if err != nil {
		return err
	}
	for _, m := range mods {
		p.Modules = append(p.Modules, module{Kernels: m.kernels, Offset: int64(len(cubins)), Length: int64(len(m.cubin))})
		cubins = append(cubins, m.cubin...)
	}
	if err := cpueng.EncodeSections(net, b); err != nil {
		return err
	}
	layers := net.TopoLayers()
	// Plugin kernels: one module each, compiled from the plugin's source.
	for i, st := range p.Steps {
		if st.Kind != kindPlugin {
			continue
		}
		_, k := pluginKernel(layers[i])
		cubin, err := compilePlugin(k, b.Device.Arch)
		if err != nil {
			return diag.Wrap(diag.InvalidNode, err, "the CUDA kernel of %s does not compile", dsl.LayerString(layers[i]))
		}
		p.Steps[i].Extra = k.Fingerprint()
		p.Modules = append(p.Modules, module{PluginStep: i + 1, Offset: int64(len(cubins)), Length: int64(len(cubin))})
		cubins = append(cubins, cubin...)
	}
	pb, err := p.encode()
	if err != nil {
		return err
	}
	b.AddSection(sectionPlan, "cuda-plan", pb)
	b.AddSection(sectionCubin, "cubin", cubins)
	if err := tuneAtBuild(b, p, optShapes); err != nil {
		// The engine still runs: its tactics are timed on first use.
		b.Warnings = append(b.Warnings, fmt.Sprintf("tactics were not timed at build time (%v); they are timed when the engine first runs", err))
	}
	if b.Tactics == nil {
		b.Tactics = map[string]string{}
	}
	hosts := 0
	for _, s := range p.Steps {
		l := layers[s.Layer]
		b.Tactics[l.Name()] = s.Kind
		if t := p.tacticOf(s.Layer); t != "" {
			b.Tactics[l.Name()] = s.Kind + " (" + t + ")"
		}
		switch {
		case s.Kind == kindFused && (p.Steps[s.Into].Activation == s.Layer+1 || p.Steps[s.Into].Residual == s.Layer+1):
			b.Tactics[l.Name()] = "fused into the cuDNN graph of " + layers[s.Into].Name()
		case s.Kind == kindFused && isChannelsLast(layers, p.Steps[s.Into]):
			b.Tactics[l.Name()] = "folded into the channels-last " + layers[s.Into].Type().String() + " " + layers[s.Into].Name()
		case isChannelsLast(layers, s):
			b.Tactics[l.Name()] += ", channels last (NHWC)"
		case s.Kind == kindFused && slices.Contains(append([]int{p.Steps[s.Into].Epilogue}, p.Steps[s.Into].Views...), s.Layer+1) && layers[s.Into].Type() == dsl.LayerAttention:
			b.Tactics[l.Name()] = "a head transpose the attention kernel of " + layers[s.Into].Name() + " reads or writes through"
		case s.Kind == kindFused && p.Steps[s.Into].Scale == s.Layer+1:
			b.Tactics[l.Name()] = "applied to the scores in the attention kernel of " + layers[s.Into].Name()
		case s.Kind == kindFused && p.Steps[s.Into].Kind == kindMatmul:
			b.Tactics[l.Name()] = "fused into the cuBLASLt epilogue of " + layers[s.Into].Name()
		case s.Kind == kindFused:
			b.Tactics[l.Name()] = "fused into the kernel of " + layers[s.Into].Name()
		case len(s.Members) > 0:
			b.Tactics[l.Name()] = fmt.Sprintf("kernel, fused with %d layers before it", len(s.Members)-1)
		}
		if s.Kind == kindHost {
			hosts++
			b.Tactics[l.Name()] = "host (" + s.Why + ")"
			b.Warnings = append(b.Warnings, fmt.Sprintf("%s runs on the host with copies in and out: %s", dsl.LayerString(l), s.Why))
		}
	}
	if b.Metadata == nil {
		b.Metadata = map[string]string{}
	}
	b.Metadata["cuda.host_layers"] = strconv.Itoa(hosts)
	b.Metadata["cuda.tactics_chosen"] = strconv.Itoa(len(p.Choices))
	fused, unfused := p.launches(layers)
	b.Metadata["cuda.launches"] = strconv.Itoa(fused)
	b.Metadata["cuda.launches_unfused"] = strconv.Itoa(unfused)
	return nil
}

// Load uploads the weights, loads the cubin and prepares cuBLASLt.
func (cudaTarget) Load(s target.Sections) (target.Executable, error) {
	x, err := load(s, nil)
	if err != nil {
		return nil, err
	}
	return x, nil
}

// load loads an engine on a context of its own, or on shared (a device
// region's parts share their parent's, devregion.go, so their pinned
// memory and streams are one context's), which it does not close.
func load(s target.Sections, shared *cuda.Context) (*executable, error) {
	net, err := cpueng.DecodeSections(s)
	if err != nil {
		return nil, err
	}
	pb, err := s.Section(sectionPlan)
	if err != nil {
		return nil, err
	}
	layers := net.TopoLayers()
	p, err := decodePlan(pb, len(layers))
	if err != nil {
		return nil, err
	}
	cubin, err := s.Section(sectionCubin)
	if err != nil {
		return nil, err
	}
	dev := shared
	if dev == nil {
		if dev, err = cuda.NewContext(0); err != nil {
			return nil, err
		}
	}
	x := &executable{dev: dev, ownsDev: shared == nil, net: net, layers: layers, plan: p, fns: map[string]*cuda.Function{},
		consts: map[*dsl.Tensor]*cuda.Buffer{}, convW: map[dsl.Layer]*cuda.Buffer{}, convB: map[dsl.Layer]*cuda.Buffer{},
		famW: map[dsl.Layer][]*cuda.Buffer{}, plugins: map[int]*pluginFunctions{},
		shapes: map[string]*shapePlan{}, measuredChoices: map[string]choice{}, excluded: maps.Clone(p.Excluded)}
	fail := func(err error) (*executable, error) {
		x.Close()
		return nil, err
	}
	for _, m := range p.Modules {
		if m.Offset < 0 || m.Length <= 0 || m.Offset+m.Length > int64(len(cubin)) {
			return fail(diag.Errorf(diag.EngineCorrupt, "%s: a cubin lies outside the cubin section", s.Name()))
		}
		mod, err := dev.LoadModule(cubin[m.Offset : m.Offset+m.Length])
		if err != nil {
			return fail(err)
		}
		x.mods = append(x.mods, mod)
		if step := m.PluginStep - 1; step >= 0 {
			if step >= len(layers) || p.Steps[step].Kind != kindPlugin {
				return fail(diag.Errorf(diag.EngineCorrupt, "%s: a plugin module names step %d, which is no plugin step", s.Name(), step))
			}
			if _, k := pluginKernel(layers[step]); k == nil || k.Fingerprint() != p.Steps[step].Extra {
				return fail(diag.Errorf(diag.EngineIncompatible, "%s: %s was built with another CUDA kernel than the registered plugin's (source fingerprints differ): rebuild the engine",
					s.Name(), dsl.LayerString(layers[step])))
			}
			x.plugins[step] = &pluginFunctions{mod: mod, fns: map[string]*cuda.Function{}}
			continue
		}
		for _, n := range m.Kernels {
			if x.fns[n], err = mod.Function(n); err != nil {
				return fail(err)
			}
		}
	}
	for _, st := range p.Steps {
		if st.Kind == kindPlugin {
			if x.plugins[st.Layer] == nil {
				return fail(diag.Errorf(diag.EngineCorrupt, "%s: plugin step %d has no module", s.Name(), st.Layer))
			}
			continue
		}
		names := []string{st.Kernel, st.Extra}
		if st.Kind == kindCounted {
			names = countedEntries(layers[st.Layer], st.Kernel)
		}
		for _, n := range names {
			if _, ok := x.fns[n]; n != "" && !ok {
				return fail(diag.Errorf(diag.EngineCorrupt, "%s: kernel %s of layer %d is in no module", s.Name(), n, st.Layer))
			}
		}
	}
	x.regions = regionsOfPlan(layers, p)
	x.devRegions = map[int]*deviceRegion{}
	if err := x.loadDeviceRegions(s); err != nil {
		return fail(err)
	}
	x.reads = stepReads(layers, p, x.regions)
	x.writes = stepWrites(layers, p, x.regions)
	x.faultSlot, x.faultSteps = faultSlots(layers, p)
	x.faultArg = make([]bool, len(layers))
	for i, st := range p.Steps {
		x.faultArg[i] = takesFaultSlot(st, layers[i])
	}
	for i, st := range p.Steps {
		if st.Kind == kindShape {
			x.shapeLayers = append(x.shapeLayers, layers[i])
		}
	}
	if x.lt, err = dev.NewBlasLt(); err != nil {
		return fail(err)
	}
	upload := func(t *tensor.Tensor) (*cuda.Buffer, error) {
		buf, err := dev.Alloc(int(max(int64(len(t.Bytes())), 1)))
		if err != nil {
			return nil, err
		}
		return buf, dev.CopyHtoD(buf.Ptr(), t.Bytes())
	}
	for i, l := range layers {
		switch p.Steps[i].Kind {
		case kindConstant:
			cl := l.(*dsl.ConstantLayer)
			if x.consts[l.Output(0)], err = upload(cl.Weights().Tensor()); err != nil {
				return fail(err)
			}
		case kindConv:
			cl := l.(*dsl.ConvolutionLayer)
			w := cl.KernelWeights().Tensor()
			if isChannelsLast(layers, p.Steps[i]) {
				if w, err = channelsLastKernel(w, convKernelDims(cl)); err != nil {
					return fail(err)
				}
			}
			if x.convW[l], err = upload(w); err != nil {
				return fail(err)
			}
			if !cl.BiasWeights().IsEmpty() {
				if x.convB[l], err = upload(cl.BiasWeights().Tensor()); err != nil {
					return fail(err)
				}
			}
		case kindKernel:
			if f := familyOf(l); f != nil && f.weights != nil {
				for _, w := range f.weights(l) {
					var b *cuda.Buffer
					if !w.IsEmpty() {
						if b, err = upload(w.Tensor()); err != nil {
							return fail(err)
						}
					}
					x.famW[l] = append(x.famW[l], b)
				}
			}
		}
	}
	return x, nil
}

// stepReads are the tensors each step of p reads (executable.reads);
// regions are regionsOfPlan's, a region step reading its region's inputs.
func stepReads(layers []dsl.Layer, p *plan, regions map[int]*region) [][]*dsl.Tensor {
	reads := make([][]*dsl.Tensor, len(layers))
	for i, l := range layers {
		s := p.Steps[i]
		switch {
		case s.Kind == kindFused || s.Kind == kindInRegion:
		case len(s.Region) > 0:
			reads[i] = regions[i].ins
		case l.Type() == dsl.LayerAttention && (len(s.Views) > 0 || s.Scale > 0):
			reads[i] = attentionOperands(layers, s)
			for j := 3; j < l.NbInputs(); j++ {
				if t := l.Input(j); t != nil {
					reads[i] = append(reads[i], t)
				}
			}
		case s.Kind == kindKernel && isPointwise(l):
			ms := []dsl.Layer{l}
			if len(s.Members) > 0 {
				ms = memberLayers(layers, s.Members)
			}
			reads[i] = groupInputs(ms)
		default:
			in, _ := fusedIO(layers, s)
			for j := 0; j < l.NbInputs(); j++ {
				if t := l.Input(j); t != nil {
					switch {
					case j == 0 && s.Sum > 0:
						sum := layers[s.Sum-1] // both operands of a folded sum
						reads[i] = append(reads[i], sum.Input(0), sum.Input(1))
						continue
					case j == 0:
						t = in // a folded cast's input
					}
					reads[i] = append(reads[i], t)
				}
			}
			if z := residualInput(layers, s); z != nil {
				reads[i] = append(reads[i], z)
			}
		}
	}
	return reads
}

// stepWrites are the tensors each step writes: the layer's outputs, the
// output of the cast a softmax or normalization folds in instead of its
// own, a region step its region's outputs, none for a fused, alias or
// constant step.
func stepWrites(layers []dsl.Layer, p *plan, regions map[int]*region) [][]*dsl.Tensor {
	writes := make([][]*dsl.Tensor, len(layers))
	for i, l := range layers {
		s := p.Steps[i]
		switch s.Kind {
		case kindFused, kindAlias, kindConstant, kindInRegion:
			continue
		}
		if len(s.Region) > 0 {
			writes[i] = regions[i].outs
			continue
		}
		for j := 0; j < l.NbOutputs(); j++ {
			writes[i] = append(writes[i], l.Output(j))
		}
		if s.Epilogue > 0 || s.Residual > 0 || s.Activation > 0 {
			_, writes[i][0] = fusedIO(layers, s)
		}
	}
	return writes
}

// movedElements are the element sizes (in bytes, as they name kernels)
// the fixed copy, transpose and gather kernels move, and their C types.
var movedElements = []struct{ name, ty string }{{"1", "unsigned char"}, {"2", "unsigned short"}, {"4", "unsigned int"}, {"8", "unsigned long long"}}

// fixedKernelNames are the kernels of fixedModule.
func fixedKernelNames() []string {
	var names []string
	for _, t := range movedElements {
		sz := t.name
		names = append(names, "trtc_copy"+sz, "trtc_transpose"+sz, "trtc_gather"+sz+"_i32", "trtc_gather"+sz+"_i64")
	}
	return append(names, wideCopyName, rowCopyName+"1", rowCopyName+"4")
}

// cubinCache holds the cubins this process compiled, by architecture and
// kernel source (a cubin may hold other kernels too): NVRTC takes a few
// hundred milliseconds per program, and models and engines repeat
// kernels.
var cubinCache sync.Map

// compiledModule is one cubin and the kernels of this engine it holds.
type compiledModule struct {
	kernels []string
	cubin   []byte
}

// compileKernels compiles the kernels of srcs (by name) for arch: the ones
// this process has compiled before come from the cache, the others are
// compiled together as one NVRTC program, since most of NVRTC's time is
// per program; the fixed module is a program of its own, shared by every
// engine. When the joint program fails, each kernel is compiled alone so
// the error names the one NVRTC rejects.
func compileKernels(srcs map[string]string, arch string) ([]compiledModule, error) {
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	key := func(n string) string { return arch + "\x00" + srcs[n] }
	var mods []compiledModule
	index := map[*[]byte]int{} // cached cubin -> its module in mods
	var fresh []string
	for _, n := range names {
		kernels := programKernels(n, srcs[n])
		c, ok := cubinCache.Load(key(n))
		if !ok && n == fixedModule {
			cubin, err := cuda.Compile(prelude+srcs[n], "trtc_fixed.cu", arch, []string{"-std=c++17"})
			if err != nil {
				return nil, diag.Wrap(diag.Internal, err, "NVRTC rejected trtc's fixed kernels")
			}
			c, _ = cubinCache.LoadOrStore(key(n), &cubin)
			ok = true
		}
		if !ok {
			fresh = append(fresh, n)
			continue
		}
		cb := c.(*[]byte)
		if i, seen := index[cb]; seen {
			mods[i].kernels = append(mods[i].kernels, kernels...)
			continue
		}
		index[cb] = len(mods)
		mods = append(mods, compiledModule{kernels: kernels, cubin: *cb})
	}
	if len(fresh) == 0 {
		return mods, nil
	}
	var src strings.Builder
	src.WriteString(prelude)
	for _, n := range fresh {
		src.WriteString(srcs[n])
	}
	cubin, err := cuda.Compile(src.String(), "trtc_kernels.cu", arch, []string{"-std=c++17"})
	if err != nil {
		for _, n := range fresh {
			if _, err := cuda.Compile(prelude+srcs[n], "trtc_kernel.cu", arch, []string{"-std=c++17"}); err != nil {
				return nil, diag.Wrap(diag.Internal, err, "NVRTC rejected trtc's generated kernel %s", n)
			}
		}
		return nil, diag.Wrap(diag.Internal, err, "NVRTC rejected trtc's generated kernels compiled together")
	}
	for _, n := range fresh {
		cubinCache.Store(key(n), &cubin)
	}
	var kernels []string
	for _, n := range fresh {
		kernels = append(kernels, programKernels(n, srcs[n])...)
	}
	return append(mods, compiledModule{kernels: kernels, cubin: cubin}), nil
}

// programKernels are the kernels program n (source src) defines: the
// fixed module's, a counted layer's several (counted.go), or the one
// named n.
func programKernels(n, src string) []string {
	if n == fixedModule {
		return fixedKernelNames()
	}
	if entries := entryPointsOf(n, src); len(entries) > 0 {
		return entries
	}
	return []string{n}
}
