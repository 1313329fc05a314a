package timingcache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/trtc/trtc/diag"
)

// The file is JSON, indented, one device per block:
//
//	{
//	  "format": "trtc-timing-cache",
//	  "version": 1,
//	  "devices": [
//	    {
//	      "target": "cuda",
//	      "arch": "sm_90",
//	      "name": "NVIDIA H200",
//	      "libraries": {"cublasLt": "13.1.0", "cuda": "13.0"},
//	      "entries": {
//	        "<signature>": {"tactic": "cublasLt:algo=23", "time_ns": 18250, "measured": "2025-06-01T12:00:00Z"}
//	      }
//	    }
//	  ]
//	}
//
// Why JSON and not protobuf like the engine manifest: a timing cache is small
// (one line per layer signature), and a person debugging a slow build wants to
// read it, diff two of them and delete a suspicious entry with an editor. A
// measured time is an integer of nanoseconds (time_ns) so it is exact; the
// measured time is RFC 3339 in UTC, left out when the target did not say.
//
// Save writes deterministic bytes: devices sorted by key, libraries and
// entries sorted by name (encoding/json sorts map keys), so the same cache
// always gives the same file and two files diff cleanly.
//
// The format string tells a timing cache from any other JSON; the version is
// bumped on any change an older trtc would misread, and a trtc reads only its
// own version (a cache is cheap to rebuild; a misread one silently picks slow
// kernels). Unknown fields are ignored, as JSON readers do, so adding an
// informational field needs no new version.
const (
	fileFormat  = "trtc-timing-cache"
	fileVersion = 1
)

type fileJSON struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Devices []deviceJSON `json:"devices"`
}

type deviceJSON struct {
	Target    string               `json:"target"`
	Arch      string               `json:"arch,omitempty"`
	Name      string               `json:"name,omitempty"`
	Libraries map[string]string    `json:"libraries,omitempty"`
	Entries   map[string]entryJSON `json:"entries"`
}

type entryJSON struct {
	Tactic   string    `json:"tactic"`
	TimeNS   int64     `json:"time_ns"`
	Measured time.Time `json:"measured,omitzero"` // omitted when unknown
}

// Load reads the cache file at path. A missing file is an empty cache and no
// error: the first build with --timing-cache has none yet and creates it.
// Any other problem is a *diag.Error with code InvalidFile that names the
// file and what is wrong with it; the remedy is always to delete the file and
// let the next build measure again.
func Load(path string) (*Cache, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		return nil, diag.Wrap(diag.InvalidFile, err, "cannot read timing cache %s", path)
	}
	c, err := parse(data)
	if err != nil {
		return nil, diag.Wrap(diag.InvalidFile, err, "timing cache %s is unusable (delete it to measure again)", path)
	}
	return c, nil
}

// parse decodes a cache file's bytes. Its errors say what is wrong without
// the file name, which Load adds. It never panics, whatever the bytes
// (FuzzLoadTimingCache).
func parse(data []byte) (*Cache, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	// The header first, so a file of another format or version is reported
	// as such and not as whatever field of ours it lacks.
	var head struct {
		Format  string          `json:"format"`
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(err)
	}
	if head.Format != fileFormat {
		if head.Format == "" {
			return nil, fmt.Errorf("not a trtc timing cache: no \"format\": %q field", fileFormat)
		}
		return nil, fmt.Errorf("not a trtc timing cache: format is %q, want %q", head.Format, fileFormat)
	}
	if head.Version == nil {
		return nil, fmt.Errorf("no \"version\" field (this trtc reads version %d)", fileVersion)
	}
	var version int
	if err := json.Unmarshal(head.Version, &version); err != nil {
		return nil, fmt.Errorf("version %s is not an integer", shorten(string(head.Version)))
	}
	if version != fileVersion {
		return nil, fmt.Errorf("the file has format version %d, this trtc reads version %d", version, fileVersion)
	}

	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError(err)
	}
	c := New()
	seen := map[string]int{} // device key to its index in the file
	for i, dj := range f.Devices {
		dev := Device{Target: dj.Target, Arch: dj.Arch, Name: dj.Name, Libraries: dj.Libraries}
		if err := dev.validate(); err != nil {
			return nil, fmt.Errorf("device %d: %v", i, err)
		}
		k := dev.key()
		if j, ok := seen[k]; ok {
			return nil, fmt.Errorf("devices %d and %d are the same device %s", j, i, dev)
		}
		seen[k] = i
		for _, sig := range slices.Sorted(maps.Keys(dj.Entries)) { // sorted: the first bad entry is the same every time
			ej := dj.Entries[sig]
			if err := validSignature(sig); err != nil {
				return nil, fmt.Errorf("device %d, %s: %v", i, dev, err)
			}
			if ej.TimeNS < 0 {
				return nil, fmt.Errorf("device %d, %s: signature %q: negative time %d ns", i, dev, shorten(sig), ej.TimeNS)
			}
			if y := ej.Measured.UTC().Year(); y < 0 || y > 9999 {
				return nil, fmt.Errorf("device %d, %s: signature %q: measured time %s is out of range", i, dev, shorten(sig), ej.Measured)
			}
			e := Entry{Tactic: ej.Tactic, Time: time.Duration(ej.TimeNS), Measured: ej.Measured}
			if err := c.add(dev, sig, e); err != nil {
				return nil, fmt.Errorf("device %d, %s: signature %q: %v", i, dev, shorten(sig), err)
			}
		}
	}
	return c, nil
}

// jsonError turns encoding/json's complaint into one that says where.
func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		if strings.HasPrefix(syn.Error(), "unexpected end of JSON input") {
			return errors.New("not valid JSON: the file ends early (truncated?)")
		}
		return fmt.Errorf("not valid JSON at byte %d: %v", syn.Offset, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field == "" {
			return fmt.Errorf("the file is a JSON %s, not an object", typ.Value)
		}
		return fmt.Errorf("field %q at byte %d is a JSON %s, not %s", typ.Field, typ.Offset, typ.Value, jsonKind(typ.Type))
	}
	return fmt.Errorf("not a valid timing cache: %v", err)
}

// jsonKind names what a Go type reads from, in JSON's words.
func jsonKind(t reflect.Type) string {
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.String()
}

// shorten keeps messages readable when a file holds a huge string.
func shorten(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}

// encode returns the file's bytes: deterministic for a given content.
func (c *Cache) encode() ([]byte, error) {
	c.mu.RLock()
	f := fileJSON{Format: fileFormat, Version: fileVersion, Devices: make([]deviceJSON, 0, len(c.devices))}
	for _, k := range slices.Sorted(maps.Keys(c.devices)) {
		d := c.devices[k]
		dj := deviceJSON{Target: d.dev.Target, Arch: d.dev.Arch, Name: d.dev.Name, Entries: make(map[string]entryJSON, len(d.entries))}
		if len(d.dev.Libraries) > 0 {
			dj.Libraries = d.dev.Libraries // only read: Record cloned it
		}
		for sig, e := range d.entries {
			dj.Entries[sig] = entryJSON{Tactic: e.Tactic, TimeNS: int64(e.Time), Measured: e.Measured}
		}
		f.Devices = append(f.Devices, dj)
	}
	c.mu.RUnlock()
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save writes the cache to path atomically: it writes a temporary file in
// the same directory and renames it over path, so a build that dies halfway,
// or a second build reading the cache meanwhile, never sees a half-written
// file. Save does not create directories.
func (c *Cache) Save(path string) error {
	b, err := c.encode()
	if err != nil {
		return diag.Wrap(diag.InvalidArgument, err, "cannot encode timing cache for %s", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return diag.Wrap(diag.InvalidArgument, err, "cannot write timing cache %s", path)
	}
	_, werr := tmp.Write(b)
	if werr == nil {
		werr = tmp.Sync() // the rename must not land before the bytes do
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return diag.Wrap(diag.InvalidArgument, werr, "cannot write timing cache %s", path)
	}
	return nil
}
