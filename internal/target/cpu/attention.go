package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerAttention, runAttention) }

// attnProblem is the concrete geometry of one attention run.
type attnProblem struct {
	b, hq, hkv, sq, skv, d int
	normOp                 dsl.AttentionNormalizationOp
	causal                 dsl.CausalMaskKind
	q, k, v                []float32
	boolMask               []bool    // nil unless a Bool mask is set
	addMask                []float32 // nil unless an additive mask is set
	maskStr                []int64   // mask strides broadcast to [B, Hq, Sq, Skv]
	kvLen                  []int64   // nil, or per-batch key/value lengths
	quantTo                tensor.DataType
	quantScale             float32
}

// runAttention computes one (batch, query head) tile at a time: S = Q·Kᵀ
// with sgemm, masking and normalization per row in float64, then O = P·V
// with sgemm. Everything is float32 but the softmax sums.
func runAttention(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a := l.(*dsl.AttentionLayer)
	qs, ks, vs := in[0].Shape(), in[1].Shape(), in[2].Shape()
	if !sameShape(ks, vs) || qs[0] != ks[0] || qs[3] != ks[3] || ks[1] == 0 || qs[1]%ks[1] != 0 {
		return nil, layerErr(l, diag.ShapeMismatch, "query %v, key %v and value %v do not fit [B,Hq,Sq,D], [B,Hkv,Skv,D] with Hq a multiple of Hkv", qs, ks, vs)
	}
	p := &attnProblem{
		b: int(qs[0]), hq: int(qs[1]), hkv: int(ks[1]), sq: int(qs[2]), skv: int(ks[2]), d: int(qs[3]),
		normOp: a.NormalizationOperation(), causal: a.CausalKind(),
		q: in[0].AsFloat32(), k: in[1].AsFloat32(), v: in[2].AsFloat32(),
		quantTo: a.NormalizationQuantizeToType(),
	}
	if m := quantOptIn(in, dsl.AttentionInputMask); m != nil {
		full := []int64{qs[0], qs[1], qs[2], ks[2]}
		ms := m.Shape()
		for i := range full {
			if ms[i] != 1 && ms[i] != full[i] {
				return nil, layerErr(l, diag.ShapeMismatch, "the mask %v does not broadcast to %v", ms, full)
			}
		}
		p.maskStr = broadcastStrides(ms, full)
		if m.DType() == tensor.Bool {
			p.boolMask = make([]bool, m.Len())
			for i := range p.boolMask {
				p.boolMask[i] = m.Int64At(int64(i)) != 0
			}
		} else {
			p.addMask = m.AsFloat32()
		}
	}
	if s := quantOptIn(in, dsl.AttentionInputNormQuantScale); s != nil {
		if s.Len() != 1 || !(s.Float64At(0) > 0) {
			return nil, layerErr(l, diag.OutOfRange, "the normalization quantize scale must be one positive value, got %v", s.Float64s())
		}
		p.quantScale = float32(s.Float64At(0))
	}
	if kl := quantOptIn(in, dsl.AttentionInputKVLengths); kl != nil {
		if kl.Len() != int64(p.b) {
			return nil, layerErr(l, diag.ShapeMismatch, "key/value lengths have %d values for a batch of %d", kl.Len(), p.b)
		}
		p.kvLen = kl.Int64Values()
		for i, n := range p.kvLen {
			if n < 0 || n > int64(p.skv) {
				return nil, layerErr(l, diag.OutOfRange, "key/value length %d of batch %d is outside [0, %d]", n, i, p.skv)
			}
		}
	}
	out := make([]float32, len(p.q))
	parallelFor(p.b*p.hq, 1, func(lo, hi int) {
		scores := make([]float32, p.sq*p.skv)
		for t := lo; t < hi; t++ {
			p.tile(t/p.hq, t%p.hq, scores, out)
		}
	})
	res, err := tensor.FromFloat32s(in[0].DType(), qs, out)
	return []*tensor.Tensor{res}, err
}

// tile computes the output rows of batch b, query head h.
func (p *attnProblem) tile(b, h int, s, out []float32) {
	d := p.d
	kh := h / (p.hq / p.hkv)
	qOff := (b*p.hq + h) * p.sq * d
	kvOff := (b*p.hkv + kh) * p.skv * d
	q := p.q[qOff : qOff+p.sq*d]
	k := p.k[kvOff : kvOff+p.skv*d]
	v := p.v[kvOff : kvOff+p.skv*d]
	sgemm(false, true, p.sq, p.skv, d, 1, q, d, k, d, 0, s, p.skv)
	for i := 0; i < p.sq; i++ {
		p.normalizeRow(b, h, i, s[i*p.skv:(i+1)*p.skv])
	}
	sgemm(false, false, p.sq, d, p.skv, 1, s, p.skv, v, d, 0, out[qOff:qOff+p.sq*d], d)
}

// allowed reports whether query row i of (b, h) may attend to key j.
func (p *attnProblem) allowed(b, h, i, j int) bool {
	switch p.causal {
	case dsl.CausalMaskUpperLeft:
		if j > i {
			return false
		}
	case dsl.CausalMaskLowerRight:
		if j > i+p.skv-p.sq {
			return false
		}
	}
	if p.kvLen != nil && int64(j) >= p.kvLen[b] {
		return false
	}
	if p.boolMask != nil {
		return p.boolMask[p.maskIndex(b, h, i, j)]
	}
	return true
}

func (p *attnProblem) maskIndex(b, h, i, j int) int64 {
	st := p.maskStr
	return int64(b)*st[0] + int64(h)*st[1] + int64(i)*st[2] + int64(j)*st[3]
}

// normalizeRow turns one row of scores into the weights of the second
// product: add the additive mask, drop masked keys, apply the normalization
// and the optional quantization.
func (p *attnProblem) normalizeRow(b, h, i int, row []float32) {
	maxv := math.Inf(-1)
	for j := range row {
		if !p.allowed(b, h, i, j) {
			row[j] = float32(math.Inf(-1))
			continue
		}
		if p.addMask != nil {
			row[j] += p.addMask[p.maskIndex(b, h, i, j)]
		}
		maxv = math.Max(maxv, float64(row[j]))
	}
	if p.normOp == dsl.AttentionNormNone {
		for j, x := range row {
			if math.IsInf(float64(x), -1) {
				row[j] = 0
			}
		}
	} else {
		var sum float64
		for j, x := range row {
			e := 0.0
			if !math.IsInf(maxv, -1) && !math.IsInf(float64(x), -1) {
				e = math.Exp(float64(x) - maxv)
			}
			row[j] = float32(e)
			sum += e
		}
		for j := range row {
			if sum > 0 {
				row[j] = float32(float64(row[j]) / sum)
			}
		}
	}
	if p.quantScale > 0 {
		for j, x := range row {
			row[j] = float32(attnQuantDequant(p.quantTo, x, p.quantScale))
		}
	}
}

// attnQuantDequant rounds a weight to what Quantize then Dequantize with the
// same scale would give.
func attnQuantDequant(dt tensor.DataType, x, scale float32) float64 {
	r := float64(x / scale)
	if dt == tensor.FP8E4M3 {
		return float64(tensor.FP8E4M3ToFloat32(tensor.Float32ToFP8E4M3(float32(r)))) * float64(scale)
	}
	return quantRound(dt, r, 0) * float64(scale)
}
