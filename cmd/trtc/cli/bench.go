package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/spf13/cobra"
)

type benchOptions struct {
	build        buildOptions
	inputs       []string
	seed         uint64
	warmup       time.Duration
	iterations   int
	duration     time.Duration
	useCUDAGraph bool
	noCUDAGraph  bool
	noTransfers  bool
	json         bool
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench MODEL.engine|MODEL.onnx",
		Short: "Measure an engine's latency and throughput, like trtexec",
		Long: `Run an engine (or an ONNX model compiled on the fly) repeatedly: a warm-up,
then at least --iterations runs and at least --duration of them. Reports
latency min, mean, median, p90, p99 and max, and throughput. On GPU targets
each run copies the inputs to the device and the outputs back, and the
latency includes those copies; --no-data-transfers uploads the inputs once
and times runs on device memory (trtexec's --noDataTransfers), the way
PyTorch is timed with its tensors on the GPU. The CPU target has no
copies. Timings are measurements of this machine at this moment: compare
runs made side by side.`,
		Example: `  trtc bench model.engine --iterations 200
  trtc bench model.onnx --shapes x:32x3x224x224 --precision fp16 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return bench(cmd.OutOrStdout(), args[0], o)
		},
	}
	addBuildFlags(cmd, &o.build)
	addInputFlags(cmd, &o.inputs, &o.seed)
	f := cmd.Flags()
	f.DurationVar(&o.warmup, "warmup", 200*time.Millisecond, "warm-up time before measuring")
	f.IntVar(&o.iterations, "iterations", 10, "least number of measured runs")
	f.DurationVar(&o.duration, "duration", 3*time.Second, "least measuring time")
	f.BoolVar(&o.useCUDAGraph, "use-cuda-graph", false, "require CUDA graphs: an error where the engine cannot be recorded as one (GPU targets record and replay graphs by default where legal)")
	f.BoolVar(&o.noCUDAGraph, "no-cuda-graph", false, "run the steps one by one, without CUDA graphs")
	f.BoolVar(&o.noTransfers, "no-data-transfers", false, "GPU targets: upload the inputs once and time runs on device memory")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

// benchResult is what bench reports (the --json form).
type benchResult struct {
	Model       string  `json:"model"`
	Target      string  `json:"target"`
	Iterations  int     `json:"iterations"`
	MinMs       float64 `json:"latency_min_ms"`
	MeanMs      float64 `json:"latency_mean_ms"`
	MedianMs    float64 `json:"latency_median_ms"`
	P90Ms       float64 `json:"latency_p90_ms"`
	P99Ms       float64 `json:"latency_p99_ms"`
	MaxMs       float64 `json:"latency_max_ms"`
	Throughput  float64 `json:"throughput_qps"`
	Transfers   string  `json:"transfers"`
	CUDAGraph   bool    `json:"cuda_graph"`
	WarmupRuns  int     `json:"warmup_runs"`
	MeasuredFor float64 `json:"measured_s"`
}

func bench(w io.Writer, path string, o benchOptions) error {
	if o.iterations < 1 {
		return usageError{fmt.Errorf("--iterations must be at least 1, got %d", o.iterations)}
	}
	log := w
	if o.json {
		log = io.Discard
	}
	m, err := openModel(log, path, &o.build)
	if err != nil {
		return err
	}
	defer m.eng.Close()
	if o.noTransfers && m.eng.Target() == "cpu" {
		return usageError{fmt.Errorf("--no-data-transfers needs a GPU target; this engine is for target cpu, which has no transfers")}
	}
	if o.useCUDAGraph && o.noCUDAGraph {
		return usageError{fmt.Errorf("--use-cuda-graph and --no-cuda-graph contradict each other")}
	}
	if o.useCUDAGraph && m.eng.Target() == "cpu" {
		return usageError{fmt.Errorf("--use-cuda-graph needs a GPU target; this engine is for target cpu")}
	}
	inputs, err := makeInputs(log, m.eng, o.inputs, o.seed)
	if err != nil {
		return err
	}
	ectx, err := m.eng.NewContext()
	if err != nil {
		return err
	}
	defer ectx.Close()
	switch {
	case o.useCUDAGraph:
		if err := ectx.SetCUDAGraphs(true); err != nil {
			return usageError{fmt.Errorf("--use-cuda-graph: %w", err)}
		}
	case o.noCUDAGraph && m.eng.Target() != "cpu":
		if err := ectx.SetCUDAGraphs(false); err != nil {
			return err
		}
	}
	ctx := context.Background()
	once := func() error {
		_, err := ectx.Execute(ctx, inputs)
		return err
	}
	if o.noTransfers {
		d, err := newDeviceRun(ctx, ectx, inputs)
		if err != nil {
			return err
		}
		defer d.Close()
		once = func() error { return d.run(ctx, ectx) }
	}

	warm := 0
	for start := time.Now(); warm == 0 || time.Since(start) < o.warmup; warm++ {
		if err := once(); err != nil {
			return err
		}
	}
	var lat []time.Duration
	start := time.Now()
	for len(lat) < o.iterations || time.Since(start) < o.duration {
		t0 := time.Now()
		if err := once(); err != nil {
			return err
		}
		lat = append(lat, time.Since(t0))
	}
	total := time.Since(start)
	r := summarize(lat, total)
	r.Model, r.Target, r.CUDAGraph, r.WarmupRuns = path, m.eng.Target(), ectx.CUDAGraphs(), warm
	r.Transfers = "none: target cpu computes on host memory"
	switch {
	case o.noTransfers:
		r.Transfers = "excluded (--no-data-transfers): inputs uploaded once, every run on device memory"
	case r.Target != "cpu":
		r.Transfers = "included in the latency: inputs are copied to the device and outputs back on every run"
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(w, "target %s, %d warm-up runs, %d measured runs in %.2f s\n", r.Target, warm, r.Iterations, r.MeasuredFor)
	fmt.Fprintf(w, "latency: min %.3f ms, mean %.3f ms, median %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
		r.MinMs, r.MeanMs, r.MedianMs, r.P90Ms, r.P99Ms, r.MaxMs)
	fmt.Fprintf(w, "throughput: %.1f inferences/s\n", r.Throughput)
	fmt.Fprintf(w, "transfers: %s\n", r.Transfers)
	return nil
}

// summarize computes the latency statistics (percentiles by nearest rank).
func summarize(lat []time.Duration, total time.Duration) benchResult {
	s := append([]time.Duration{}, lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	pct := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(s)))) - 1
		return ms(s[max(0, min(i, len(s)-1))])
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return benchResult{
		Iterations: len(s), MinMs: ms(s[0]), MaxMs: ms(s[len(s)-1]), MeanMs: ms(sum) / float64(len(s)),
		MedianMs: pct(50), P90Ms: pct(90), P99Ms: pct(99),
		Throughput: float64(len(s)) / total.Seconds(), MeasuredFor: total.Seconds(),
	}
}
