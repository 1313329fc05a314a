//go:build tensorrt

package tensorrt

import (
	"sync"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	gpu "github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/plugins"
)

// The TensorRT runtime's device memory and streams come from internal/cuda
// (the same dlopened driver the CUDA target uses), installed at init.
func init() { UseCUDA(defaultProvider) }

// cudaProvider adapts internal/cuda's objects to the handle-based CUDA
// interface: allocations and streams are kept by handle. Copies from Go
// memory are synchronous (internal/cuda accepts only pinned memory for
// asynchronous copies); the device-to-host copy first waits for the stream,
// so the order TensorRT's enqueue relies on holds.
type cudaProvider struct {
	mu      sync.Mutex
	ctx     *gpu.Context
	buffers map[uintptr]*gpu.Buffer
	streams map[uintptr]*gpu.Stream
	modules map[string]*gpu.Module // plugin kernels by fingerprint
}

func (p *cudaProvider) context() (*gpu.Context, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil {
		c, err := gpu.NewContext(0)
		if err != nil {
			return nil, err
		}
		p.ctx, p.buffers, p.streams = c, map[uintptr]*gpu.Buffer{}, map[uintptr]*gpu.Stream{}
	}
	return p.ctx, nil
}

func (p *cudaProvider) Malloc(bytes int64) (uintptr, error) {
	c, err := p.context()
	if err != nil {
		return 0, err
	}
	b, err := c.Alloc(int(bytes))
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	p.buffers[uintptr(b.Ptr())] = b
	p.mu.Unlock()
	return uintptr(b.Ptr()), nil
}

func (p *cudaProvider) Free(ptr uintptr) error {
	p.mu.Lock()
	b := p.buffers[ptr]
	delete(p.buffers, ptr)
	p.mu.Unlock()
	if b == nil {
		return diag.Errorf(diag.Internal, "tensorrt: Free of %#x, which this provider did not allocate", ptr)
	}
	return b.Free()
}

func (p *cudaProvider) MemcpyHtoDAsync(dst uintptr, src []byte, stream uintptr) error {
	c, err := p.context()
	if err != nil {
		return err
	}
	return c.CopyHtoD(gpu.DevicePtr(dst), src)
}

func (p *cudaProvider) MemcpyDtoHAsync(dst []byte, src uintptr, stream uintptr) error {
	c, err := p.context()
	if err != nil {
		return err
	}
	if err := p.StreamSynchronize(stream); err != nil {
		return err
	}
	return c.CopyDtoH(dst, gpu.DevicePtr(src))
}

func (p *cudaProvider) StreamCreate() (uintptr, error) {
	c, err := p.context()
	if err != nil {
		return 0, err
	}
	s, err := c.NewStream()
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	p.streams[s.Handle()] = s
	p.mu.Unlock()
	return s.Handle(), nil
}

func (p *cudaProvider) stream(h uintptr) (*gpu.Stream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.streams[h]
	if s == nil {
		return nil, diag.Errorf(diag.Internal, "tensorrt: stream %#x is not one of this provider's", h)
	}
	return s, nil
}

func (p *cudaProvider) StreamSynchronize(h uintptr) error {
	s, err := p.stream(h)
	if err != nil {
		return err
	}
	return s.Synchronize()
}

func (p *cudaProvider) StreamDestroy(h uintptr) error {
	s, err := p.stream(h)
	if err != nil {
		return err
	}
	p.mu.Lock()
	delete(p.streams, h)
	p.mu.Unlock()
	return s.Close()
}

// Plugin kernels run through the same provider: compiled by NVRTC for the
// device on first use (one module per kernel fingerprint), configured for
// the enqueue's shapes and launched on TensorRT's stream.
func init() { SetPluginLauncher(defaultProvider.launchPlugin) }

var defaultProvider = &cudaProvider{}

func (p *cudaProvider) launchPlugin(pl dsl.Plugin, in, out []PluginTensor, workspace, stream uintptr) error {
	cp, ok := pl.(plugins.CUDAPlugin)
	if !ok || cp.CUDAKernel() == nil {
		return diag.Errorf(diag.UnsupportedNode, "%s has no CUDA kernel; the TensorRT target cannot run it", dsl.PluginID(pl))
	}
	k := cp.CUDAKernel()
	var s plugins.LaunchShapes
	for _, t := range in {
		s.In, s.InTypes = append(s.In, dsl.Dims(t.Dims)), append(s.InTypes, t.Type)
	}
	for _, t := range out {
		s.Out, s.OutTypes = append(s.Out, dsl.Dims(t.Dims)), append(s.OutTypes, t.Type)
	}
	s.Attrs = cp.Values()
	cfg, _, err := k.Configure(pl, s)
	if err != nil {
		return err
	}
	if cfg.Grid[0] == 0 || cfg.Grid[1] == 0 || cfg.Grid[2] == 0 {
		return nil
	}
	fn, err := p.pluginFunction(k, cfg.Entry)
	if err != nil {
		return err
	}
	st, err := p.stream(stream)
	if err != nil {
		return err
	}
	var args []any
	for _, t := range in {
		args = append(args, gpu.DevicePtr(t.Ptr))
	}
	for _, t := range out {
		args = append(args, gpu.DevicePtr(t.Ptr))
	}
	if k.Workspace != nil {
		args = append(args, gpu.DevicePtr(workspace))
	}
	args = append(args, cfg.Args...)
	g := gpu.Dim3{X: int(cfg.Grid[0]), Y: int(cfg.Grid[1]), Z: int(cfg.Grid[2])}
	b := gpu.Dim3{X: int(cfg.Block[0]), Y: int(cfg.Block[1]), Z: int(cfg.Block[2])}
	return st.Launch(fn, g, b, cfg.SharedMem, args...)
}

// pluginFunction compiles a plugin kernel once per fingerprint and looks
// an entry point up.
func (p *cudaProvider) pluginFunction(k *plugins.CUDAKernel, entry string) (*gpu.Function, error) {
	c, err := p.context()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.modules == nil {
		p.modules = map[string]*gpu.Module{}
	}
	m := p.modules[k.Fingerprint()]
	if m == nil {
		cubin, err := gpu.Compile(k.Source, "trtc_plugin.cu", c.Arch(), append([]string{"-std=c++17"}, k.Options...))
		if err != nil {
			return nil, err
		}
		if m, err = c.LoadModule(cubin); err != nil {
			return nil, err
		}
		p.modules[k.Fingerprint()] = m
	}
	return m.Function(entry)
}
