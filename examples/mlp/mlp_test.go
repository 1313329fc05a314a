package main

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// TestMLPFromSafetensors saves weights, loads them back, runs the network and
// checks it against the same MLP computed with plain loops.
func TestMLPFromSafetensors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mlp.safetensors")
	if err := tensor.SaveSafetensors(path, randomWeights(5), nil); err != nil {
		t.Fatal(err)
	}
	st, err := tensor.LoadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	net, err := buildMLP(st.Tensors)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 3
	x := make([]float32, batch*784)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	in, _ := tensor.FromFloat32([]int64{batch, 784}, x)
	out, err := cpu.Run(net, map[string]*tensor.Tensor{"x": in})
	if err != nil {
		t.Fatal(err)
	}

	var want []float64
	for r := 0; r < batch; r++ {
		h := make([]float64, 784)
		for i := range h {
			h[i] = float64(x[r*784+i])
		}
		for l := 0; l+1 < len(layerSizes); l++ {
			wn, bn := weightNames(l)
			w, b := st.Tensors[wn].Float32s(), st.Tensors[bn].Float32s()
			o := int(layerSizes[l+1])
			next := make([]float64, o)
			for j := 0; j < o; j++ {
				acc := float64(b[j])
				for i := range h {
					acc += h[i] * float64(w[j*len(h)+i])
				}
				if l+2 < len(layerSizes) && acc < 0 {
					acc = 0
				}
				next[j] = acc
			}
			h = next
		}
		maxv, sum := math.Inf(-1), 0.0
		for _, v := range h {
			maxv = math.Max(maxv, v)
		}
		for _, v := range h {
			sum += math.Exp(v - maxv)
		}
		for _, v := range h {
			want = append(want, math.Exp(v-maxv)/sum)
		}
	}
	if err := tolerance.For(tensor.Float32).Scaled(784).Compare(out["probs"].Float64s(), want); err != nil {
		t.Fatal(err)
	}
}

func TestMLPMissingWeights(t *testing.T) {
	w := randomWeights(1)
	delete(w, "fc2.bias")
	if _, err := buildMLP(w); err == nil {
		t.Fatal("a missing bias was accepted")
	}
}
