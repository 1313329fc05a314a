package cpu

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TestConcurrentRuns runs one engine from several goroutines with different
// inputs: each run must see only its own values (run with -race).
func TestConcurrentRuns(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 4})
	w := net.AddConstant(dsl.Dims{4, 4}, dsl.Float32Weights(1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4)).Output(0)
	y := net.AddMatrixMultiply(x, dsl.MatrixOpNone, w, dsl.MatrixOpNone).Output(0)
	y = net.AddActivation(y, dsl.ActivationReLU).Output(0)
	net.MarkOutput(y)
	e, err := New(net)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := float32(g + 1)
			in, _ := tensor.FromFloat32([]int64{1, 4}, []float32{v, -v, v, v})
			for i := 0; i < 20; i++ {
				out, err := e.Run(context.Background(), map[string]*tensor.Tensor{"x": in})
				if err != nil {
					t.Error(err)
					return
				}
				got := out[y.Name()].Float32s()
				want := []float32{v, 0, 3 * v, 4 * v} // diag(1..4), then ReLU
				for j := range want {
					if got[j] != want[j] {
						t.Errorf("goroutine %d: got %v want %v", g, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestRunRejectsBadInputs(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 4})
	net.MarkOutput(net.AddActivation(x, dsl.ActivationReLU).Output(0))
	e, err := New(net)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   map[string]*tensor.Tensor
		code diag.Code
	}{
		{map[string]*tensor.Tensor{}, diag.InvalidArgument},                                                // missing
		{map[string]*tensor.Tensor{"x": tensor.New(tensor.Float16, 1, 4)}, diag.TypeMismatch},              // wrong type
		{map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 1, 5)}, diag.ShapeMismatch},             // wrong static dim
		{map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 4)}, diag.ShapeMismatch},                // wrong rank
		{map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 1, 4), "z": nil}, diag.InvalidArgument}, // unknown name
	}
	for i, c := range cases {
		if _, err := e.Run(context.Background(), c.in); !errors.Is(err, c.code) {
			t.Errorf("case %d: got %v, want %v", i, err, c.code)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Run(ctx, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 1, 4)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}
