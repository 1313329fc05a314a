package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/importers/onnx"
)

// buildOptions are the flags of every command that builds an engine from a
// model (compile, and run/bench/compare/inspect given an ONNX file). They
// follow trtexec's.
type buildOptions struct {
	target          string
	precision       string
	shapes          []string // name:dims, min = opt = max
	minShapes       []string
	optShapes       []string
	maxShapes       []string
	profiles        []string // each: name:min:opt:max[,name:min:opt:max]
	optLevel        int
	workspaceMiB    int64
	timingCache     string
	layerPrecisions []string // name:fp32
	verbose         bool
	verify          bool
}

func addBuildFlags(cmd *cobra.Command, o *buildOptions) {
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "auto", "target: auto (best present: tensorrt, cuda, cpu), cpu, cuda, tensorrt")
	f.StringVar(&o.precision, "precision", "fp32", "precision: fp32, tf32, fp16 or bf16 (fp16/bf16 keep softmax and normalization statistics in fp32)")
	f.StringSliceVar(&o.shapes, "shapes", nil, "fixed input shapes, name:1x3x224x224 (min = opt = max; repeatable or comma-separated)")
	f.StringSliceVar(&o.minShapes, "min-shapes", nil, "smallest input shapes of the first profile, name:1x3x224x224")
	f.StringSliceVar(&o.optShapes, "opt-shapes", nil, "shapes the first profile is tuned for")
	f.StringSliceVar(&o.maxShapes, "max-shapes", nil, "largest input shapes of the first profile")
	f.StringArrayVar(&o.profiles, "profile", nil, "another optimization profile, name:MIN:OPT:MAX[,name:MIN:OPT:MAX] (repeatable)")
	f.IntVar(&o.optLevel, "opt-level", compiler.DefaultOptLevel, "builder optimization level, 0 (fastest build) to 5 (widest search)")
	f.Int64Var(&o.workspaceMiB, "workspace", 0, "scratch memory limit per layer in MiB (0: no limit)")
	f.StringVar(&o.timingCache, "timing-cache", "", "file of measured tactic timings, read and updated (a second build does no timing)")
	f.StringSliceVar(&o.layerPrecisions, "layer-precision", nil, "per-layer precision, name:fp32 (repeatable)")
	f.BoolVar(&o.verbose, "verbose", false, "print every pass and layer decision")
	f.BoolVar(&o.verify, "verify", false, "run the IR verifier after every pass (for debugging trtc)")
}

// config turns the flags into a compiler configuration for net.
func (o *buildOptions) config(w io.Writer, net *dsl.Network, source string) (compiler.Config, error) {
	cfg := compiler.DefaultConfig()
	cfg.Target, cfg.OptLevel, cfg.TimingCachePath, cfg.Verify, cfg.Source = o.target, o.optLevel, o.timingCache, o.verify, source
	cfg.WorkspaceLimit = o.workspaceMiB << 20
	p, err := compiler.ParsePrecision(o.precision)
	if err != nil {
		return cfg, usageError{fmt.Errorf("--precision: %w", err)}
	}
	cfg.Precision = p
	for _, s := range o.layerPrecisions {
		name, prec, ok := cutLast(s, ':')
		if !ok {
			return cfg, usageError{fmt.Errorf("--layer-precision %q: want name:fp32", s)}
		}
		lp, err := compiler.ParsePrecision(prec)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--layer-precision %q: %w", s, err)}
		}
		if cfg.LayerPrecisions == nil {
			cfg.LayerPrecisions = map[string]compiler.Precision{}
		}
		cfg.LayerPrecisions[name] = lp
	}
	profiles, err := o.buildProfiles(w, net)
	if err != nil {
		return cfg, usageError{err}
	}
	cfg.Profiles = profiles
	return cfg, nil
}

// buildProfiles reads the shape flags: --min/opt/max-shapes make the first
// profile, each --profile another, --shapes fixes an input in all of them.
// With no shape flag at all, dynamic dims become 1, as trtexec does, with
// a warning.
func (o *buildOptions) buildProfiles(w io.Writer, net *dsl.Network) ([]compiler.Profile, error) {
	fixed, err := parseShapeList("--shapes", o.shapes)
	if err != nil {
		return nil, err
	}
	var profiles []compiler.Profile
	if len(o.minShapes)+len(o.optShapes)+len(o.maxShapes) > 0 {
		mins, err1 := parseShapeList("--min-shapes", o.minShapes)
		opts, err2 := parseShapeList("--opt-shapes", o.optShapes)
		maxs, err3 := parseShapeList("--max-shapes", o.maxShapes)
		if err := firstErr(err1, err2, err3); err != nil {
			return nil, err
		}
		var p compiler.Profile
		for _, name := range sortedKeys(mins, opts, maxs) {
			lo, ok1 := mins[name]
			opt, ok2 := opts[name]
			hi, ok3 := maxs[name]
			if !ok1 || !ok3 {
				return nil, fmt.Errorf("input %q needs both --min-shapes and --max-shapes (and optionally --opt-shapes)", name)
			}
			if !ok2 {
				opt = hi // trtexec: opt defaults to max
			}
			p.Inputs = append(p.Inputs, compiler.ShapeRange{Input: name, Min: lo, Opt: opt, Max: hi})
		}
		profiles = append(profiles, p)
	}
	for _, spec := range o.profiles {
		p, err := parseProfile(spec)
		if err != nil {
			return nil, err
		}
		profiles = append(profiles, p)
	}
	if len(profiles) == 0 {
		profiles = []compiler.Profile{{}}
	}
	for i := range profiles {
		have := map[string]bool{}
		for _, r := range profiles[i].Inputs {
			have[r.Input] = true
		}
		for _, name := range sortedKeys(fixed) {
			if !have[name] {
				s := fixed[name]
				profiles[i].Inputs = append(profiles[i].Inputs, compiler.ShapeRange{Input: name, Min: s, Opt: s, Max: s})
				have[name] = true
			}
		}
		if len(o.shapes)+len(o.minShapes)+len(o.profiles) == 0 {
			for _, in := range net.Inputs() {
				if d := in.Dims(); !d.IsStatic() && !have[in.Name()] {
					s := ones(d)
					fmt.Fprintf(w, "warning: input %q has dynamic dims %s and no shapes were given; building for %s (use --shapes or --min-shapes/--opt-shapes/--max-shapes)\n",
						in.Name(), engine.FormatDims(d), engine.FormatDims(s))
					profiles[i].Inputs = append(profiles[i].Inputs, compiler.ShapeRange{Input: in.Name(), Min: s, Opt: s, Max: s})
				}
			}
		}
	}
	// A network without dynamic inputs needs no profile.
	if len(profiles) == 1 && len(profiles[0].Inputs) == 0 {
		return nil, nil
	}
	return profiles, nil
}

// parseProfile reads name:MIN:OPT:MAX[,name:MIN:OPT:MAX].
func parseProfile(spec string) (compiler.Profile, error) {
	var p compiler.Profile
	for _, part := range strings.Split(spec, ",") {
		f := strings.Split(part, ":")
		if len(f) != 4 || f[0] == "" {
			return p, fmt.Errorf("--profile %q: want name:MIN:OPT:MAX, e.g. x:1x3x224x224:8x3x224x224:32x3x224x224", spec)
		}
		var dims [3][]int64
		for i := range dims {
			d, err := engine.ParseDims(f[i+1])
			if err != nil {
				return p, fmt.Errorf("--profile %q: %v", spec, err)
			}
			dims[i] = d
		}
		p.Inputs = append(p.Inputs, compiler.ShapeRange{Input: f[0], Min: dims[0], Opt: dims[1], Max: dims[2]})
	}
	return p, nil
}

func parseShapeList(flag string, specs []string) (map[string][]int64, error) {
	out := map[string][]int64{}
	for _, s := range specs {
		name, dims, ok := cutLast(s, ':')
		if !ok {
			return nil, fmt.Errorf("%s %q: want name:dims, e.g. input:1x3x224x224", flag, s)
		}
		d, err := engine.ParseDims(dims)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %v", flag, s, err)
		}
		out[name] = d
	}
	return out, nil
}

func cutLast(s string, sep byte) (string, string, bool) {
	i := strings.LastIndexByte(s, sep)
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func sortedKeys(ms ...map[string][]int64) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// importModel imports an ONNX model with its dims as declared (profiles,
// not import-time overrides, give dynamic dims their range).
func importModel(path string) (*dsl.Network, error) {
	return onnx.Import(path, onnx.Options{})
}

// buildPlan compiles net, with a progress bar on stderr when it is a
// terminal, and returns the plan and how long the build took.
func buildPlan(w io.Writer, net *dsl.Network, cfg compiler.Config) (*engine.Plan, time.Duration, error) {
	var bar *progressbar.ProgressBar
	if isatty.IsTerminal(os.Stderr.Fd()) {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("building"),
			progressbar.OptionClearOnFinish(), progressbar.OptionSpinnerType(14))
	}
	cfg.Progress = func(p compiler.Progress) {
		if bar != nil {
			if p.Total > 0 {
				bar.ChangeMax(p.Total)
				bar.Set(p.Done)
			}
			desc := p.Phase
			if p.Pass != "" {
				desc = "pass " + p.Pass
			}
			bar.Describe(desc)
		}
	}
	start := time.Now()
	plan, err := compiler.Build(net, cfg)
	if bar != nil {
		bar.Finish()
	}
	return plan, time.Since(start), err
}

// ones replaces dynamic dims by 1.
func ones(d dsl.Dims) []int64 {
	e := make([]int64, len(d))
	for i, v := range d {
		e[i] = max(v, 1)
	}
	return e
}
