package conformance

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trtc/trtc/tensor"
)

func TestCompare(t *testing.T) {
	f := func(v ...float32) *tensor.Tensor {
		x, _ := tensor.FromFloat32([]int64{int64(len(v))}, v)
		return x
	}
	nan := float32(math.NaN())
	if err := Compare(f(1, 2, nan), f(1, 2+1e-4, nan)); err != nil {
		t.Errorf("within rtol 1e-3: %v", err)
	}
	if err := Compare(f(1, 2.01), f(1, 2)); err == nil || !strings.Contains(err.Error(), "first at 1") {
		t.Errorf("beyond rtol: %v", err)
	}
	if err := Compare(f(1, 2), f(1, 2, 3)); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("shape: %v", err)
	}
	i, _ := tensor.FromInt64([]int64{2}, []int64{1, 2})
	if err := Compare(i, f(1, 2)); err == nil || !strings.Contains(err.Error(), "type") {
		t.Errorf("type: %v", err)
	}
	if err := Compare(nil, f(1)); err == nil {
		t.Error("a missing output passed")
	}
}

func TestExcludesAndSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ex.txt")
	os.WriteFile(path, []byte("# comment\n\nnode/test_a sequence types\n"), 0o644)
	ex, err := LoadExcludes(path)
	if err != nil || ex["node/test_a"] != "sequence types" {
		t.Fatalf("LoadExcludes = %v, %v", ex, err)
	}
	os.WriteFile(path, []byte("node/test_a\n"), 0o644)
	if _, err := LoadExcludes(path); err == nil || !strings.Contains(err.Error(), "no reason") {
		t.Errorf("an entry without a reason was accepted: %v", err)
	}
	os.WriteFile(path, []byte("node/a r\nnode/a r\n"), 0o644)
	if _, err := LoadExcludes(path); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a duplicate entry was accepted: %v", err)
	}
	s := Summary([]Result{
		{Case: Case{Group: "node"}, Status: Passed}, {Case: Case{Group: "node"}, Status: Skipped},
		{Case: Case{Group: "simple"}, Status: Failed},
	})
	for _, want := range []string{"node: 1 passed, 0 failed, 1 skipped", "simple: 0 passed, 1 failed, 0 skipped", "conformance: 1 passed, 1 failed, 1 skipped"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
