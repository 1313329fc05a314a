package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// MelWeightMatrix: [dft_length/2 + 1, num_mel_bins] triangular filters
// between num_mel_bins + 2 points equally spaced on the mel scale
// (mel = 2595 log10(1 + hz/700)) from lower_edge_hertz to
// upper_edge_hertz, each point mapped to the spectrogram bin
// floor((dft_length + 1) hz / sample_rate), as ONNX's reference defines
// it (including its mel step of (high - low) / (num_mel_bins + 2)).
// Inputs known at import time give a constant computed in float64;
// otherwise the matrix is built in float32 with Fill, Unary, ElementWise
// and Select layers.

func init() {
	register(OpInfo{Op: "MelWeightMatrix", Since: 17, Types: "sizes int32, int64; edges float32, float16, bfloat16 (double widened)"}, importMel)
}

func importMel(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := redNeed(c, 0, 1, 2, 3, 4); err != nil {
		return nil, err
	}
	odt, err := DataTypeFromProto(int32(c.AttrInt("output_datatype", 1)))
	if err != nil {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute output_datatype: %v", err)
	}
	nm, e1 := c.ConstInts(0)
	dft, e2 := c.ConstInts(1)
	sr, e3 := c.ConstInts(2)
	lo, e4 := c.ConstFloats(3)
	hi, e5 := c.ConstFloats(4)
	if e1 && e2 && e3 && e4 && e5 {
		if len(nm) != 1 || len(dft) != 1 || len(sr) != 1 || len(lo) != 1 || len(hi) != 1 {
			return nil, c.Errorf(diag.ShapeMismatch, "MelWeightMatrix inputs are scalars")
		}
		if nm[0] < 0 || dft[0] < 0 || sr[0] <= 0 {
			return nil, c.Errorf(diag.InvalidNode, "num_mel_bins %d, dft_length %d, sample_rate %d: want sizes >= 0 and a positive rate", nm[0], dft[0], sr[0])
		}
		w, err := sigMelMatrix(nm[0], dft[0], sr[0], lo[0], hi[0])
		if err != nil {
			return nil, c.Errorf(diag.InvalidNode, "%v", err)
		}
		return []*dsl.Tensor{redCast(c, c.Constant(w), odt)}, c.err
	}
	out, err := sigMelLayers(c)
	if err != nil {
		return nil, err
	}
	return []*dsl.Tensor{redCast(c, out, odt)}, c.err
}

// sigMelPoints returns the num_mel_bins+2 filter points as spectrogram bins.
func sigMelPoints(nm, dft, sr int64, lo, hi float64) []int64 {
	mel := func(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }
	lowMel, highMel := mel(lo), mel(hi)
	step := (highMel - lowMel) / float64(nm+2)
	pts := make([]int64, nm+2)
	for i := range pts {
		hz := 700 * (math.Pow(10, (float64(i)*step+lowMel)/2595) - 1)
		pts[i] = int64(math.Floor(float64(dft+1) * hz / float64(sr)))
	}
	return pts
}

// sigMelMatrix computes the matrix in float64 as Float32.
func sigMelMatrix(nm, dft, sr int64, lo, hi float64) (*tensor.Tensor, error) {
	bins := dft/2 + 1
	pts := sigMelPoints(nm, dft, sr, lo, hi)
	out := make([]float32, bins*nm)
	set := func(j, i int64, v float64) error {
		if j < 0 || j >= bins {
			return diag.Errorf(diag.InvalidNode, "mel filter %d reaches spectrogram bin %d, outside [0, %d): check the edges and sample rate", i, j, bins)
		}
		out[j*nm+i] = float32(v)
		return nil
	}
	for i := int64(0); i < nm; i++ {
		l, ctr, h := pts[i], pts[i+1], pts[i+2]
		if ctr == l {
			if err := set(ctr, i, 1); err != nil {
				return nil, err
			}
		} else {
			for j := l; j <= ctr; j++ {
				if err := set(j, i, float64(j-l)/float64(ctr-l)); err != nil {
					return nil, err
				}
			}
		}
		for j := ctr; j < h; j++ {
			if err := set(j, i, float64(h-j)/float64(h-ctr)); err != nil {
				return nil, err
			}
		}
	}
	return tensor.FromFloat32([]int64{bins, nm}, out)
}

// sigMelLayers builds the matrix from run-time inputs: per column i the
// points l, c, h, per row j the bin; the falling edge (c <= j < h) wins
// over the rising one (l <= j <= c), as in the reference, where it is
// written second.
func sigMelLayers(c *nodeCtx) (*dsl.Tensor, error) {
	nm, err := sigScalarSize(c, 0, "num_mel_bins")
	if err != nil {
		return nil, err
	}
	dft, err := sigScalarSize(c, 1, "dft_length")
	if err != nil {
		return nil, err
	}
	sr, err := sigScalarSize(c, 2, "sample_rate")
	if err != nil {
		return nil, err
	}
	edge := func(i int) *dsl.Tensor {
		return redCast(c, redReshape(c, c.Input(i), 1), dsl.Float32)
	}
	lo, hi := edge(3), edge(4)
	if c.err != nil {
		return nil, c.err
	}
	f32 := func(v float64) *dsl.Tensor { return redScalar(c, dsl.Float32, v, 1) }
	mul := func(a, b *dsl.Tensor) *dsl.Tensor { return redEW(c, a, b, dsl.ElementWiseProd) }
	add := func(a, b *dsl.Tensor) *dsl.Tensor { return redEW(c, a, b, dsl.ElementWiseSum) }
	sub := func(a, b *dsl.Tensor) *dsl.Tensor { return redEW(c, a, b, dsl.ElementWiseSub) }
	div := func(a, b *dsl.Tensor) *dsl.Tensor { return redEW(c, a, b, dsl.ElementWiseDiv) }
	mel := func(hz *dsl.Tensor) *dsl.Tensor {
		return mul(f32(2595/math.Ln10), redUnary(c, add(f32(1), div(hz, f32(700))), dsl.UnaryLog))
	}
	lowMel := mel(lo)
	nPts := sigSize{n: -1, t: add(nm.tensor(c), redInts(c, 2))}
	if nm.static() {
		nPts = sigSize{n: nm.n + 2}
	}
	step := div(sub(mel(hi), lowMel), redCast(c, nPts.tensor(c), dsl.Float32))
	m := add(mul(sigRange(c, nPts, dsl.Float32), step), lowMel)
	hz := mul(f32(700), sub(redUnary(c, mul(div(m, f32(2595)), f32(math.Ln10)), dsl.UnaryExp), f32(1)))
	scale := div(redCast(c, add(dft.tensor(c), redInts(c, 1)), dsl.Float32), redCast(c, sr.tensor(c), dsl.Float32))
	pts := redCast(c, redUnary(c, mul(hz, scale), dsl.UnaryFloor), dsl.Int64) // [nm+2]
	window := func(start int64) *dsl.Tensor {
		l := c.Net().AddSlice(pts, dsl.Dims{start}, dsl.Dims{max(nm.n, 0)}, dsl.Dims{1})
		if !nm.static() {
			l.SetInput(2, nm.t)
		}
		return redReshape(c, l.Output(0), 1, -1) // [1, nm]
	}
	l, ctr, h := window(0), window(1), window(2)
	j := redReshape(c, sigRange(c, sigHalfPlusOne(c, dft), dsl.Int64), -1, 1) // [bins, 1]
	lt := func(a, b *dsl.Tensor) *dsl.Tensor { return redEW(c, a, b, dsl.ElementWiseLess) }
	eq := func(a, b *dsl.Tensor) *dsl.Tensor { return redEW(c, a, b, dsl.ElementWiseEqual) }
	and := func(a, b *dsl.Tensor) *dsl.Tensor { return redEW(c, a, b, dsl.ElementWiseAnd) }
	not := func(a *dsl.Tensor) *dsl.Tensor { return redUnary(c, a, dsl.UnaryNot) }
	fl := func(t *dsl.Tensor) *dsl.Tensor { return redCast(c, t, dsl.Float32) }
	rising := and(lt(l, ctr), and(not(lt(j, l)), not(lt(ctr, j))))
	point := and(eq(l, ctr), eq(j, ctr))
	falling := and(lt(ctr, h), and(not(lt(j, ctr)), lt(j, h)))
	riseV := div(fl(sub(j, l)), fl(sub(ctr, l)))
	fallV := div(fl(sub(h, j)), fl(sub(h, ctr)))
	out := redSelect(c, point, f32(1), f32(0))
	out = redSelect(c, rising, riseV, out)
	return redSelect(c, falling, fallV, out), nil
}
