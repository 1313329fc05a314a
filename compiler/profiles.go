package compiler

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
)

// checkProfiles reports, all at once, every way the profiles do not fit
// the network, in the words TensorRT users meet: an input with dynamic
// dims and no profile, a range for an input that does not exist, ranks
// that differ, static dims the range contradicts, min > opt > max.
func checkProfiles(net *dsl.Network, profiles []Profile) error {
	var errs diag.List
	inputs := map[string]*dsl.Tensor{}
	var dynamic []*dsl.Tensor
	for _, in := range net.Inputs() {
		inputs[in.Name()] = in
		if hasDynamic(in.Dims()) {
			dynamic = append(dynamic, in)
		}
	}
	if len(profiles) == 0 {
		for _, in := range dynamic {
			errs = append(errs, diag.Errorf(diag.ShapeMismatch, "input %q has dynamic dims %s but no optimization profile: give its min/opt/max shapes (Config.Profiles; trtc compile --shapes %s:%s, or --min-shapes/--opt-shapes/--max-shapes)",
				in.Name(), engine.FormatDims(in.Dims()), in.Name(), engine.FormatDims(exampleShape(in.Dims()))))
		}
		return errs.Err()
	}
	for pi, p := range profiles {
		seen := map[string]bool{}
		for _, r := range p.Inputs {
			in, ok := inputs[r.Input]
			if !ok {
				errs = append(errs, diag.Errorf(diag.InvalidArgument, "optimization profile %d gives shapes for %q, which is not a network input", pi, r.Input))
				continue
			}
			if seen[r.Input] {
				errs = append(errs, diag.Errorf(diag.InvalidArgument, "optimization profile %d gives shapes for input %q twice", pi, r.Input))
				continue
			}
			seen[r.Input] = true
			if err := checkRange(pi, in, r); err != nil {
				errs = append(errs, err)
			}
		}
		for _, in := range dynamic {
			if !seen[in.Name()] {
				errs = append(errs, diag.Errorf(diag.ShapeMismatch, "input %q has dynamic dims %s but optimization profile %d gives no shapes for it", in.Name(), engine.FormatDims(in.Dims()), pi))
			}
		}
	}
	return errs.Err()
}

func checkRange(pi int, in *dsl.Tensor, r ShapeRange) *diag.Error {
	dims := in.Dims()
	for _, s := range [][]int64{r.Min, r.Opt, r.Max} {
		if len(s) != len(dims) {
			return diag.Errorf(diag.ShapeMismatch, "optimization profile %d, input %q: shapes min %s opt %s max %s must have the input's rank %d (dims %s)",
				pi, in.Name(), engine.FormatDims(r.Min), engine.FormatDims(r.Opt), engine.FormatDims(r.Max), len(dims), engine.FormatDims(dims))
		}
	}
	for i, d := range dims {
		lo, opt, hi := r.Min[i], r.Opt[i], r.Max[i]
		switch {
		case lo < 0 || lo > opt || opt > hi:
			return diag.Errorf(diag.ShapeMismatch, "optimization profile %d, input %q, dimension %d: min %d, opt %d, max %d; want 0 <= min <= opt <= max",
				pi, in.Name(), i, lo, opt, hi)
		case d >= 0 && (lo != d || opt != d || hi != d):
			return diag.Errorf(diag.ShapeMismatch, "optimization profile %d, input %q: dimension %d is fixed at %d in the network (dims %s), the profile gives %d..%d",
				pi, in.Name(), i, d, engine.FormatDims(dims), lo, hi)
		}
	}
	return nil
}

func hasDynamic(d dsl.Dims) bool {
	for _, v := range d {
		if v < 0 {
			return true
		}
	}
	return false
}

// exampleShape replaces dynamic dims by 1, for messages.
func exampleShape(d dsl.Dims) []int64 {
	out := make([]int64, len(d))
	for i, v := range d {
		out[i] = max(v, 1)
	}
	return out
}

// StaticProfile is the profile that fixes every dynamic input to one
// shape (trtexec --shapes): min = opt = max.
func StaticProfile(shapes map[string][]int64) Profile {
	var p Profile
	for name, s := range shapes {
		p.Inputs = append(p.Inputs, ShapeRange{Input: name, Min: s, Opt: s, Max: s})
	}
	sortRanges(p.Inputs)
	return p
}
