package cuda

import (
	"sync"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/plugins"
)

// kindPlugin runs a plugin's own CUDA kernel (plugins.CUDAKernel),
// compiled by NVRTC at build time; a plugin without one runs on the host.
const kindPlugin = "plugin"

// pluginKernel returns the kernel of a plugin layer, or nil.
func pluginKernel(l dsl.Layer) (plugins.CUDAPlugin, *plugins.CUDAKernel) {
	pl, ok := l.(*dsl.PluginLayer)
	if !ok {
		return nil, nil
	}
	cp, ok := pl.Plugin().(plugins.CUDAPlugin)
	if !ok || cp.CUDAKernel() == nil {
		return nil, nil
	}
	return cp, cp.CUDAKernel()
}

// compilePlugin compiles a plugin kernel's source as it is (no prelude: the
// ABI says the source stands alone), cached like trtc's own kernels.
func compilePlugin(k *plugins.CUDAKernel, arch string) ([]byte, error) {
	key := arch + "\x00plugin\x00" + k.Fingerprint()
	if b, ok := cubinCache.Load(key); ok {
		return b.([]byte), nil
	}
	b, err := cuda.Compile(k.Source, "trtc_plugin.cu", arch, append([]string{"-std=c++17"}, k.Options...))
	if err != nil {
		return nil, err
	}
	cubinCache.Store(key, b)
	return b, nil
}

// pluginFunctions looks entry points of a plugin module up on first use:
// which entry a launch takes depends on the shapes and types (Configure).
type pluginFunctions struct {
	mu  sync.Mutex
	mod *cuda.Module
	fns map[string]*cuda.Function
}

func (p *pluginFunctions) get(name string) (*cuda.Function, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.fns[name]; ok {
		return f, nil
	}
	f, err := p.mod.Function(name)
	if err != nil {
		return nil, err
	}
	p.fns[name] = f
	return f, nil
}

// runPlugin configures and launches a plugin's kernel: pointers to the
// inputs, the outputs and the workspace (when the kernel declares one),
// then the scalar arguments, on the context's stream.
func (c *cudaContext) runPlugin(sp *shapePlan, i int, l dsl.Layer) error {
	p, k := pluginKernel(l)
	if k == nil {
		return diag.Errorf(diag.EngineIncompatible, "%s: the registered plugin has no CUDA kernel, but the engine was built with one", dsl.LayerString(l))
	}
	var s plugins.LaunchShapes
	for j := 0; j < l.NbInputs(); j++ {
		s.In = append(s.In, dsl.Dims(sp.dims[l.Input(j)]))
		s.InTypes = append(s.InTypes, l.Input(j).Type())
	}
	for j := 0; j < l.NbOutputs(); j++ {
		s.Out = append(s.Out, dsl.Dims(sp.dims[l.Output(j)]))
		s.OutTypes = append(s.OutTypes, l.Output(j).Type())
	}
	s.Attrs = p.Values()
	cfg, ws, err := k.Configure(p, s)
	if err != nil {
		return err
	}
	if cfg.Grid[0] == 0 || cfg.Grid[1] == 0 || cfg.Grid[2] == 0 {
		return nil // an empty tensor: nothing to compute
	}
	fn, err := c.x.plugins[i].get(cfg.Entry)
	if err != nil {
		return err
	}
	if cfg.SharedMem > 48<<10 {
		if err := fn.SetMaxDynamicSharedMemory(cfg.SharedMem); err != nil {
			return err
		}
	}
	var args []any
	for j := 0; j < l.NbInputs(); j++ {
		args = append(args, c.addr(sp, l.Input(j)))
	}
	for j := 0; j < l.NbOutputs(); j++ {
		args = append(args, c.addr(sp, l.Output(j)))
	}
	if k.Workspace != nil {
		var ptr cuda.DevicePtr
		if ws > 0 {
			if err := c.ensure(&c.pluginWS, ws); err != nil {
				return err
			}
			ptr = c.pluginWS.Ptr()
		}
		args = append(args, ptr)
	}
	args = append(args, cfg.Args...)
	g := cuda.Dim3{X: int(cfg.Grid[0]), Y: int(cfg.Grid[1]), Z: int(cfg.Grid[2])}
	b := cuda.Dim3{X: int(cfg.Block[0]), Y: int(cfg.Block[1]), Z: int(cfg.Block[2])}
	return c.stream.Launch(fn, g, b, cfg.SharedMem, args...)
}
