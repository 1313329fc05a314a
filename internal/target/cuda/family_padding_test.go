package cuda

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/dsl"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// emulatePadding runs the padding kernel's loop in Go on plan's metadata,
// line for line as the C.
func emulatePadding(m []int64, n int64, in []int64) []int64 {
	H, W, OH, OW, ph, pw := m[0], m[1], m[2], m[3], m[4], m[5]
	out := make([]int64, n)
	for i := int64(0); i < n; i++ {
		ow, t := i%OW, i/OW
		oh, p := t%OH, t/OH
		h, w := oh-ph, ow-pw
		if h >= 0 && h < H && w >= 0 && w < W {
			out[i] = in[(p*H+h)*W+w]
		}
	}
	return out
}

// TestPaddingPlanMatchesCPU pads and crops random tensors of rank 4 and 5
// and checks the kernel's loop over plan's metadata against the CPU
// engine.
func TestPaddingPlanMatchesCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	compared := 0
	for trial := 0; trial < 300; trial++ {
		dims := []int64{int64(1 + rng.IntN(2)), int64(1 + rng.IntN(3))}
		if rng.IntN(2) == 0 {
			dims = append(dims, int64(1+rng.IntN(2)))
		}
		dims = append(dims, int64(rng.IntN(5)), int64(rng.IntN(5)))
		pre := dsl.Dims{int64(rng.IntN(5) - 2), int64(rng.IntN(5) - 2)}
		post := dsl.Dims{int64(rng.IntN(5) - 2), int64(rng.IntN(5) - 2)}
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Int32, dsl.Dims(dims))
		l := n.AddPaddingNd(x, pre, post)
		l.Output(0).SetName("y")
		n.MarkOutput(l.Output(0))
		if n.Err() != nil {
			continue // crops more than there is
		}
		desc := fmt.Sprintf("padding %v/%v of %v", pre, post, dims)
		if ok, why := familyOf(l).lower(l); !ok {
			t.Fatalf("%s: not lowered: %s", desc, why)
		}
		eng, err := cpueng.New(n)
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]int64, volume(dims))
		for i := range vals {
			vals[i] = 1 + int64(rng.IntN(1<<20))
		}
		xt, _ := tensor.FromInt64s(dsl.Int32, dims, vals)
		res, err := eng.Run(context.Background(), map[string]*tensor.Tensor{"x": xt})
		if err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		want := res["y"]
		d := map[*dsl.Tensor][]int64{x: dims, l.Output(0): want.Shape()}
		m, g, err := paddingPlan(l, shapeValues{dims: d})
		if err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		if g.n != want.Len() {
			t.Fatalf("%s: %d work items for %v", desc, g.n, want.Shape())
		}
		got := emulatePadding(m, g.n, vals)
		for i := range got {
			if got[i] != want.Int64At(int64(i)) {
				t.Errorf("%s: element %d is %d, the CPU engine's %d", desc, i, got[i], want.Int64At(int64(i)))
				break
			}
		}
		compared++
	}
	if compared < 100 {
		t.Errorf("only %d paddings compared", compared)
	}
}

// TestPaddingPlanErrors: a crop larger than the planned input is an
// error of the plan; every type of whole bytes has a kernel, int4 none.
func TestPaddingPlanErrors(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float16, dsl.Dims{1, 1, -1, 4})
	l := n.AddPaddingNd(x, dsl.Dims{-2, 0}, dsl.Dims{0, 1})
	n.MarkOutput(l.Output(0))
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
	d := map[*dsl.Tensor][]int64{x: {1, 1, 1, 4}, l.Output(0): {1, 1, 0, 5}}
	if _, _, err := paddingPlan(l, shapeValues{dims: d}); err == nil {
		t.Error("cropping 2 rows of 1 planned")
	}
	d[x], d[l.Output(0)] = []int64{1, 1, 3, 4}, []int64{1, 1, 1, 5}
	m, g, err := paddingPlan(l, shapeValues{dims: d})
	if err != nil || fmt.Sprint(m) != "[3 4 1 5 -2 0]" || g.n != 5 {
		t.Errorf("plan %v, %d items, %v", m, g.n, err)
	}
	for _, dt := range tensor.AllTypes {
		if dt == dsl.Int4 {
			if _, ok := wholeBytes(dt); ok {
				t.Error("int4 moves as whole bytes")
			}
			continue
		}
		n := dsl.NewNetwork()
		l := n.AddPaddingNd(n.AddInput("x", dt, dsl.Dims{1, 1, 2, 2}), dsl.Dims{1, 1}, dsl.Dims{1, 1})
		n.MarkOutput(l.Output(0))
		if err := n.Err(); err != nil {
			t.Fatal(err)
		}
		if kind, why := chooseKind(l, nil); kind != kindKernel {
			t.Errorf("%v: %s (%s)", dt, kind, why)
		}
		if _, ok := paddingKernel("k", l); !ok {
			t.Errorf("%v: no kernel", dt)
		}
	}
}
