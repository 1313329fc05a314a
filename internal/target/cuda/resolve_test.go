package cuda

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// Test helpers over resolveKnown for networks whose dims follow from the
// input shapes alone.

// resolveShapes is resolveKnown with nothing learnt, and an error naming
// the first tensor whose dims depend on data.
func resolveShapes(net *dsl.Network, shapes map[string][]int64) (map[*dsl.Tensor][]int64, map[*dsl.Tensor][]int64, error) {
	dims, values, dynamic, err := resolveKnown(net, shapes, nil)
	if err != nil {
		return nil, nil, err
	}
	if dynamic != nil {
		return nil, nil, diag.Errorf(diag.UnsupportedNode, "the dims %v of %q depend on data", dynamic.Dims(), dynamic.Name())
	}
	return dims, values, nil
}

// resolveDims is resolveShapes' dims.
func resolveDims(net *dsl.Network, shapes map[string][]int64) (map[*dsl.Tensor][]int64, error) {
	dims, _, err := resolveShapes(net, shapes)
	return dims, err
}

// staticCopy is staticCopyKnown with nothing learnt.
func staticCopy(net *dsl.Network, shapes map[string][]int64, vals map[*dsl.Tensor][]int64) (*ir.Rebuilder, *dsl.Network, error) {
	return staticCopyKnown(net, shapes, vals, nil)
}
