package compiler

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/internal/target"
)

// notBuiltIn says why a known target is missing from this binary.
var notBuiltIn = map[string]string{
	"tensorrt": "this trtc was built without TensorRT support; rebuild with -tags tensorrt (needs TensorRT headers)",
}

// candidates are the targets a build may lower to, in order, each with its
// device: the named one, or for "auto" every target of target.Known that
// is in this binary and can run here. passedOver says why the others were
// not.
type candidate struct {
	t   target.Target
	dev target.Device
}

func resolveTargets(name string) ([]candidate, []string, error) {
	if name != "" && name != "auto" {
		t, dev, err := resolveNamed(name)
		if err != nil {
			return nil, nil, err
		}
		return []candidate{{t, dev}}, nil, nil
	}
	var out []candidate
	var passed []string
	for _, n := range target.Known {
		t, ok := target.Lookup(n)
		if !ok {
			passed = append(passed, fmt.Sprintf("%s: not in this build", n))
			continue
		}
		dev, err := t.Probe()
		if err != nil {
			passed = append(passed, fmt.Sprintf("%s: %v", n, err))
			continue
		}
		out = append(out, candidate{t, dev})
	}
	if len(out) == 0 {
		return nil, passed, diag.Errorf(diag.NoDevice, "no target can run here: %s", strings.Join(passed, "; "))
	}
	return out, passed, nil
}

// resolveNamed finds the named target and probes its device, or says why
// it cannot be used.
func resolveNamed(name string) (target.Target, target.Device, error) {
	t, ok := target.Lookup(name)
	if !ok {
		if why, known := notBuiltIn[name]; known {
			return nil, target.Device{}, diag.Errorf(diag.NoDevice, "target %q: %s", name, why)
		}
		return nil, target.Device{}, diag.Errorf(diag.InvalidArgument, "unknown target %q: want auto, %s", name, strings.Join(target.Known, ", "))
	}
	dev, err := t.Probe()
	if err != nil {
		return nil, target.Device{}, fmt.Errorf("target %q cannot run here: %w", name, err)
	}
	return t, dev, nil
}
