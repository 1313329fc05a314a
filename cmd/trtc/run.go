package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

type runOptions struct {
	shapes     []string // name:1x3x224x224
	inputs     []string // name=file.npy
	saveDir    string
	iterations int
	seed       uint64
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run MODEL.onnx",
		Short: "Import an ONNX model and run it (CPU engine), like polygraphy run",
		Long: `Import an ONNX model, run it on the given or random inputs and print the
outputs and the time per run. Dynamic input dims need --shapes.

Today the only target is the CPU reference engine; the CUDA and TensorRT
targets arrive with the compiler.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModel(cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.shapes, "shapes", nil, "input shapes, name:1x3x224x224 (repeatable or comma-separated)")
	f.StringSliceVar(&o.inputs, "input", nil, "input values from .npy files, name=file.npy (others are random)")
	f.StringVar(&o.saveDir, "save-outputs", "", "write every output to DIR/<name>.npy")
	f.IntVar(&o.iterations, "iterations", 10, "timed runs after one warm-up run")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the random inputs")
	return cmd
}

func runModel(w io.Writer, path string, o runOptions) error {
	if o.iterations < 1 {
		return fmt.Errorf("--iterations must be at least 1, got %d", o.iterations)
	}
	dims, err := parseShapes(o.shapes)
	if err != nil {
		return err
	}
	start := time.Now()
	net, err := onnx.Import(path, onnx.Options{InputDims: dims})
	if err != nil {
		return err
	}
	for name := range dims {
		if !hasInput(net, name) {
			return fmt.Errorf("--shapes names %q, which is not an input of %s (inputs: %s)", name, path, inputNames(net))
		}
	}
	eng, err := cpu.New(net)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "imported %s: %d layers in %v; target cpu\n", filepath.Base(path), net.NbLayers(), time.Since(start).Round(time.Millisecond))

	inputs, err := makeInputs(w, net, o)
	if err != nil {
		return err
	}
	ctx := context.Background()
	outs, err := eng.Run(ctx, inputs) // warm-up, and the outputs shown
	if err != nil {
		return err
	}
	times := make([]time.Duration, o.iterations)
	for i := range times {
		t0 := time.Now()
		if _, err := eng.Run(ctx, inputs); err != nil {
			return err
		}
		times[i] = time.Since(t0)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Fprintf(w, "latency over %d runs: median %v, min %v, max %v\n", len(times),
		times[len(times)/2].Round(time.Microsecond), times[0].Round(time.Microsecond), times[len(times)-1].Round(time.Microsecond))
	for _, t := range net.Outputs() {
		v := outs[t.Name()]
		fmt.Fprintf(w, "output %s: %v %v %s\n", t.Name(), v.DType(), v.Shape(), preview(v))
		if o.saveDir != "" {
			if err := tensor.SaveNPY(filepath.Join(o.saveDir, safeFileName(t.Name())+".npy"), v); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseShapes(specs []string) (map[string]dsl.Dims, error) {
	out := map[string]dsl.Dims{}
	for _, s := range specs {
		i := strings.LastIndexByte(s, ':')
		if i <= 0 {
			return nil, fmt.Errorf("--shapes %q: want name:dims, e.g. input:1x3x224x224", s)
		}
		d, err := dsl.ParseDims(s[i+1:])
		if err != nil {
			return nil, fmt.Errorf("--shapes %q: %v", s, err)
		}
		out[s[:i]] = d
	}
	return out, nil
}

func makeInputs(w io.Writer, net *dsl.Network, o runOptions) (map[string]*tensor.Tensor, error) {
	files := map[string]string{}
	for _, s := range o.inputs {
		name, file, ok := strings.Cut(s, "=")
		if !ok || name == "" || file == "" {
			return nil, fmt.Errorf("--input %q: want name=file.npy", s)
		}
		if !hasInput(net, name) {
			return nil, fmt.Errorf("--input names %q, which is not an input (inputs: %s)", name, inputNames(net))
		}
		files[name] = file
	}
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x5851f42d4c957f2d))
	out := map[string]*tensor.Tensor{}
	for _, in := range net.Inputs() {
		if f, ok := files[in.Name()]; ok {
			t, err := tensor.LoadNPY(f)
			if err != nil {
				return nil, fmt.Errorf("--input %s: %w", in.Name(), err)
			}
			if t.DType() != in.Type() {
				if t, err = t.Convert(in.Type()); err != nil {
					return nil, fmt.Errorf("--input %s: %w", in.Name(), err)
				}
			}
			out[in.Name()] = t
			continue
		}
		d := in.Dims()
		if !d.IsStatic() {
			// trtexec's behaviour: dynamic dims without --shapes become 1.
			d = ones(d)
			fmt.Fprintf(w, "warning: input %q has dynamic dims %v and no --shapes; using %v\n", in.Name(), in.Dims(), d)
		}
		vals := make([]float64, d.Volume())
		for i := range vals {
			if in.Type().IsFloat() {
				vals[i] = rng.Float64()*2 - 1
			} else {
				vals[i] = float64(rng.IntN(4)) // small non-negative: safe as indices
			}
		}
		t, err := tensor.FromFloat64s(in.Type(), d, vals)
		if err != nil {
			return nil, err
		}
		out[in.Name()] = t
	}
	return out, nil
}

// ones replaces dynamic dims by 1.
func ones(d dsl.Dims) dsl.Dims {
	e := d.Clone()
	for i := range e {
		if e[i] < 0 {
			e[i] = 1
		}
	}
	return e
}

func hasInput(net *dsl.Network, name string) bool {
	for _, in := range net.Inputs() {
		if in.Name() == name {
			return true
		}
	}
	return false
}

func inputNames(net *dsl.Network) string {
	var names []string
	for _, in := range net.Inputs() {
		names = append(names, fmt.Sprintf("%s %v %v", in.Name(), in.Type(), in.Dims()))
	}
	return strings.Join(names, ", ")
}

// preview shows the first few values of a tensor.
func preview(t *tensor.Tensor) string {
	n := min(t.Len(), 6)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%.5g", t.Float64At(int64(i)))
	}
	s := "[" + strings.Join(parts, " ")
	if t.Len() > n {
		s += " ..."
	}
	return s + "]"
}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}
