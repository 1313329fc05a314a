package cuda_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cuda"
	"github.com/trtc/trtc/tensor"
)

// TestCountedLayersAgainstCPU runs NonZero over every type with a kernel
// (NaN and -0 among the floats, empty, scalar and multi-block inputs) and
// NMS (both box formats, shared and per-class boxes, ties, the TopK
// limit, both sorts) on both targets, which must agree exactly, twice on
// one engine with other data; and an IoU threshold outside [0, 1], which
// both must refuse alike.
func TestCountedLayersAgainstCPU(t *testing.T) {
	needGPU(t)
	rng := rand.New(rand.NewPCG(21, 22))
	compare := func(t *testing.T, net *dsl.Network, inputs func() map[string]*tensor.Tensor) {
		cpu := build(t, net, "cpu", compiler.FP32, nil)
		defer cpu.Close()
		gpu := build(t, net, "cuda", compiler.FP32, nil)
		defer gpu.Close()
		for _, l := range gpu.Layers() {
			if k := l.GetKind(); (k == "NonZero" || k == "NMS") && l.GetTactic() != "counted" {
				t.Fatalf("%s runs as %q, want counted", l.GetName(), l.GetTactic())
			}
		}
		for range 2 {
			in := inputs()
			if err := irtest.Compare(execute(t, cpu, in), execute(t, gpu, in), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64, dsl.Int8, dsl.UInt8, dsl.Bool} {
		for _, d := range []dsl.Dims{{}, {0}, {7}, {3, 5, 4}, {2, 1_500_001}} {
			ix := dsl.Int64
			if len(d)%2 == 1 {
				ix = dsl.Int32
			}
			t.Run(fmt.Sprintf("NonZero/%v%v", dt, d), func(t *testing.T) {
				compare(t, cuda.NonZeroNet(dt, d, ix), func() map[string]*tensor.Tensor {
					x := tensor.New(dt, d...)
					for k := range x.Len() {
						switch r := rng.IntN(8); {
						case r < 4:
							// zero
						case r == 4 && dt.IsFloat():
							x.SetFloat64(k, math.Copysign(0, -1))
						case r == 5 && dt.IsFloat():
							x.SetFloat64(k, math.NaN())
						default:
							x.SetInt64(k, int64(1+rng.IntN(3)))
						}
					}
					return map[string]*tensor.Tensor{"x": x}
				})
			})
		}
	}
	for _, c := range cuda.NMSCases {
		t.Run("NMS/"+c.Name, func(t *testing.T) {
			compare(t, c.Net(), func() map[string]*tensor.Tensor { return c.Inputs(rng) })
		})
	}
	t.Run("NMS/bad IoU threshold", func(t *testing.T) {
		net := cuda.NMSCases[0].WithIoU(1.5).Net()
		in := cuda.NMSCases[0].Inputs(rng)
		for _, tgt := range []string{"cpu", "cuda"} {
			eng := build(t, net, tgt, compiler.FP32, nil)
			defer eng.Close()
			_, err := eng.Run(context.Background(), in)
			if !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), "IoU threshold 1.5 is outside [0, 1]") {
				t.Errorf("%s: %v, want the IoU threshold's OutOfRange error", tgt, err)
			}
		}
	})
}
