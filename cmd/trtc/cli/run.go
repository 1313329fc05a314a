package cli

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/tensor"
)

type runOptions struct {
	build      buildOptions
	inputs     []string // name=file.npy
	outputDir  string
	iterations int
	seed       uint64
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run MODEL.engine|MODEL.onnx",
		Short: "Run an engine, or compile an ONNX model and run it, like polygraphy run",
		Long: `Run an engine file, or import and compile an ONNX model (for the best target
present unless --target says otherwise) and run it, on inputs from .npy
files or random ones (--seed), printing the outputs and the time per run.
Dynamic input dims take the first profile's opt shape.`,
		Example: `  trtc run model.engine --input x=x.npy --output-dir out/
  trtc run model.onnx --shapes x:1x3x224x224 --precision fp16`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModel(cmd.OutOrStdout(), args[0], o)
		},
	}
	addBuildFlags(cmd, &o.build)
	addInputFlags(cmd, &o.inputs, &o.seed)
	f := cmd.Flags()
	f.StringVar(&o.outputDir, "output-dir", "", "write every output to DIR/<name>.npy")
	f.StringVar(&o.outputDir, "save-outputs", "", "same as --output-dir")
	f.IntVar(&o.iterations, "iterations", 10, "timed runs after one warm-up run")
	return cmd
}

func addInputFlags(cmd *cobra.Command, inputs *[]string, seed *uint64) {
	cmd.Flags().StringSliceVar(inputs, "input", nil, "input values from .npy files, name=file.npy (others are random)")
	cmd.Flags().Uint64Var(seed, "seed", 1, "seed of the random inputs")
}

func runModel(w io.Writer, path string, o runOptions) error {
	if o.iterations < 1 {
		return usageError{fmt.Errorf("--iterations must be at least 1, got %d", o.iterations)}
	}
	m, err := openModel(w, path, &o.build)
	if err != nil {
		return err
	}
	defer m.eng.Close()
	inputs, err := makeInputs(w, m.eng, o.inputs, o.seed)
	if err != nil {
		return err
	}
	ectx, err := m.eng.NewContext()
	if err != nil {
		return err
	}
	defer ectx.Close()
	ctx := context.Background()
	outs, err := ectx.Execute(ctx, inputs) // warm-up, and the outputs shown
	if err != nil {
		return err
	}
	times := make([]time.Duration, o.iterations)
	for i := range times {
		t0 := time.Now()
		if _, err := ectx.Execute(ctx, inputs); err != nil {
			return err
		}
		times[i] = time.Since(t0)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Fprintf(w, "ran on target %s; latency over %d runs: median %v, min %v, max %v\n", m.eng.Target(), len(times),
		times[len(times)/2].Round(time.Microsecond), times[0].Round(time.Microsecond), times[len(times)-1].Round(time.Microsecond))
	if o.outputDir != "" {
		if err := os.MkdirAll(o.outputDir, 0o755); err != nil {
			return err
		}
	}
	for _, d := range m.eng.Outputs() {
		v := outs[d.Name]
		fmt.Fprintf(w, "output %s: %v %v %s\n", d.Name, v.DType(), v.Shape(), preview(v))
		if o.outputDir != "" {
			if err := tensor.SaveNPY(filepath.Join(o.outputDir, safeFileName(d.Name)+".npy"), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// makeInputs reads the --input files and makes random values for the rest:
// floats uniform in [-1, 1), integers small and non-negative (safe as
// indices). Dynamic dims take profile 0's opt shape.
func makeInputs(w io.Writer, eng *engine.Engine, specs []string, seed uint64) (map[string]*tensor.Tensor, error) {
	descs := eng.Inputs()
	files := map[string]string{}
	for _, s := range specs {
		name, file, ok := strings.Cut(s, "=")
		if !ok || name == "" || file == "" {
			return nil, usageError{fmt.Errorf("--input %q: want name=file.npy", s)}
		}
		if !hasInput(descs, name) {
			return nil, usageError{fmt.Errorf("--input names %q, which is not an input (inputs: %s)", name, inputNames(descs))}
		}
		files[name] = file
	}
	opt := map[string][]int64{}
	if profs := eng.Profiles(); len(profs) > 0 {
		for _, r := range profs[0].Inputs {
			opt[r.Input] = r.Opt
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	out := map[string]*tensor.Tensor{}
	for _, in := range descs {
		if f, ok := files[in.Name]; ok {
			t, err := tensor.LoadNPY(f)
			if err != nil {
				return nil, usageError{fmt.Errorf("--input %s: %w", in.Name, err)}
			}
			if t.DType() != in.DType {
				if t, err = t.Convert(in.DType); err != nil {
					return nil, usageError{fmt.Errorf("--input %s: %w", in.Name, err)}
				}
			}
			out[in.Name] = t
			continue
		}
		shape := append([]int64{}, in.Dims...)
		for i, d := range shape {
			if d < 0 {
				if s, ok := opt[in.Name]; ok {
					shape[i] = s[i]
				} else {
					shape[i] = 1
				}
			}
		}
		out[in.Name] = randomTensor(rng, in.DType, shape)
	}
	return out, nil
}

func randomTensor(rng *rand.Rand, dt tensor.DataType, shape []int64) *tensor.Tensor {
	t := tensor.New(dt, shape...)
	for i := int64(0); i < t.Len(); i++ {
		switch dt {
		case tensor.Float32, tensor.Float16, tensor.BFloat16, tensor.FP8E4M3:
			t.SetFloat64(i, rng.Float64()*2-1)
		case tensor.Bool:
			t.SetInt64(i, int64(rng.IntN(2)))
		default:
			t.SetInt64(i, int64(rng.IntN(4)))
		}
	}
	return t
}

func hasInput(descs []engine.TensorDesc, name string) bool {
	for _, in := range descs {
		if in.Name == name {
			return true
		}
	}
	return false
}

func inputNames(descs []engine.TensorDesc) string {
	var names []string
	for _, in := range descs {
		names = append(names, fmt.Sprintf("%s %v %s", in.Name, in.DType, engine.FormatDims(in.Dims)))
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
