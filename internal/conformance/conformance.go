// Package conformance runs the ONNX backend test data (Debian's
// libonnx-testdata: data/node, pytorch-converted, pytorch-operator, simple)
// through trtc's ONNX importer and any target, and compares the outputs
// with the stored ones. Targets plug in a Runner, so the CPU, CUDA and
// TensorRT targets share one harness and one way of counting.
package conformance

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/tensor"
)

// DefaultRoot is where Debian's libonnx-testdata puts the models.
const DefaultRoot = "/usr/share/libonnx-testdata/data"

// Groups are the test-data folders the harness runs, in report order.
var Groups = []string{"node", "pytorch-converted", "pytorch-operator", "simple"}

// Runner executes a network on a target.
type Runner func(net *dsl.Network, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error)

// Case is one model folder with its test data sets.
type Case struct {
	Group, Name, Dir string
}

// Status is the outcome of a case.
type Status int

const (
	Passed Status = iota
	Failed
	Skipped
)

// Result is the outcome of one case.
type Result struct {
	Case
	Status Status
	Detail string // why it failed
}

// Cases lists the model folders under root, per group, sorted.
func Cases(root string) ([]Case, error) {
	var out []Case
	for _, g := range Groups {
		entries, err := os.ReadDir(filepath.Join(root, g))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, Case{Group: g, Name: e.Name(), Dir: filepath.Join(root, g, e.Name())})
			}
		}
	}
	return out, nil
}

// Run imports a case's model and runs every test data set in it.
func Run(c Case, run Runner) Result {
	fail := func(format string, args ...any) Result {
		return Result{Case: c, Status: Failed, Detail: fmt.Sprintf(format, args...)}
	}
	m, err := onnx.LoadModel(filepath.Join(c.Dir, "model.onnx"))
	if err != nil {
		return fail("load: %v", err)
	}
	sets, _ := filepath.Glob(filepath.Join(c.Dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return fail("no test_data_set folders")
	}
	net, err := onnx.ImportModel(m, onnx.Options{})
	if err != nil {
		return fail("import: %v", err)
	}
	first, err := loadInputs(sets[0], len(net.Inputs()))
	if err != nil {
		return fail("%v", err)
	}
	if fix := rankOverrides(net, first); fix != nil {
		if net, err = onnx.ImportModel(m, onnx.Options{InputDims: fix}); err != nil {
			return fail("import with the data's input shapes: %v", err)
		}
	}
	for si, set := range sets {
		raw := first
		if si > 0 {
			if raw, err = loadInputs(set, len(net.Inputs())); err != nil {
				return fail("%v", err)
			}
		}
		inputs := map[string]*tensor.Tensor{}
		for i, in := range net.Inputs() {
			inputs[in.Name()] = reinterpretHalfBits(raw[i], in.Type())
		}
		got, err := run(net, inputs)
		if err != nil {
			return fail("%s: run: %v", filepath.Base(set), err)
		}
		for i, out := range net.Outputs() {
			want, err := onnx.LoadTensorFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
			if err != nil {
				return fail("%s: output %d: %v", filepath.Base(set), i, err)
			}
			if g := got[out.Name()]; g != nil {
				want = reinterpretHalfBits(want, g.DType())
			}
			if err := Compare(got[out.Name()], want); err != nil {
				return fail("%s: output %d (%q): %v", filepath.Base(set), i, out.Name(), err)
			}
		}
	}
	return Result{Case: c, Status: Passed}
}

// The ONNX backend test runner's default tolerances.
const (
	RTol = 1e-3
	ATol = 1e-7
)

// Compare checks got against want: same type and shape, integers and
// booleans exact, floats within the backend runner's rtol/atol, NaN where
// NaN is expected.
func Compare(got, want *tensor.Tensor) error {
	if got == nil {
		return fmt.Errorf("no value")
	}
	if got.DType() != want.DType() {
		return fmt.Errorf("type %v, want %v", got.DType(), want.DType())
	}
	gs, ws := got.Shape(), want.Shape()
	if fmt.Sprint(gs) != fmt.Sprint(ws) {
		return fmt.Errorf("shape %v, want %v", gs, ws)
	}
	g, w := got.Float64s(), want.Float64s()
	bad, first := 0, -1
	for i := range g {
		ok := g[i] == w[i] ||
			(math.IsNaN(g[i]) && math.IsNaN(w[i])) ||
			(want.DType().IsFloat() && !math.IsInf(w[i], 0) && math.Abs(g[i]-w[i]) <= ATol+RTol*math.Abs(w[i]))
		if !ok {
			if first < 0 {
				first = i
			}
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d values differ; first at %d: got %g want %g", bad, len(g), first, g[first], w[first])
	}
	return nil
}

// Excludes maps a case ("group/name") to the reason it does not pass.
type Excludes map[string]string

// LoadExcludes reads an exclude list: one case per line, "group/name
// reason...", # comments and blank lines ignored.
func LoadExcludes(path string) (Excludes, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ex := Excludes{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, " ")
		if !ok || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: %q has no reason", path, i+1, line)
		}
		if _, dup := ex[name]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed twice", path, i+1, name)
		}
		ex[name] = strings.TrimSpace(reason)
	}
	return ex, nil
}

// Summary counts results overall and per group as "N passed, N failed,
// N skipped" lines. Excluded cases that fail count as skipped.
func Summary(results []Result) string {
	type count struct{ pass, fail, skip int }
	per := map[string]*count{}
	total := &count{}
	for _, r := range results {
		c := per[r.Group]
		if c == nil {
			c = &count{}
			per[r.Group] = c
		}
		for _, x := range []*count{c, total} {
			switch r.Status {
			case Passed:
				x.pass++
			case Failed:
				x.fail++
			case Skipped:
				x.skip++
			}
		}
	}
	var b strings.Builder
	for _, g := range Groups {
		if c := per[g]; c != nil {
			fmt.Fprintf(&b, "%s: %d passed, %d failed, %d skipped\n", g, c.pass, c.fail, c.skip)
		}
	}
	fmt.Fprintf(&b, "conformance: %d passed, %d failed, %d skipped\n", total.pass, total.fail, total.skip)
	return b.String()
}

// reinterpretHalfBits undoes a quirk of the test data: some 16-bit float
// inputs (test_cast_BFLOAT16_to_FLOAT) are stored as UINT16 tensors holding
// the bit patterns, which load widened to Int32. When the graph declares a
// 16-bit float, the values are those bits.
func reinterpretHalfBits(t *tensor.Tensor, want tensor.DataType) *tensor.Tensor {
	if t.DType() != tensor.Int32 || (want != tensor.BFloat16 && want != tensor.Float16) {
		return t
	}
	vals := t.Int64Values()
	raw := make([]byte, 2*len(vals))
	for i, v := range vals {
		raw[2*i], raw[2*i+1] = byte(v), byte(v>>8)
	}
	out, err := tensor.FromBytes(want, t.Shape(), raw)
	if err != nil {
		return t
	}
	return out
}

// loadInputs reads input_0.pb ... input_{n-1}.pb of one test data set.
func loadInputs(set string, n int) ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, n)
	for i := range out {
		t, err := onnx.LoadTensorFile(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
		if err != nil {
			return nil, fmt.Errorf("%s: input %d: %v", filepath.Base(set), i, err)
		}
		out[i] = t
	}
	return out, nil
}

// rankOverrides works around test cases whose stored inputs do not have the
// rank the model declares (test_castlike_*BFLOAT16*: a "like" input
// declared 3x4, stored with rank 1, whose values the op never reads): such
// inputs are imported with the data's shape, as trtexec --shapes would.
// It returns nil when every input matches.
func rankOverrides(net *dsl.Network, data []*tensor.Tensor) map[string]dsl.Dims {
	var fix map[string]dsl.Dims
	for i, in := range net.Inputs() {
		if data[i].Rank() == in.Rank() {
			continue
		}
		if fix == nil {
			fix = map[string]dsl.Dims{}
		}
		fix[in.Name()] = dsl.Dims(data[i].Shape())
	}
	return fix
}
