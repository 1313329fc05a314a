package onnx

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// readExternal reads size bytes of a tensor stored outside the model
// (data_location EXTERNAL). The external_data keys are "location" (a path
// relative to dir, required), "offset" and "length" (decimal byte counts)
// and "checksum" (hex SHA-1 of the bytes, verified when present).
//
// The model is untrusted, so location must name a file inside dir: absolute
// paths, ".." escapes and symbolic links that resolve outside dir are
// rejected (os.Root enforces the last one while opening, so a link swapped
// in between check and use cannot escape either).
func readExternal(tp *onnxpb.TensorProto, dir string, size int64) ([]byte, error) {
	name := tp.GetName()
	var loc, checksum string
	offset, length := int64(0), int64(-1)
	for _, kv := range tp.GetExternalData() {
		switch kv.GetKey() {
		case "location":
			loc = kv.GetValue()
		case "checksum":
			checksum = kv.GetValue()
		case "offset", "length":
			v, err := strconv.ParseInt(kv.GetValue(), 10, 64)
			if err != nil || v < 0 {
				return nil, diag.Errorf(diag.InvalidFile, "tensor %q: external data %s %q is not a non-negative integer", name, kv.GetKey(), kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				offset = v
			} else {
				length = v
			}
		}
	}
	if loc == "" {
		return nil, diag.Errorf(diag.InvalidFile, "tensor %q is stored externally but has no external data location", name)
	}
	if dir == "" {
		return nil, diag.Errorf(diag.InvalidArgument, "tensor %q is stored in external file %q, but the model was not loaded from a directory", name, loc)
	}
	// filepath.IsLocal rejects absolute paths, volume names, empty paths and
	// paths that leave the directory after cleaning (".." escapes).
	if strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`) || !filepath.IsLocal(filepath.FromSlash(loc)) {
		return nil, diag.Errorf(diag.InvalidFile, "tensor %q: external data location %q must be a relative path inside the model's directory", name, loc)
	}
	if length >= 0 && length != size {
		return nil, diag.Errorf(diag.InvalidFile, "tensor %q: external data length is %d bytes, but its type and dims need %d", name, length, size)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, diag.Wrap(diag.InvalidFile, err, "tensor %q: cannot open the model directory for external data", name)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(loc))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, diag.Wrap(diag.InvalidFile, err, "tensor %q: external data file %q not found in %s", name, loc, dir)
		}
		return nil, diag.Wrap(diag.InvalidFile, err, "tensor %q: cannot open external data file %q (it must stay inside %s)", name, loc, dir)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, diag.Wrap(diag.InvalidFile, err, "tensor %q: cannot stat external data file %q", name, loc)
	}
	if !st.Mode().IsRegular() {
		return nil, diag.Errorf(diag.InvalidFile, "tensor %q: external data location %q is not a regular file", name, loc)
	}
	if offset > st.Size() || size > st.Size()-offset {
		return nil, diag.Errorf(diag.InvalidFile, "tensor %q: external data needs bytes %d to %d of %q, but the file has %d bytes", name, offset, offset+size, loc, st.Size())
	}
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, offset); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		return nil, diag.Wrap(diag.InvalidFile, err, "tensor %q: reading external data file %q", name, loc)
	}
	if checksum != "" {
		want, err := hex.DecodeString(checksum)
		sum := sha1.Sum(buf)
		if err != nil || !bytes.Equal(want, sum[:]) {
			return nil, diag.Errorf(diag.InvalidFile, "tensor %q: external data in %q does not match its SHA-1 checksum %s", name, loc, checksum)
		}
	}
	return buf, nil
}
