package timingcache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/trtc/trtc/diag"
)

// FuzzLoadTimingCache checks that no bytes make Load panic, that every
// rejection is an InvalidFile error, and that whatever Load accepts saves to
// bytes that load back to the same cache and save to the same bytes again.
func FuzzLoadTimingCache(f *testing.F) {
	good, err := sample().encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte(`{"format": "trtc-timing-cache", "version": 1, "devices": []}`))
	f.Add([]byte(`{"format": "trtc-timing-cache", "version": 1, "devices": [{"target": "cuda", "entries": {"s": {"tactic": "t", "time_ns": 1, "measured": "2025-01-01T00:00:00+01:00"}}}]}`))
	f.Add([]byte(`{"format": "trtc-timing-cache", "version": 2}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})
	path := filepath.Join(f.TempDir(), "cache.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		// Load through a file once in a while, to cover its wrapping; parse
		// otherwise, which is all Load does after reading.
		var c *Cache
		var err error
		if len(data)%16 == 0 {
			if werr := os.WriteFile(path, data, 0o644); werr != nil {
				t.Fatal(werr)
			}
			c, err = Load(path)
		} else {
			c, err = parse(data)
			if err != nil {
				err = diag.Wrap(diag.InvalidFile, err, "x")
			}
		}
		if err != nil {
			if !errors.Is(err, diag.InvalidFile) {
				t.Fatalf("error is not InvalidFile: %v", err)
			}
			return
		}
		b1, err := c.encode()
		if err != nil {
			t.Fatalf("accepted cache does not encode: %v", err)
		}
		c2, err := parse(b1)
		if err != nil {
			t.Fatalf("saved bytes do not load: %v\n%s", err, b1)
		}
		if diff := cmp.Diff(contents(c), contents(c2)); diff != "" {
			t.Fatalf("round trip differs:\n%s", diff)
		}
		b2, err := c2.encode()
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("second save differs (%v):\n%s\n---\n%s", err, b1, b2)
		}
	})
}
