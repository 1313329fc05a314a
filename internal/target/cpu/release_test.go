package cpu

import (
	"testing"

	"github.com/trtc/trtc/dsl"
)

func TestReleasePlanDropsValuesAfterLastRead(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2})
	a := net.AddActivation(x, dsl.ActivationReLU).Output(0)     // step 0 reads x
	b := net.AddActivation(a, dsl.ActivationTanh).Output(0)     // step 1 reads a
	c := net.AddElementWise(a, b, dsl.ElementWiseSum).Output(0) // step 2 reads a, b
	net.MarkOutput(c)
	steps, err := buildSchedule(net)
	if err != nil {
		t.Fatal(err)
	}
	plan := releasePlan(net, steps)
	want := [][]int{{x.ID()}, nil, {a.ID(), b.ID()}}
	for i := range want {
		if !sameIDs(plan[i], want[i]) {
			t.Errorf("step %d releases %v, want %v", i, plan[i], want[i])
		}
	}
}

func sameIDs(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[int]bool{}
	for _, v := range a {
		seen[v] = true
	}
	for _, v := range b {
		if !seen[v] {
			return false
		}
	}
	return true
}
