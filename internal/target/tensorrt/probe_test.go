//go:build tensorrt

package tensorrt

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/internal/target"
)

// TestProbeWithoutLibrary runs where libnvinfer is missing (every machine
// here): the target says which files it tried.
func TestProbeWithoutLibrary(t *testing.T) {
	tr, ok := target.Lookup("tensorrt")
	if !ok {
		t.Fatal("the tensorrt target is not registered in a -tags tensorrt build")
	}
	_, err := tr.Probe()
	if err == nil {
		t.Skip("libnvinfer is installed here: the error path is not reachable")
	}
	if !errors.Is(err, diag.NoDevice) {
		t.Errorf("code: %v", err)
	}
	for _, name := range []string{"libnvinfer.so.11", "libnvinfer.so.10", "libnvinfer.so"} {
		if !strings.Contains(err.Error(), name+" (") {
			t.Errorf("%q does not say why %s failed", err, name)
		}
	}
	t.Log(err)
}
