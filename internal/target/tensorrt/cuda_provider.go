//go:build tensorrt

package tensorrt

import (
	"sync"

	"github.com/trtc/trtc/diag"
	gpu "github.com/trtc/trtc/internal/cuda"
)

// The TensorRT runtime's device memory and streams come from internal/cuda
// (the same dlopened driver the CUDA target uses), installed at init.
func init() { UseCUDA(&cudaProvider{}) }

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
