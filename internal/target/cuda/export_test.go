package cuda

import (
	"fmt"

	"github.com/trtc/trtc/dsl"
)

// OnWarning routes the target's warnings to f until the returned function
// is called.
func OnWarning(f func(string)) (restore func()) {
	old := warnf
	warnf = func(format string, a ...any) { f(fmt.Sprintf(format, a...)) }
	return func() { warnf = old }
}

// ChannelsLast is the channels-last rewrite of net (layout.go).
func ChannelsLast(net *dsl.Network) (*dsl.Network, bool, error) { return channelsLast(net) }

// HeadsNet is headsNet (attentionfuse_test.go) for the GPU tests.
var HeadsNet = headsNet

// AttentionShape and AttentionNet are attentionShape and attentionCase
// (family_attention_test.go), the output named "y" and marked, for the
// GPU tests.
type AttentionShape = attentionShape

func NewAttentionShape(b, hq, hkv, sq, skv, d int64) AttentionShape {
	return attentionShape{b, hq, hkv, sq, skv, d}
}

func AttentionNet(dt dsl.DataType, s AttentionShape, mask string, causal dsl.CausalMaskKind, kvLengths bool, norm dsl.AttentionNormalizationOp) *dsl.Network {
	net, a := attentionCase(dt, s, mask, causal, kvLengths, norm)
	a.Output(0).SetName("y")
	net.MarkOutput(a.Output(0))
	return net
}
