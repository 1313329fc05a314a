package cli

import (
	"context"
	"fmt"

	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/tensor"
)

// deviceRun is bench --no-data-transfers: the inputs uploaded once into
// device buffers, output buffers sized from one host run, and every timed
// run on device memory (trtexec's --noDataTransfers), so the latency is
// the GPU's compute plus launch overhead, as PyTorch's is timed with its
// tensors on the GPU.
type deviceRun struct {
	dev     *cuda.Context
	bufs    []*cuda.Buffer
	inputs  map[string]engine.DeviceTensor
	outputs map[string]engine.DeviceBuffer
}

func newDeviceRun(ctx context.Context, ectx *engine.Context, inputs map[string]*tensor.Tensor) (*deviceRun, error) {
	dev, err := cuda.NewContext(0)
	if err != nil {
		return nil, err
	}
	d := &deviceRun{dev: dev, inputs: map[string]engine.DeviceTensor{}, outputs: map[string]engine.DeviceBuffer{}}
	fail := func(err error) (*deviceRun, error) {
		d.Close()
		return nil, err
	}
	alloc := func(n int) (*cuda.Buffer, error) {
		b, err := dev.Alloc(max(n, 1))
		if err == nil {
			d.bufs = append(d.bufs, b)
		}
		return b, err
	}
	for name, v := range inputs {
		b, err := alloc(len(v.Bytes()))
		if err != nil {
			return fail(err)
		}
		if err := dev.CopyHtoD(b.Ptr(), v.Bytes()); err != nil {
			return fail(err)
		}
		d.inputs[name] = engine.DeviceTensor{Ptr: uintptr(b.Ptr()), Type: v.DType(), Shape: v.Shape()}
	}
	outs, err := ectx.Execute(ctx, inputs)
	if err != nil {
		return fail(err)
	}
	for name, v := range outs {
		b, err := alloc(len(v.Bytes()))
		if err != nil {
			return fail(err)
		}
		d.outputs[name] = engine.DeviceBuffer{Ptr: uintptr(b.Ptr()), Bytes: int64(len(v.Bytes()))}
	}
	return d, nil
}

func (d *deviceRun) run(ctx context.Context, ectx *engine.Context) error {
	_, err := ectx.ExecuteDevice(ctx, d.inputs, d.outputs)
	if err != nil {
		return fmt.Errorf("--no-data-transfers: %w", err)
	}
	return nil
}

func (d *deviceRun) Close() {
	for _, b := range d.bufs {
		b.Free()
	}
	d.dev.Close()
}
