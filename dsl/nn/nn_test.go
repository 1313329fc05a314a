package nn_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/dsl/nn"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// Expected values are computed by naive loops in this file.

func randVals(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
		if v[i] == 0 {
			v[i] = 0.5
		}
	}
	return v
}

func weights(shape []int64, v []float32) dsl.Weights {
	t, err := tensor.FromFloat32(shape, v)
	if err != nil {
		panic(err)
	}
	return dsl.NewWeights(t)
}

func run(t *testing.T, net *dsl.Network, out *dsl.Tensor, in map[string]*tensor.Tensor) []float64 {
	t.Helper()
	net.MarkOutput(out)
	res, err := cpu.Run(net, in)
	if err != nil {
		t.Fatal(err)
	}
	return res[out.Name()].Float64s()
}

func compare(t *testing.T, got []float64, want []float64, k int) {
	t.Helper()
	if err := tolerance.For(tensor.Float32).Scaled(k).Compare(got, want); err != nil {
		t.Fatal(err)
	}
}

func TestLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const b, s, in, out = 2, 3, 5, 4
	x := randVals(rng, b*s*in)
	w := randVals(rng, out*in)
	bias := randVals(rng, out)
	net := dsl.NewNetwork()
	xt := net.AddInput("x", dsl.Float32, dsl.Dims{-1, s, in})
	y := nn.Linear(net, xt, weights([]int64{out, in}, w), weights([]int64{out}, bias))
	xv, _ := tensor.FromFloat32([]int64{b, s, in}, x)
	got := run(t, net, y, map[string]*tensor.Tensor{"x": xv})
	var want []float64
	for r := 0; r < b*s; r++ {
		for o := 0; o < out; o++ {
			acc := float64(bias[o])
			for i := 0; i < in; i++ {
				acc += float64(x[r*in+i]) * float64(w[o*in+i])
			}
			want = append(want, acc)
		}
	}
	compare(t, got, want, in)
}

func TestLinearRejectsWrongFeatures(t *testing.T) {
	net := dsl.NewNetwork()
	xt := net.AddInput("x", dsl.Float32, dsl.Dims{1, 7})
	net.MarkOutput(nn.Linear(net, xt, weights([]int64{2, 5}, make([]float32, 10)), dsl.Weights{}))
	if err := net.Err(); !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("got %v, want ShapeMismatch", err)
	}
}

func TestConv2dAndBatchNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, c, h, w, o, k = 1, 4, 6, 5, 6, 3
	const groups, stride, pad = 2, 2, 1
	x := randVals(rng, n*c*h*w)
	wt := randVals(rng, o*(c/groups)*k*k)
	bias := randVals(rng, o)
	bn := nn.BatchNormParams{Gamma: randVals(rng, o), Beta: randVals(rng, o), Mean: randVals(rng, o), Var: randVals(rng, o), Eps: 1e-5}
	for i := range bn.Var {
		bn.Var[i] = float32(math.Abs(float64(bn.Var[i]))) + 0.1
	}
	net := dsl.NewNetwork()
	xt := net.AddInput("x", dsl.Float32, dsl.Dims{n, c, h, w})
	y := nn.Conv2d(net, xt, weights([]int64{o, c / groups, k, k}, wt), weights([]int64{o}, bias),
		nn.Conv2dOptions{Stride: [2]int64{stride, stride}, Padding: [2]int64{pad, pad}, Groups: groups})
	y = nn.BatchNorm(net, y, bn)
	xv, _ := tensor.FromFloat32([]int64{n, c, h, w}, x)
	got := run(t, net, y, map[string]*tensor.Tensor{"x": xv})
	oh, ow := (h+2*pad-k)/stride+1, (w+2*pad-k)/stride+1
	cpg, opg := c/groups, o/groups
	var want []float64
	for oc := 0; oc < o; oc++ {
		g := oc / opg
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				acc := float64(bias[oc])
				for ic := 0; ic < cpg; ic++ {
					for a := 0; a < k; a++ {
						for b := 0; b < k; b++ {
							yy, xx := i*stride-pad+a, j*stride-pad+b
							if yy < 0 || yy >= h || xx < 0 || xx >= w {
								continue
							}
							acc += float64(x[((g*cpg+ic)*h+yy)*w+xx]) * float64(wt[((oc*cpg+ic)*k+a)*k+b])
						}
					}
				}
				norm := (acc-float64(bn.Mean[oc]))/math.Sqrt(float64(bn.Var[oc])+1e-5)*float64(bn.Gamma[oc]) + float64(bn.Beta[oc])
				want = append(want, norm)
			}
		}
	}
	compare(t, got, want, cpg*k*k)
}

func TestLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const rows, f = 6, 8
	x := randVals(rng, rows*f)
	g, b := randVals(rng, f), randVals(rng, f)
	net := dsl.NewNetwork()
	xt := net.AddInput("x", dsl.Float32, dsl.Dims{2, -1, f})
	y := nn.LayerNorm(net, xt, weights([]int64{f}, g), weights([]int64{f}, b), 1e-5)
	xv, _ := tensor.FromFloat32([]int64{2, rows / 2, f}, x)
	got := run(t, net, y, map[string]*tensor.Tensor{"x": xv})
	var want []float64
	for r := 0; r < rows; r++ {
		mean, sq := 0.0, 0.0
		for i := 0; i < f; i++ {
			mean += float64(x[r*f+i])
		}
		mean /= f
		for i := 0; i < f; i++ {
			d := float64(x[r*f+i]) - mean
			sq += d * d
		}
		std := math.Sqrt(sq/f + 1e-5)
		for i := 0; i < f; i++ {
			want = append(want, (float64(x[r*f+i])-mean)/std*float64(g[i])+float64(b[i]))
		}
	}
	compare(t, got, want, f)
}

func TestMultiHeadAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const bsz, seq, e, heads = 2, 4, 6, 2
	const d = e / heads
	x := randVals(rng, bsz*seq*e)
	mk := func() ([]float32, dsl.Weights) {
		v := randVals(rng, e*e)
		return v, weights([]int64{e, e}, v)
	}
	mkb := func() ([]float32, dsl.Weights) {
		v := randVals(rng, e)
		return v, weights([]int64{e}, v)
	}
	wq, Wq := mk()
	wk, Wk := mk()
	wv, Wv := mk()
	wo, Wo := mk()
	bq, Bq := mkb()
	bo, Bo := mkb()
	for _, causal := range []bool{false, true} {
		net := dsl.NewNetwork()
		xt := net.AddInput("x", dsl.Float32, dsl.Dims{-1, -1, e})
		y := nn.MultiHeadAttention(net, xt, nn.MultiHeadAttentionParams{Heads: heads, Wq: Wq, Wk: Wk, Wv: Wv, Wo: Wo, Bq: Bq, Bo: Bo, Causal: causal})
		xv, _ := tensor.FromFloat32([]int64{bsz, seq, e}, x)
		got := run(t, net, y, map[string]*tensor.Tensor{"x": xv})

		proj := func(w, b []float32, row []float32) []float64 {
			out := make([]float64, e)
			for o := 0; o < e; o++ {
				if b != nil {
					out[o] = float64(b[o])
				}
				for i := 0; i < e; i++ {
					out[o] += float64(row[i]) * float64(w[o*e+i])
				}
			}
			return out
		}
		var want []float64
		for bb := 0; bb < bsz; bb++ {
			q, k, v := make([][]float64, seq), make([][]float64, seq), make([][]float64, seq)
			for s := 0; s < seq; s++ {
				row := x[(bb*seq+s)*e : (bb*seq+s+1)*e]
				q[s], k[s], v[s] = proj(wq, bq, row), proj(wk, nil, row), proj(wv, nil, row)
			}
			for s := 0; s < seq; s++ {
				ctx := make([]float32, e)
				for h := 0; h < heads; h++ {
					scores := make([]float64, seq)
					maxv, sum := math.Inf(-1), 0.0
					for j := 0; j < seq; j++ {
						if causal && j > s {
							scores[j] = math.Inf(-1)
							continue
						}
						for i := 0; i < d; i++ {
							scores[j] += q[s][h*d+i] * k[j][h*d+i]
						}
						scores[j] /= math.Sqrt(d)
						maxv = math.Max(maxv, scores[j])
					}
					for j := range scores {
						scores[j] = math.Exp(scores[j] - maxv)
						sum += scores[j]
					}
					for i := 0; i < d; i++ {
						acc := 0.0
						for j := 0; j < seq; j++ {
							acc += scores[j] / sum * v[j][h*d+i]
						}
						ctx[h*d+i] = float32(acc)
					}
				}
				want = append(want, proj(wo, bo, ctx)...)
			}
		}
		compare(t, got, want, e*seq)
	}
}
