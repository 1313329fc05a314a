// Package triton writes Triton Inference Server model repository entries
// for TensorRT engines: NAME/config.pbtxt (platform tensorrt_plan) and
// NAME/VERSION/model.plan, so `trtc compile --target tensorrt
// --triton-repo DIR --name NAME` gives an engine Triton can serve.
//
// Batching follows Triton's rules for TensorRT plans: when dim 0 of every
// input and output is dynamic and the optimization profiles accept every
// batch size from 1 to some B on every input, the model is batched:
// max_batch_size is B, dims leave out the batch dim, and dynamic batching
// is on. Otherwise max_batch_size is 0 and dims are the full shapes.
package triton

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
	"github.com/trtc/trtc/tensor"
)

// Options tune the config.pbtxt.
type Options struct {
	// Version is the model version directory (0 means 1).
	Version int
	// Instances is the number of model instances per GPU (0 means 1).
	Instances int
	// NoDynamicBatching leaves dynamic_batching out of a batched model.
	NoDynamicBatching bool
	// PreferredBatchSizes and MaxQueueDelayMicroseconds tune dynamic
	// batching; empty and 0 leave Triton's defaults.
	PreferredBatchSizes       []int64
	MaxQueueDelayMicroseconds int64
}

// Validate checks the options and the model name.
func (o Options) Validate(name string) error {
	var probs []string
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		probs = append(probs, fmt.Sprintf("model name %q must be a non-empty directory name without path separators", name))
	}
	if o.Version < 0 {
		probs = append(probs, fmt.Sprintf("version %d: want 1 or more", o.Version))
	}
	if o.Instances < 0 {
		probs = append(probs, fmt.Sprintf("instances %d: want 1 or more", o.Instances))
	}
	if o.MaxQueueDelayMicroseconds < 0 {
		probs = append(probs, fmt.Sprintf("max queue delay %dµs is negative", o.MaxQueueDelayMicroseconds))
	}
	for _, b := range o.PreferredBatchSizes {
		if b < 1 {
			probs = append(probs, fmt.Sprintf("preferred batch size %d: want 1 or more", b))
		}
	}
	if len(probs) > 0 {
		return diag.Errorf(diag.InvalidArgument, "Triton repository: %s", strings.Join(probs, "; "))
	}
	return nil
}

// WriteRepository writes dir/name/config.pbtxt and
// dir/name/VERSION/model.plan for the engine described by m whose
// TensorRT plan is plan. Existing files are replaced.
func WriteRepository(dir, name string, m *enginepb.Manifest, plan []byte, opts Options) error {
	if err := opts.Validate(name); err != nil {
		return err
	}
	if len(plan) == 0 {
		return diag.Errorf(diag.InvalidArgument, "Triton repository: the TensorRT plan is empty (was the engine built with --target tensorrt?)")
	}
	if t := m.GetTarget(); t != "" && t != "tensorrt" {
		return diag.Errorf(diag.EngineIncompatible, "Triton repository: the engine's target is %q; Triton's tensorrt_plan platform needs --target tensorrt", t)
	}
	cfg, err := Config(name, m, opts)
	if err != nil {
		return err
	}
	version := opts.Version
	if version == 0 {
		version = 1
	}
	vdir := filepath.Join(dir, name, strconv.Itoa(version))
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return diag.Wrap(diag.InvalidArgument, err, "Triton repository: cannot create %s", vdir)
	}
	if err := writeFile(filepath.Join(vdir, "model.plan"), plan); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, name, "config.pbtxt"), []byte(cfg))
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return diag.Wrap(diag.InvalidArgument, err, "Triton repository: cannot write %s", path)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return diag.Wrap(diag.InvalidArgument, err, "Triton repository: cannot write %s", path)
	}
	return nil
}

// tritonTypes maps trtc (TensorRT) data types to Triton's.
var tritonTypes = map[tensor.DataType]string{
	tensor.Float32: "TYPE_FP32", tensor.Float16: "TYPE_FP16", tensor.BFloat16: "TYPE_BF16",
	tensor.Int8: "TYPE_INT8", tensor.UInt8: "TYPE_UINT8", tensor.Int32: "TYPE_INT32",
	tensor.Int64: "TYPE_INT64", tensor.Bool: "TYPE_BOOL",
}

// DataType returns Triton's name for a tensor type.
func DataType(dt tensor.DataType) (string, error) {
	if s, ok := tritonTypes[dt]; ok {
		return s, nil
	}
	return "", diag.Errorf(diag.TypeMismatch, "Triton has no data type for %v; cast the tensor at the network's boundary", dt)
}

// MaxBatch derives the batch size from the engine's I/O and profiles: the
// largest B such that every input's dim 0 is dynamic, every output's dim 0
// is dynamic, and the profiles together accept batch 1..B on every input;
// 0 when the model cannot be batched that way.
func MaxBatch(m *enginepb.Manifest) int64 {
	if len(m.GetInputs()) == 0 || len(m.GetProfiles()) == 0 {
		return 0
	}
	for _, t := range append(append([]*enginepb.TensorDesc{}, m.GetInputs()...), m.GetOutputs()...) {
		if len(t.GetDims()) == 0 || t.GetDims()[0] != -1 {
			return 0
		}
	}
	best := int64(-1)
	for _, in := range m.GetInputs() {
		// The batch sizes this input accepts: the union of the profiles'
		// [min, max] of dim 0, which must start at 1 and have no gap.
		type span struct{ lo, hi int64 }
		var spans []span
		for _, p := range m.GetProfiles() {
			for _, r := range p.GetInputs() {
				if r.GetInput() == in.GetName() && len(r.GetMin()) > 0 && len(r.GetMax()) > 0 {
					spans = append(spans, span{r.GetMin()[0], r.GetMax()[0]})
				}
			}
		}
		reach := int64(0)
		for grew := true; grew; {
			grew = false
			for _, s := range spans {
				if s.lo <= reach+1 && s.hi > reach {
					reach, grew = s.hi, true
				}
			}
		}
		if reach < 1 {
			return 0
		}
		if best < 0 || reach < best {
			best = reach
		}
	}
	if best < 1 {
		return 0
	}
	return best
}

// Config returns the config.pbtxt text for the engine.
func Config(name string, m *enginepb.Manifest, opts Options) (string, error) {
	if err := opts.Validate(name); err != nil {
		return "", err
	}
	maxBatch := MaxBatch(m)
	for _, b := range opts.PreferredBatchSizes {
		if maxBatch == 0 || b > maxBatch {
			return "", diag.Errorf(diag.InvalidArgument, "Triton repository: preferred batch size %d is outside the engine's batch range 1..%d", b, maxBatch)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name: %q\n", name)
	b.WriteString("platform: \"tensorrt_plan\"\n")
	fmt.Fprintf(&b, "max_batch_size: %d\n", maxBatch)
	for _, io := range []struct {
		key  string
		list []*enginepb.TensorDesc
	}{{"input", m.GetInputs()}, {"output", m.GetOutputs()}} {
		if len(io.list) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s [\n", io.key)
		for i, t := range io.list {
			dt, err := DataType(tensor.DataType(t.GetDtype()))
			if err != nil {
				return "", fmt.Errorf("%s %q: %w", io.key, t.GetName(), err)
			}
			dims := t.GetDims()
			if maxBatch > 0 {
				dims = dims[1:]
			}
			parts := make([]string, len(dims))
			for j, d := range dims {
				parts[j] = strconv.FormatInt(d, 10)
			}
			if len(parts) == 0 {
				// Triton needs at least one dim; a scalar is [1] reshaped to [].
				parts = []string{"1"}
			}
			fmt.Fprintf(&b, "  {\n    name: %q\n    data_type: %s\n    dims: [ %s ]\n", t.GetName(), dt, strings.Join(parts, ", "))
			if len(dims) == 0 {
				b.WriteString("    reshape: { shape: [ ] }\n")
			}
			b.WriteString("  }")
			if i < len(io.list)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("]\n")
	}
	if maxBatch > 0 && !opts.NoDynamicBatching {
		b.WriteString("dynamic_batching {\n")
		if len(opts.PreferredBatchSizes) > 0 {
			parts := make([]string, len(opts.PreferredBatchSizes))
			for i, v := range opts.PreferredBatchSizes {
				parts[i] = strconv.FormatInt(v, 10)
			}
			fmt.Fprintf(&b, "  preferred_batch_size: [ %s ]\n", strings.Join(parts, ", "))
		}
		if opts.MaxQueueDelayMicroseconds > 0 {
			fmt.Fprintf(&b, "  max_queue_delay_microseconds: %d\n", opts.MaxQueueDelayMicroseconds)
		}
		b.WriteString("}\n")
	}
	instances := opts.Instances
	if instances == 0 {
		instances = 1
	}
	fmt.Fprintf(&b, "instance_group [\n  {\n    count: %d\n    kind: KIND_GPU\n  }\n]\n", instances)
	if opts.Version > 1 {
		fmt.Fprintf(&b, "version_policy: { specific: { versions: [ %d ] } }\n", opts.Version)
	}
	return b.String(), nil
}
