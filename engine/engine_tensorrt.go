//go:build tensorrt

package engine

// Builds with -tags tensorrt link the TensorRT target too.
import _ "github.com/trtc/trtc/internal/target/tensorrt"
