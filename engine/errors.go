package engine

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// corruptf reports a problem with an engine file's bytes; name is the file
// path or "engine file" when the bytes came from a reader.
func corruptf(name, format string, args ...any) error {
	return diag.Errorf(diag.EngineCorrupt, "%s: %s", name, fmt.Sprintf(format, args...))
}

// incompatiblef reports an engine file that is well formed but was built
// for another format version, target, device or library.
func incompatiblef(name, format string, args ...any) error {
	return diag.Errorf(diag.EngineIncompatible, "%s: %s", name, fmt.Sprintf(format, args...))
}
