// Command gpucheck prepares a check of the SwiGLU CUDA kernels against the
// plugin's Go implementation, for a GPU machine before trtc's CUDA target
// launches plugin kernels itself. It writes the kernel source, inputs, the
// Go outputs and each launch (as plugins.CUDAKernel.Configure gives it) to a
// folder; check.py compiles the source with NVRTC (through CuPy), launches
// the kernels with those configurations and compares:
//
//	go run ./examples/plugin/gpucheck -o /tmp/swiglu-check
//	python3 examples/plugin/gpucheck/check.py /tmp/swiglu-check
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/examples/plugin/swiglu"
	"github.com/trtc/trtc/plugins"
	"github.com/trtc/trtc/tensor"
)

type arg struct {
	Type  string  `json:"type"`
	Value float64 `json:"value"`
}

type check struct {
	Name      string    `json:"name"`
	DType     string    `json:"dtype"`
	InShape   []int64   `json:"in_shape"`
	OutShape  []int64   `json:"out_shape"`
	Entry     string    `json:"entry"`
	Grid      [3]uint32 `json:"grid"`
	Block     [3]uint32 `json:"block"`
	Args      []arg     `json:"args"`
	Beta      float64   `json:"beta"`
	GateFirst bool      `json:"gate_first"`
	// Vectors says whether x.npy and y.npy (Go's output) were written; big
	// cases are checked against NumPy in check.py instead.
	Vectors bool `json:"vectors"`
}

func main() {
	dir := flag.String("o", "swiglu-check", "folder to write")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cases := []struct {
		name      string
		dt        tensor.DataType
		shape     []int64
		beta      float64
		gateFirst bool
		vectors   bool
	}{
		{"f32_small", tensor.Float32, []int64{4, 1000}, 1, true, true},
		{"f32_swapped_beta", tensor.Float32, []int64{3, 7, 66}, 1.5, false, true},
		{"f16_small", tensor.Float16, []int64{5, 512}, 1, true, true},
		{"f16_swapped_beta", tensor.Float16, []int64{2, 3, 130}, 0.75, false, true},
		{"f32_grid_stride", tensor.Float32, []int64{70000, 512}, 1, true, false},
		{"f16_grid_stride", tensor.Float16, []int64{70000, 512}, 1.25, false, false},
	}
	var out []check
	for _, c := range cases {
		p, err := swiglu.Creator.Create(map[string]any{"beta": c.beta, "gate_first": c.gateFirst})
		if err != nil {
			return err
		}
		cp := p.(plugins.CUDAPlugin)
		outShape := append([]int64{}, c.shape...)
		outShape[len(outShape)-1] /= 2
		cfg, _, err := cp.CUDAKernel().Configure(p, plugins.LaunchShapes{
			In: []dsl.Dims{c.shape}, Out: []dsl.Dims{outShape},
			InTypes: []dsl.DataType{c.dt}, OutTypes: []dsl.DataType{c.dt}, Attrs: cp.Values()})
		if err != nil {
			return err
		}
		ck := check{Name: c.name, DType: c.dt.String(), InShape: c.shape, OutShape: outShape, Entry: cfg.Entry,
			Grid: cfg.Grid, Block: cfg.Block, Beta: c.beta, GateFirst: c.gateFirst, Vectors: c.vectors}
		for _, a := range cfg.Args {
			switch a := a.(type) {
			case int64:
				ck.Args = append(ck.Args, arg{"int64", float64(a)})
			case int32:
				ck.Args = append(ck.Args, arg{"int32", float64(a)})
			case float32:
				ck.Args = append(ck.Args, arg{"float32", float64(a)})
			default:
				return fmt.Errorf("argument type %T", a)
			}
		}
		if c.vectors {
			n := tensor.Volume(c.shape)
			vals := make([]float64, n)
			for i := range vals {
				vals[i] = 6 * math.Sin(float64(i)*0.37+float64(len(c.name)))
			}
			x, err := tensor.FromFloat64s(c.dt, c.shape, vals)
			if err != nil {
				return err
			}
			y, err := p.ExecuteCPU([]*tensor.Tensor{x})
			if err != nil {
				return err
			}
			if err := tensor.SaveNPY(filepath.Join(dir, c.name+"_x.npy"), x); err != nil {
				return err
			}
			if err := tensor.SaveNPY(filepath.Join(dir, c.name+"_y.npy"), y[0]); err != nil {
				return err
			}
		}
		out = append(out, ck)
		if c.name == "f32_small" {
			if err := os.WriteFile(filepath.Join(dir, "kernel.cu"), []byte(cp.CUDAKernel().Source), 0o644); err != nil {
				return err
			}
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cases.json"), b, 0o644)
}
