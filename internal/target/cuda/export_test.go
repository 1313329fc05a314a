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
