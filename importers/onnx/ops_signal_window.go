package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// HannWindow, HammingWindow and BlackmanWindow: generalized cosine windows
// w[n] = a0 - a1 cos(ω n) + a2 cos(2 ω n), ω = 2π/N (periodic) or
// 2π/(N-1) (symmetric). A size known at import time gives a constant
// computed in float64; a run-time size a Fill (Linspace) and Unary layers.

type sigWindow struct{ a0, a1, a2 float64 }

func init() {
	windows := map[string]sigWindow{
		"HannWindow":     {0.5, 0.5, 0},
		"HammingWindow":  {25.0 / 46, 21.0 / 46, 0},
		"BlackmanWindow": {0.42, 0.5, 0.08},
	}
	for op, w := range windows {
		register(OpInfo{Op: op, Since: 17, Types: "size int32, int64; output float32, float16, bfloat16, int8, uint8, int32, int64 (double and wider ints widened)"}, importWindow(w))
	}
}

func importWindow(w sigWindow) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := redNeed(c, 0); err != nil {
			return nil, err
		}
		periodic := c.AttrInt("periodic", 1) != 0
		odt, err := DataTypeFromProto(int32(c.AttrInt("output_datatype", 1)))
		if err != nil {
			return nil, c.Errorf(diag.UnsupportedAttr, "attribute output_datatype: %v", err)
		}
		n, err := sigScalarSize(c, 0, "size")
		if err != nil {
			return nil, err
		}
		if n.static() {
			v := make([]float64, n.n)
			den := float64(n.n)
			if !periodic {
				den--
			}
			for i := range v {
				om := 2 * math.Pi * float64(i) / den
				v[i] = w.a0 - w.a1*math.Cos(om) + w.a2*math.Cos(2*om)
			}
			return []*dsl.Tensor{redCast(c, redFloats(c, dsl.Float32, []int64{n.n}, v), odt)}, c.err
		}
		den := redCast(c, n.t, dsl.Float32)
		if !periodic {
			den = redEW(c, den, redScalar(c, dsl.Float32, 1, 1), dsl.ElementWiseSub)
		}
		om := redEW(c, sigRange(c, n, dsl.Float32), redScalar(c, dsl.Float32, 2*math.Pi, 1), dsl.ElementWiseProd)
		om = redEW(c, om, den, dsl.ElementWiseDiv)
		y := redEW(c, redScalar(c, dsl.Float32, w.a0, 1),
			redEW(c, redScalar(c, dsl.Float32, w.a1, 1), redUnary(c, om, dsl.UnaryCos), dsl.ElementWiseProd), dsl.ElementWiseSub)
		if w.a2 != 0 {
			om2 := redEW(c, om, redScalar(c, dsl.Float32, 2, 1), dsl.ElementWiseProd)
			y = redEW(c, y, redEW(c, redScalar(c, dsl.Float32, w.a2, 1), redUnary(c, om2, dsl.UnaryCos), dsl.ElementWiseProd), dsl.ElementWiseSum)
		}
		return []*dsl.Tensor{redCast(c, y, odt)}, c.err
	}
}
