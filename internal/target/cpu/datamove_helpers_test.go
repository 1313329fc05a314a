package cpu

import (
	"context"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// datamoveRunKernel calls l's kernel directly on concrete inputs. Layers
// whose inference needs build-time constants (Squeeze axes, OneHot depth)
// are tested this way until the Constant layer is available to tests: the
// kernels compute everything from their run-time inputs.
func datamoveRunKernel(t *testing.T, l dsl.Layer, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	t.Helper()
	k, ok := kernels[l.Type()]
	if !ok {
		t.Fatalf("no kernel for %v", l.Type())
	}
	return k(&execCtx{ctx: context.Background()}, l, in)
}

func datamoveInt64s(t *testing.T, v ...int64) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromInt64([]int64{int64(len(v))}, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
