package cli

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/inspect"
)

// inspectEngine shows an engine file (TensorRT's engine inspector): what
// it was built for, its bindings and profiles, memory, the passes, the
// fusions, and every layer with its precision (and why), fusion and tactic.
func inspectEngine(w io.Writer, path, format string) error {
	f, err := engine.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		return err
	}
	m := f.Manifest()
	switch format {
	case "text":
		return inspect.Text(w, filepath.Base(path), f.FormatVersion(), m)
	case "json":
		return inspect.JSON(w, m)
	case "dot":
		return inspect.Dot(w, m)
	}
	return usageError{fmt.Errorf("--format %q: want text, json or dot", format)}
}
