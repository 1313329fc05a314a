package cuda

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/trtc/trtc/dsl"
)

func TestTacticRoundTrip(t *testing.T) {
	for _, c := range []choice{
		{Engine: 57, Bias: true, TimeNS: 1200},
		{Engine: 3, TimeNS: 5},
		{Algo: []byte{1, 2, 3, 250}, Workspace: 4096, TimeNS: 77},
	} {
		got, ok := parseTactic(c.tactic(), time.Duration(c.TimeNS))
		if !ok {
			t.Fatalf("%q does not parse", c.tactic())
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("%q read back differs (-want +got):\n%s", c.tactic(), diff)
		}
	}
	for _, bad := range []string{"", "cudnn", "cudnn:engine=x,bias=true", "cublasLt:algo=zz,workspace=1", "cublasLt:algo=,workspace=1", "tensorrt:tactic=1"} {
		if _, ok := parseTactic(bad, 0); ok {
			t.Errorf("%q parses; want it refused", bad)
		}
	}
}

func TestCandidatesGrowWithOptLevel(t *testing.T) {
	prev := 0
	for level := 0; level <= 5; level++ {
		n := candidates(level)
		if n < prev || n < 1 {
			t.Errorf("level %d times %d candidates, after %d at the level below", level, n, prev)
		}
		prev = n
	}
	if candidates(0) != 1 || candidates(3) <= 1 {
		t.Errorf("level 0 times %d, level 3 %d: want 1 (no timing) and several", candidates(0), candidates(3))
	}
}

func TestChoiceKeysAndTactics(t *testing.T) {
	net := dsl.NewNetwork()
	a := net.AddInput("a", dsl.Float32, dsl.Dims{-1, 8})
	w := net.AddConstant(dsl.Dims{8, 4}, dsl.Float32Weights(make([]float32, 32)...)).Output(0)
	mm := net.AddMatrixMultiply(a, dsl.MatrixOpNone, w, dsl.MatrixOpNone)
	net.MarkOutput(mm.Output(0))
	d1 := map[*dsl.Tensor][]int64{a: {2, 8}, w: {8, 4}, mm.Output(0): {2, 4}}
	d2 := map[*dsl.Tensor][]int64{a: {3, 8}, w: {8, 4}, mm.Output(0): {3, 4}}
	k1, k2 := choiceKey(1, mm, d1), choiceKey(1, mm, d2)
	if k1 == k2 || k1 == choiceKey(2, mm, d1) {
		t.Fatalf("keys %q, %q do not tell shapes or steps apart", k1, k2)
	}
	p := &plan{Choices: map[string]choice{k2: {Engine: 9}, k1: {Engine: 4}, "11:[1]->[1]": {Engine: 5}}}
	if got, want := p.tacticOf(1), (choice{Engine: 4}).tactic(); got != want { // the first key: [2 8] before [3 8]
		t.Errorf("tacticOf(1) = %q, want %q", got, want)
	}
	if got := p.tacticOf(2); got != "" {
		t.Errorf("tacticOf(2) = %q, want none", got)
	}
}
