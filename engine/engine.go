package engine

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/tensor"

	// The CPU and CUDA targets are in every build (the CUDA target loads
	// its libraries at run time and reports NoDevice where they are
	// missing); TensorRT registers itself in builds with -tags tensorrt.
	_ "github.com/trtc/trtc/internal/target/cpu"
	_ "github.com/trtc/trtc/internal/target/cuda"
)

// Engine is a loaded engine (TensorRT's ICudaEngine): what it computes, and
// the loaded weights and kernels its contexts share.
type Engine struct {
	file *File
	exe  target.Executable
	// ranges are each profile's shape ranges by input name, read from the
	// manifest once: every Execute checks its inputs against them.
	ranges []map[string]*target.ShapeRange
}

// TensorDesc is an engine input or output.
type TensorDesc struct {
	Name  string
	DType tensor.DataType
	Dims  []int64 // -1 for dims chosen at run time
}

// Profile is an optimization profile: the shapes an engine accepts.
type Profile = target.Profile

// ShapeRange is one input's min/opt/max dims in a profile.
type ShapeRange = target.ShapeRange

// Load reads the engine file at path, verifies it (every section's
// SHA-256), checks it was built for a target and device present here and
// loads it. The file is read into memory and closed.
func Load(path string) (*Engine, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	return load(f)
}

// LoadBytes loads an engine file held in memory.
func LoadBytes(b []byte) (*Engine, error) {
	f, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	return load(f)
}

// LoadPlan loads a plan just built, through the same bytes Save would
// write, so what runs is exactly what a saved engine would be.
func LoadPlan(p *Plan) (*Engine, error) {
	b, err := p.Bytes()
	if err != nil {
		return nil, err
	}
	return LoadBytes(b)
}

func load(f *File) (*Engine, error) {
	if err := f.Verify(); err != nil {
		f.Close()
		return nil, err
	}
	name := f.Manifest().GetTarget()
	t, ok := target.Lookup(name)
	if !ok {
		f.Close()
		return nil, diag.Errorf(diag.EngineIncompatible, "%s: engine built for target %q, which this trtc binary does not include (it has: %s)", f.name, name, strings.Join(target.Names(), ", "))
	}
	dev, err := t.Probe()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: cannot run a %s engine here: %w", f.name, name, err)
	}
	if err := f.CheckCompatible(Compat{FormatVersion: FormatVersion, Target: name, DeviceArch: dev.Arch, Libraries: dev.Libraries}); err != nil {
		f.Close()
		return nil, err
	}
	exe, err := t.Load(fileSections{f})
	if err != nil {
		f.Close()
		return nil, err
	}
	e := &Engine{file: f, exe: exe}
	for _, p := range ProfilesOf(f.Manifest()) {
		m := map[string]*target.ShapeRange{}
		for i := range p.Inputs {
			m[p.Inputs[i].Input] = &p.Inputs[i]
		}
		e.ranges = append(e.ranges, m)
	}
	return e, nil
}

// fileSections gives a target the sections of a verified file.
type fileSections struct{ f *File }

func (s fileSections) Section(name string) ([]byte, error) { return s.f.Section(name) }
func (s fileSections) Metadata() map[string]string         { return s.f.Manifest().GetMetadata() }
func (s fileSections) Name() string                        { return s.f.name }

// Close releases the engine's weights and the file. Contexts must be
// closed first.
func (e *Engine) Close() error {
	err := e.exe.Close()
	if ferr := e.file.Close(); err == nil {
		err = ferr
	}
	return err
}

// Manifest is the engine's manifest (what trtc inspect shows).
func (e *Engine) Manifest() *enginepb.Manifest { return e.file.Manifest() }

// Target is the target the engine runs on.
func (e *Engine) Target() string { return e.file.Manifest().GetTarget() }

// Inputs are the engine's inputs in binding order.
func (e *Engine) Inputs() []TensorDesc { return descs(e.file.Manifest().GetInputs()) }

// Outputs are the engine's outputs in binding order.
func (e *Engine) Outputs() []TensorDesc { return descs(e.file.Manifest().GetOutputs()) }

// Profiles are the optimization profiles, in index order.
func (e *Engine) Profiles() []Profile { return ProfilesOf(e.file.Manifest()) }

// DeviceMemorySize is the memory a context needs for activations and
// scratch at the largest shapes of the profiles.
func (e *Engine) DeviceMemorySize() int64 { return e.file.Manifest().GetDeviceMemorySize() }

// Layers describes the layers the engine runs (from the build report).
func (e *Engine) Layers() []*enginepb.LayerInfo { return e.file.Manifest().GetBuild().GetLayers() }

func descs(ts []*enginepb.TensorDesc) []TensorDesc {
	out := make([]TensorDesc, len(ts))
	for i, t := range ts {
		out[i] = TensorDesc{Name: t.GetName(), DType: tensor.DataType(t.GetDtype()), Dims: append([]int64{}, t.GetDims()...)}
	}
	return out
}

// ProfilesOf converts a manifest's profiles.
func ProfilesOf(m *enginepb.Manifest) []Profile {
	var out []Profile
	for _, p := range m.GetProfiles() {
		var prof Profile
		for _, r := range p.GetInputs() {
			prof.Inputs = append(prof.Inputs, ShapeRange{Input: r.GetInput(),
				Min: append([]int64{}, r.GetMin()...), Opt: append([]int64{}, r.GetOpt()...), Max: append([]int64{}, r.GetMax()...)})
		}
		out = append(out, prof)
	}
	return out
}

// ProfileMessages converts profiles for a manifest.
func ProfileMessages(ps []Profile) []*enginepb.OptimizationProfile {
	out := make([]*enginepb.OptimizationProfile, len(ps))
	for i, p := range ps {
		m := &enginepb.OptimizationProfile{}
		for _, r := range p.Inputs {
			m.Inputs = append(m.Inputs, &enginepb.ShapeRange{Input: r.Input, Min: r.Min, Opt: r.Opt, Max: r.Max})
		}
		out[i] = m
	}
	return out
}
