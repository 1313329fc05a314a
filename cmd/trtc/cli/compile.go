package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/engine/enginepb"
	"github.com/trtc/trtc/internal/inspect"
	"github.com/trtc/trtc/internal/target/tensorrt"
	"github.com/trtc/trtc/internal/triton"
)

func newCompileCmd() *cobra.Command {
	var o buildOptions
	var out, planPath, tritonRepo, tritonName string
	cmd := &cobra.Command{
		Use:   "compile MODEL.onnx -o MODEL.engine",
		Short: "Compile an ONNX model into an engine file, like trtexec --saveEngine",
		Long: `Import an ONNX model, optimize it (dead layers, constant folding, common
subexpressions, identity and shuffle elimination, BatchNorm/Scale folding,
Q/DQ propagation, fp16/bf16 autocast, fusion) and write an engine for the
target. Dynamic input dims need optimization profiles: --shapes for one
fixed shape, --min-shapes/--opt-shapes/--max-shapes for a range, --profile
for more profiles. The summary lists layers before and after, fusions,
precision per layer and the time of every phase.`,
		Example: `  trtc compile model.onnx -o model.engine --shapes x:1x3x224x224
  trtc compile model.onnx -o model.engine --precision fp16 \
      --min-shapes x:1x3x224x224 --opt-shapes x:8x3x224x224 --max-shapes x:32x3x224x224`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{fmt.Errorf("no output file: give -o MODEL.engine")}
			}
			if (planPath != "" || tritonRepo != "") && o.target != "tensorrt" {
				return usageError{fmt.Errorf("--plan and --triton-repo write TensorRT plans: they need --target tensorrt")}
			}
			if (tritonRepo == "") != (tritonName == "") {
				return usageError{fmt.Errorf("--triton-repo DIR needs --name NAME (and --name needs --triton-repo)")}
			}
			w := cmd.OutOrStdout()
			start := time.Now()
			net, err := importModel(args[0])
			if err != nil {
				return err
			}
			importTime := time.Since(start)
			cfg, err := o.config(w, net, filepath.Base(args[0]))
			if err != nil {
				return err
			}
			plan, buildTime, err := buildPlan(w, net, cfg)
			if err != nil {
				return err
			}
			if err := plan.Save(out); err != nil {
				return err
			}
			if err := writeTensorRTOutputs(w, plan, planPath, tritonRepo, tritonName); err != nil {
				return err
			}
			printSummary(w, plan, importTime, buildTime, o.verbose)
			fmt.Fprintf(w, "wrote %s\n", out)
			return nil
		},
	}
	addBuildFlags(cmd, &o)
	cmd.Flags().StringVarP(&out, "output", "o", "", "engine file to write")
	cmd.Flags().StringVar(&planPath, "plan", "", "also write the bare TensorRT plan to this file (--target tensorrt)")
	cmd.Flags().StringVar(&tritonRepo, "triton-repo", "", "also write a Triton model repository entry DIR/NAME (config.pbtxt, 1/model.plan; --target tensorrt)")
	cmd.Flags().StringVar(&tritonName, "name", "", "the model's name in the Triton repository")
	return cmd
}

// oneLineSummary is "target cpu, 12 -> 9 layers, 3 fusions, fp32".
func oneLineSummary(p *engine.Plan) string {
	m := p.Manifest
	b := m.GetBuild()
	return fmt.Sprintf("target %s, %d -> %d layers, %d fusions, %s", m.GetTarget(), b.GetLayersBefore(), len(b.GetLayers()), len(b.GetFusions()), b.GetPrecision())
}

// printSummary is the build summary of trtc compile.
func printSummary(w io.Writer, p *engine.Plan, importTime, buildTime time.Duration, verbose bool) {
	m := p.Manifest
	b := m.GetBuild()
	dev := m.GetMetadata()["build.device"]
	fmt.Fprintf(w, "target:     %s (%s)\n", m.GetTarget(), dev)
	fmt.Fprintf(w, "precision:  %s, optimization level %d\n", b.GetPrecision(), b.GetOptLevel())
	fmt.Fprintf(w, "layers:     %d before, %d after\n", b.GetLayersBefore(), len(b.GetLayers()))
	fmt.Fprintf(w, "fusions:    %s\n", inspect.FusionCounts(b))
	fmt.Fprintf(w, "precisions: %s\n", inspect.PrecisionCounts(b))
	if n := m.GetMetadata()["cuda.launches"]; n != "" {
		fmt.Fprintf(w, "kernels:    %s launches per inference (%s without pointwise fusion; a cuDNN or cuBLASLt call counts one)\n", n, m.GetMetadata()["cuda.launches_unfused"])
	}
	if verbose {
		// The layers that compute in another type than the one asked for,
		// and why (softmax kept in fp32, an override).
		asked := b.GetPrecision()
		if asked == "tf32" {
			asked = "fp32"
		}
		for _, l := range b.GetLayers() {
			if p := l.GetPrecision(); p != "" && p != asked {
				fmt.Fprintf(w, "            %s %q: %s (%s)\n", l.GetKind(), l.GetName(), p, l.GetPrecisionReason())
			}
		}
	}
	fmt.Fprintf(w, "time:       import %v, passes %v, lower %v, total build %v\n", importTime.Round(time.Millisecond),
		passTime(b).Round(time.Millisecond), lowerTime(m).Round(time.Millisecond), buildTime.Round(time.Millisecond))
	if verbose {
		for _, ps := range b.GetPasses() {
			state := fmt.Sprintf("%d -> %d layers in %v", ps.GetLayersBefore(), ps.GetLayersAfter(), time.Duration(ps.GetDurationNs()).Round(time.Microsecond))
			if ps.GetSkipped() {
				state = "skipped at this optimization level"
			}
			fmt.Fprintf(w, "  pass %-12s %s\n", ps.GetName(), state)
		}
	}
	if tc := m.GetMetadata()["build.timing_cache"]; tc != "" {
		fmt.Fprintf(w, "tactics:    timing cache %s", tc)
		if m.GetTarget() == "cpu" {
			fmt.Fprint(w, " (target cpu has one kernel per layer: nothing to time)")
		}
		fmt.Fprintln(w)
	}
	for _, warn := range b.GetWarnings() {
		fmt.Fprintf(w, "note:       %s\n", warn)
	}
}

func passTime(b *enginepb.BuildReport) time.Duration {
	var d time.Duration
	for _, p := range b.GetPasses() {
		d += time.Duration(p.GetDurationNs())
	}
	return d
}

func lowerTime(m *enginepb.Manifest) time.Duration {
	var ns int64
	fmt.Sscan(m.GetMetadata()["build.lower_ns"], &ns)
	return time.Duration(ns)
}

// writeTensorRTOutputs writes the bare plan and the Triton repository entry
// of a TensorRT engine, when asked.
func writeTensorRTOutputs(w io.Writer, p *engine.Plan, planPath, repo, name string) error {
	if planPath == "" && repo == "" {
		return nil
	}
	b, err := tensorrt.Plan(p.Manifest.GetTarget(), p)
	if err != nil {
		return err
	}
	if planPath != "" {
		if err := os.WriteFile(planPath, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s (TensorRT plan, %d bytes)\n", planPath, len(b))
	}
	if repo != "" {
		if err := triton.WriteRepository(repo, name, p.Manifest, b, triton.Options{}); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote Triton model %s in %s\n", name, repo)
	}
	return nil
}
