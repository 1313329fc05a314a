package timingcache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/trtc/trtc/diag"
)

// contents is a cache as plain data, for cmp.
func contents(c *Cache) map[string]map[string]Entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := map[string]map[string]Entry{}
	for _, d := range c.devices {
		out[d.dev.String()] = d.entries
	}
	return out
}

func sample() *Cache {
	c := New()
	at := time.Date(2025, 6, 1, 12, 30, 15, 123456789, time.FixedZone("CEST", 2*3600))
	c.Record(h200, Signature("MatrixMultiply", []int{64, 1024}, "fp16"), Entry{Tactic: "cublasLt:algo=23,tile=128x128", Time: 18250 * time.Nanosecond, Measured: at})
	c.Record(h200, Signature("Convolution", []int{1, 3, 224, 224}), Entry{Tactic: "cudnn:engine=7", Time: 93 * time.Microsecond, Measured: at.Add(time.Second)})
	c.Record(h200, "human readable \"quoted\" signature", Entry{Tactic: "gen:softmax_warp", Time: 0})
	c.Record(with(h200, "cublasLt", "13.2.0"), Signature("MatrixMultiply", []int{64, 1024}, "fp16"), Entry{Tactic: "cublasLt:algo=31", Time: 17 * time.Microsecond, Measured: time.Now()})
	c.Record(Device{Target: "cpu"}, "gemm", Entry{Tactic: "gonum", Time: time.Millisecond})
	return c
}

func TestSaveLoadRoundTrip(t *testing.T) {
	c := sample()
	path := filepath.Join(t.TempDir(), "timing.cache")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(contents(c), contents(got)); diff != "" {
		t.Errorf("Load(Save(c)) differs (-saved +loaded):\n%s", diff)
	}
	// The device names come back too.
	if e, ok := got.Lookup(h200, Signature("Convolution", []int{1, 3, 224, 224})); !ok || e.Tactic != "cudnn:engine=7" {
		t.Errorf("loaded cache: %+v, %v", e, ok)
	}
	if !strings.Contains(contents(got)[h200.String()]["human readable \"quoted\" signature"].Tactic, "softmax") {
		t.Error("the readable signature did not survive")
	}
	if hits, misses := got.Stats(); hits != 1 || misses != 0 {
		t.Errorf("Load counted lookups: %d, %d", hits, misses)
	}
}

func TestSaveDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	c := sample()
	if err := c.Save(a); err != nil {
		t.Fatal(err)
	}
	// The same content recorded in another order, and loaded back.
	d := New()
	d.Merge(c)
	loaded, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	d.Merge(loaded)
	if err := d.Save(b); err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Errorf("two saves of the same content differ:\n%s\n---\n%s", ab, bb)
	}
	for _, want := range []string{`"format": "trtc-timing-cache"`, `"version": 1`, `"time_ns": 18250`, `"measured": "2025-06-01T10:30:15.123456789Z"`, `"name": "NVIDIA H200"`} {
		if !bytes.Contains(ab, []byte(want)) {
			t.Errorf("file lacks %s:\n%s", want, ab)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.json"))
	if err != nil || c == nil || c.Len() != 0 {
		t.Fatalf("Load of a missing file = %v, %v; want an empty cache", c, err)
	}
	c.Record(h200, "s", Entry{Tactic: "a"}) // and it is usable
}

func TestLoadInvalid(t *testing.T) {
	good, err := sample().encode()
	if err != nil {
		t.Fatal(err)
	}
	const entry = `{"tactic": "a", "time_ns": 5, "measured": "2025-06-01T00:00:00Z"}`
	dev := func(entries string) string {
		return `{"format": "trtc-timing-cache", "version": 1, "devices": [{"target": "cuda", "arch": "sm_90", "libraries": {"cuda": "13.0"}, "entries": {` + entries + `}}]}`
	}
	cases := []struct {
		name, data string
		want       []string // in the message, besides the file name
	}{
		{"empty", "", []string{"empty"}},
		{"truncated", string(good[:len(good)/2]), []string{"truncated"}},
		{"garbage", "\x00\x01ONNX", []string{"not valid JSON at byte 1"}},
		{"not an object", `[1, 2]`, []string{"the file is a JSON array, not an object"}},
		{"other JSON", `{"name": "x"}`, []string{`no "format"`}},
		{"wrong format", `{"format": "tensorrt-timing-cache", "version": 1}`, []string{`format is "tensorrt-timing-cache"`, `want "trtc-timing-cache"`}},
		{"wrong version", `{"format": "trtc-timing-cache", "version": 2, "devices": "a new layout"}`, []string{"format version 2", "reads version 1"}},
		{"no version", `{"format": "trtc-timing-cache"}`, []string{`no "version"`}},
		{"version not an integer", `{"format": "trtc-timing-cache", "version": "1"}`, []string{`version "1" is not an integer`}},
		{"negative time", dev(`"sig": {"tactic": "a", "time_ns": -5}`), []string{`"sig"`, "negative time -5 ns", "cuda sm_90"}},
		{"time not a number", dev(`"sig": {"tactic": "a", "time_ns": "5"}`), []string{"time_ns", "is a JSON string, not an integer"}},
		{"empty signature", dev(`"": ` + entry), []string{"empty layer signature", "device 0"}},
		{"no tactic", dev(`"sig": {"time_ns": 5}`), []string{`"sig"`, "no tactic"}},
		{"bad measured time", dev(`"sig": {"tactic": "a", "time_ns": 5, "measured": "yesterday"}`), []string{"yesterday"}},
		{"no target", `{"format": "trtc-timing-cache", "version": 1, "devices": [{"arch": "sm_90", "entries": {"s": ` + entry + `}}]}`, []string{"device 0", "no target"}},
		{"library without version", `{"format": "trtc-timing-cache", "version": 1, "devices": [{"target": "cuda", "libraries": {"cudnn": ""}}]}`, []string{`library "cudnn" has no version`}},
		{"same device twice", `{"format": "trtc-timing-cache", "version": 1, "devices": [{"target": "cpu", "name": "a"}, {"target": "cpu", "name": "b"}]}`, []string{"devices 0 and 1 are the same device"}},
		{"trailing data", string(good) + "{}", []string{"not valid JSON"}},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load accepted it: %d entries", c.Len())
			}
			var de *diag.Error
			if !errors.As(err, &de) || !errors.Is(err, diag.InvalidFile) {
				t.Fatalf("error %v (%T) is not a diag.InvalidFile error", err, err)
			}
			msg := err.Error()
			for _, w := range append(tc.want, path) {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir() // a directory is not a file
	_, err := Load(dir)
	if !errors.Is(err, diag.InvalidFile) || !strings.Contains(err.Error(), dir) {
		t.Errorf("Load(directory) = %v; want an InvalidFile error naming it", err)
	}
}

func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "timing.cache")
	if err := os.WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sample().Save(path); err != nil {
		t.Fatal(err)
	}
	if err := New().Save(path); err != nil { // overwrite again, with an empty cache
		t.Fatal(err)
	}
	names, _ := os.ReadDir(dir)
	if len(names) != 1 || names[0].Name() != "timing.cache" {
		var list []string
		for _, n := range names {
			list = append(list, n.Name())
		}
		t.Errorf("directory holds %v; want only timing.cache (no temporary file left behind)", list)
	}
	c, err := Load(path)
	if err != nil || c.Len() != 0 {
		t.Errorf("after saving an empty cache: %v, %v", c, err)
	}
}

func TestSaveUnwritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{
		"missing directory":     filepath.Join(dir, "no", "such", "dir", "cache.json"),
		"parent is a file":      filepath.Join(file, "cache.json"),
		"target is a directory": dir,
		"read-only directory":   "",
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		paths["read-only directory"] = filepath.Join(ro, "cache.json")
	} else {
		delete(paths, "read-only directory")
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			err := sample().Save(path)
			if err == nil {
				t.Fatal("Save succeeded")
			}
			if diag.CodeOf(err) == 0 || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q is not a diag error naming %s", err, path)
			}
		})
	}
	// Nothing left behind in dir either (the rename onto a directory failed after the temp file was written).
	names, _ := os.ReadDir(dir)
	for _, n := range names {
		if strings.Contains(n.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", n.Name())
		}
	}
}
