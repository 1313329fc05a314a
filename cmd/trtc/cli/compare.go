package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

type compareOptions struct {
	build     buildOptions
	targets   []string
	reference string
	markAll   bool
	inputs    []string
	seed      uint64
	atol      float64
	rtol      float64
}

func newCompareCmd() *cobra.Command {
	var o compareOptions
	cmd := &cobra.Command{
		Use:   "compare MODEL.onnx --targets cpu:fp32,cpu:fp16",
		Short: "Run a model on several targets and precisions and compare outputs, like polygraphy run --onnxrt --trt",
		Long: `Compile the model for every --targets entry (target[:precision]), run each on
the same inputs, and compare every output with the reference: the
uncompiled network on trtc's CPU engine in fp32 (the oracle), or the .npy
files of --reference DIR (one per output, named after it, e.g. written by
ONNX Runtime or PyTorch). Reports max absolute and relative error per
output and whether it is within tolerance (by default the one stated for
the precision in internal/tolerance; --atol/--rtol override). --mark-all
compares every intermediate tensor too and names the first layer whose
output diverges. Exits 1 when any comparison fails.`,
		Example: `  trtc compare model.onnx --targets cpu:fp32,cpu:fp16 --shapes x:1x3x224x224
  trtc compare model.onnx --targets cpu --reference torch_outputs/ --input x=x.npy`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return compare(cmd.OutOrStdout(), args[0], o)
		},
	}
	addBuildFlags(cmd, &o.build)
	addInputFlags(cmd, &o.inputs, &o.seed)
	f := cmd.Flags()
	f.StringSliceVar(&o.targets, "targets", []string{"auto"}, "targets to compare, target[:precision] (comma-separated)")
	f.StringVar(&o.reference, "reference", "", "directory of reference outputs, <output name>.npy")
	f.BoolVar(&o.markAll, "mark-all", false, "compare every intermediate tensor and report the first layer that diverges")
	f.Float64Var(&o.atol, "atol", -1, "absolute tolerance (default: the precision's, from internal/tolerance)")
	f.Float64Var(&o.rtol, "rtol", -1, "relative tolerance (default: the precision's)")
	return cmd
}

func compare(w io.Writer, path string, o compareOptions) error {
	if isEngineFile(path) {
		return usageError{fmt.Errorf("compare needs a model (.onnx) to build for each target, not an engine file")}
	}
	net, err := importModel(path)
	if err != nil {
		return err
	}
	var orig map[string]bool // the model's own outputs, when --mark-all adds more
	if o.markAll {
		orig = markAll(net)
	}
	failed := 0
	var ref map[string]*tensor.Tensor
	var inputs map[string]*tensor.Tensor
	for _, spec := range o.targets {
		tgt, prec, _ := strings.Cut(spec, ":")
		bo := o.build
		bo.target = tgt
		if prec != "" {
			bo.precision = prec
		}
		cfg, err := bo.config(w, net, filepath.Base(path))
		if err != nil {
			return err
		}
		plan, _, err := buildPlan(w, net, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", spec, err)
		}
		eng, err := engine.LoadPlan(plan)
		if err != nil {
			return fmt.Errorf("%s: %w", spec, err)
		}
		if inputs == nil {
			if inputs, err = makeInputs(w, eng, o.inputs, o.seed); err != nil {
				return err
			}
			if ref, err = reference(net, inputs, o.reference); err != nil {
				return err
			}
		}
		got, err := eng.Run(context.Background(), inputs)
		eng.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", spec, err)
		}
		tol := tolerance.For(precisionType(cfg.Precision.String()))
		if o.atol >= 0 {
			tol.Abs = o.atol
		}
		if o.rtol >= 0 {
			tol.Rel = o.rtol
		}
		fmt.Fprintf(w, "%s (%s) against %s, tolerance abs %g rel %g:\n", spec, oneLineSummary(plan), refName(o.reference), tol.Abs, tol.Rel)
		firstBad := ""
		for _, l := range net.TopoLayers() {
			for i := 0; i < l.NbOutputs(); i++ {
				name := l.Output(i).Name()
				r, g := ref[name], got[name]
				if r == nil || g == nil {
					continue
				}
				res := diff(r, g, tol)
				if o.markAll && !res.ok && firstBad == "" {
					firstBad = fmt.Sprintf("%s %q (output %q: max abs error %.3g)", l.Type(), l.Name(), name, res.maxAbs)
				}
			}
		}
		for _, d := range eng.Outputs() {
			if orig != nil && !orig[d.Name] {
				continue
			}
			r, g := ref[d.Name], got[d.Name]
			if r == nil {
				fmt.Fprintf(w, "  %-24s no reference (skipped)\n", d.Name)
				continue
			}
			res := diff(r, g, tol)
			verdict := "PASS"
			if !res.ok {
				verdict = "FAIL"
				failed++
			}
			fmt.Fprintf(w, "  %-24s %s  max abs %.3g  max rel %.3g  (%d of %d values beyond tolerance)%s\n", d.Name, verdict, res.maxAbs, res.maxRel, res.bad, res.n, res.note)
		}
		if o.markAll {
			if firstBad == "" {
				fmt.Fprintf(w, "  every intermediate tensor is within tolerance\n")
			} else {
				fmt.Fprintf(w, "  first layer that diverges: %s\n", firstBad)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d output comparisons beyond tolerance", failed)
	}
	return nil
}

// markAll makes every uniquely named layer output a network output, so
// every intermediate tensor is compared, and returns the model's own
// outputs.
func markAll(net *dsl.Network) map[string]bool {
	orig := map[string]bool{}
	names := map[string]int{}
	for _, t := range net.Outputs() {
		orig[t.Name()] = true
	}
	for _, t := range net.Tensors() {
		names[t.Name()]++
	}
	for _, l := range net.Layers() {
		if l.Type() == dsl.LayerConstant {
			continue
		}
		for i := 0; i < l.NbOutputs(); i++ {
			t := l.Output(i)
			if names[t.Name()] == 1 && !t.IsNetworkOutput() {
				net.MarkOutput(t)
			}
		}
	}
	return orig
}

// reference is the oracle's outputs: the --reference files, or the
// network run as written on the CPU engine.
func reference(net *dsl.Network, inputs map[string]*tensor.Tensor, dir string) (map[string]*tensor.Tensor, error) {
	if dir == "" {
		return cpu.Run(net, inputs)
	}
	out := map[string]*tensor.Tensor{}
	for _, t := range net.Outputs() {
		p := filepath.Join(dir, safeFileName(t.Name())+".npy")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		v, err := tensor.LoadNPY(p)
		if err != nil {
			return nil, usageError{fmt.Errorf("--reference: %w", err)}
		}
		out[t.Name()] = v
	}
	if len(out) == 0 {
		return nil, usageError{fmt.Errorf("--reference %s holds no <output>.npy for any output of the model", dir)}
	}
	return out, nil
}

func refName(dir string) string {
	if dir == "" {
		return "the CPU engine (fp32, uncompiled)"
	}
	return dir
}

func precisionType(p string) tensor.DataType {
	switch p {
	case "fp16":
		return tensor.Float16
	case "bf16":
		return tensor.BFloat16
	}
	return tensor.Float32
}

type diffResult struct {
	ok             bool
	maxAbs, maxRel float64
	bad, n         int
	note           string
}

// diff compares got with want element by element.
func diff(want, got *tensor.Tensor, tol tolerance.Tol) diffResult {
	if fmt.Sprint(want.Shape()) != fmt.Sprint(got.Shape()) {
		return diffResult{note: fmt.Sprintf("  shape %v, reference %v", got.Shape(), want.Shape()), bad: 1, n: 1}
	}
	if !want.DType().IsFloat() || !got.DType().IsFloat() {
		tol = tolerance.Tol{}
	}
	wv, gv := want.Float64s(), got.Float64s()
	r := diffResult{n: len(wv)}
	for i := range wv {
		a := math.Abs(gv[i] - wv[i])
		if math.IsNaN(a) && !(math.IsNaN(gv[i]) && math.IsNaN(wv[i])) {
			r.bad++
			r.maxAbs = math.Inf(1)
			continue
		}
		if !tol.Close(gv[i], wv[i]) {
			r.bad++
		}
		if a > r.maxAbs {
			r.maxAbs = a
		}
		if wv[i] != 0 {
			r.maxRel = math.Max(r.maxRel, a/math.Abs(wv[i]))
		}
	}
	r.ok = r.bad == 0
	return r
}
