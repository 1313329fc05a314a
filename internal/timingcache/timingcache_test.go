package timingcache

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var h200 = Device{
	Target:    "cuda",
	Arch:      "sm_90",
	Name:      "NVIDIA H200",
	Libraries: map[string]string{"cuda": "13.0", "cublasLt": "13.1.0", "cudnn": "9.10.2"},
}

// with returns a copy of d with library name at version.
func with(d Device, name, version string) Device {
	libs := map[string]string{}
	for k, v := range d.Libraries {
		libs[k] = v
	}
	libs[name] = version
	d.Libraries = libs
	return d
}

func TestLookupRecord(t *testing.T) {
	c := New()
	if _, ok := c.Lookup(h200, "gemm"); ok {
		t.Fatal("empty cache answered a lookup")
	}
	e := Entry{Tactic: "cublasLt:algo=23", Time: 18 * time.Microsecond, Measured: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	c.Record(h200, "gemm", e)
	got, ok := c.Lookup(h200, "gemm")
	if !ok || got != e {
		t.Fatalf("Lookup = %+v, %v; want %+v, true", got, ok, e)
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d, want 1", c.Len())
	}
	if hits, misses := c.Stats(); hits != 1 || misses != 1 {
		t.Errorf("Stats = %d hits, %d misses; want 1, 1", hits, misses)
	}
}

func TestRecordKeepsFaster(t *testing.T) {
	c := New()
	c.Record(h200, "conv", Entry{Tactic: "cudnn:engine=3", Time: 50 * time.Microsecond})
	c.Record(h200, "conv", Entry{Tactic: "gen:conv_implicit_gemm", Time: 30 * time.Microsecond})
	c.Record(h200, "conv", Entry{Tactic: "cudnn:engine=7", Time: 40 * time.Microsecond})
	c.Record(h200, "conv", Entry{Tactic: "cudnn:engine=9", Time: 30 * time.Microsecond}) // a tie keeps the first
	got, _ := c.Lookup(h200, "conv")
	if got.Tactic != "gen:conv_implicit_gemm" || got.Time != 30*time.Microsecond {
		t.Errorf("kept %+v, want gen:conv_implicit_gemm at 30µs", got)
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d, want 1", c.Len())
	}
}

func TestDeviceIsolation(t *testing.T) {
	c := New()
	c.Record(h200, "gemm", Entry{Tactic: "cublasLt:algo=23", Time: time.Microsecond})

	renamed := h200
	renamed.Name = "NVIDIA H200 NVL"
	if _, ok := c.Lookup(renamed, "gemm"); !ok {
		t.Error("the device name is informational, but another name missed")
	}
	// Another map with the same contents is the same key.
	if _, ok := c.Lookup(with(h200, "cuda", "13.0"), "gemm"); !ok {
		t.Error("an equal library map missed")
	}

	others := map[string]Device{
		"newer cublasLt":  with(h200, "cublasLt", "13.1.1"),
		"another driver":  with(h200, "cuda", "13.1"),
		"extra library":   with(h200, "nvrtc", "13.0"),
		"fewer libraries": {Target: "cuda", Arch: "sm_90", Libraries: map[string]string{"cuda": "13.0", "cublasLt": "13.1.0"}},
		"another arch":    {Target: "cuda", Arch: "sm_100", Libraries: h200.Libraries},
		"another target":  {Target: "tensorrt", Arch: "sm_90", Libraries: h200.Libraries},
	}
	for name, d := range others {
		if e, ok := c.Lookup(d, "gemm"); ok {
			t.Errorf("%s: %s answered with %+v recorded for %s", name, d, e, h200)
		}
	}
	if _, misses := c.Stats(); misses != len(others) {
		t.Errorf("misses = %d, want %d", misses, len(others))
	}
}

func TestRecordCopiesLibraries(t *testing.T) {
	c := New()
	d := with(h200, "cuda", "13.0")
	c.Record(d, "gemm", Entry{Tactic: "a", Time: 1})
	d.Libraries["cuda"] = "12.8" // the caller reuses its map
	if _, ok := c.Lookup(h200, "gemm"); !ok {
		t.Error("mutating the caller's map changed the recorded device")
	}
}

func TestRecordPanicsOnInvalid(t *testing.T) {
	cases := map[string]func(c *Cache){
		"empty signature": func(c *Cache) { c.Record(h200, "", Entry{Tactic: "a", Time: 1}) },
		"negative time":   func(c *Cache) { c.Record(h200, "s", Entry{Tactic: "a", Time: -1}) },
		"no tactic":       func(c *Cache) { c.Record(h200, "s", Entry{Time: 1}) },
		"no target":       func(c *Cache) { c.Record(Device{Arch: "sm_90"}, "s", Entry{Tactic: "a"}) },
		"library without version": func(c *Cache) {
			c.Record(with(h200, "cudnn", ""), "s", Entry{Tactic: "a"})
		},
		"signature not UTF-8": func(c *Cache) { c.Record(h200, "\xff", Entry{Tactic: "a"}) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			c := New()
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("Record did not panic")
				}
				if !strings.HasPrefix(fmt.Sprint(r), "timingcache.Record: ") {
					t.Errorf("panic %q does not say where", r)
				}
				if c.Len() != 0 {
					t.Error("the invalid entry was stored")
				}
			}()
			f(c)
		})
	}
}

func TestMerge(t *testing.T) {
	a, b := New(), New()
	other := with(h200, "cublasLt", "13.2.0")
	a.Record(h200, "gemm", Entry{Tactic: "slow", Time: 20})
	a.Record(h200, "conv", Entry{Tactic: "a-conv", Time: 5})
	b.Record(h200, "gemm", Entry{Tactic: "fast", Time: 10})
	b.Record(h200, "conv", Entry{Tactic: "b-conv", Time: 7})
	b.Record(other, "gemm", Entry{Tactic: "other", Time: 1})
	b.Lookup(h200, "gemm")

	a.Merge(b)
	a.Merge(a) // a no-op, not a deadlock
	for _, tc := range []struct {
		dev    Device
		sig    string
		tactic string
	}{{h200, "gemm", "fast"}, {h200, "conv", "a-conv"}, {other, "gemm", "other"}} {
		if e, _ := a.Lookup(tc.dev, tc.sig); e.Tactic != tc.tactic {
			t.Errorf("after Merge, %s %s = %q, want %q", tc.dev, tc.sig, e.Tactic, tc.tactic)
		}
	}
	if a.Len() != 3 {
		t.Errorf("Len = %d, want 3", a.Len())
	}
	if hits, misses := a.Stats(); hits != 3 || misses != 0 {
		t.Errorf("Stats = %d, %d; want 3, 0 (Merge does not bring other's stats)", hits, misses)
	}
}

// TestConcurrent is for `go test -race`: a target times layers on several
// goroutines and records from each, while others look up, merge and save.
func TestConcurrent(t *testing.T) {
	c, side := New(), New()
	path := filepath.Join(t.TempDir(), "cache.json")
	const workers, layers = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dev := h200
			if w%2 == 1 {
				dev = with(h200, "cublasLt", "13.2.0")
			}
			for i := range layers {
				sig := Signature("gemm", i)
				c.Record(dev, sig, Entry{Tactic: fmt.Sprintf("algo=%d", w), Time: time.Duration(1000 + w*10 + i)})
				c.Lookup(dev, sig)
				side.Record(dev, sig, Entry{Tactic: "side", Time: time.Duration(i)})
				if i%50 == 0 {
					c.Merge(side)
					side.Merge(c)
					if err := c.Save(path); err != nil {
						t.Error(err)
					}
					c.Len()
				}
			}
		}()
	}
	wg.Wait()
	c.Merge(side)
	if c.Len() != 2*layers {
		t.Errorf("Len = %d, want %d", c.Len(), 2*layers)
	}
	if hits, misses := c.Stats(); hits+misses != workers*layers || hits == 0 {
		t.Errorf("Stats = %d hits, %d misses; want %d lookups, some hits", hits, misses, workers*layers)
	}
	// After the final merge every entry is side's faster one.
	for i := range layers {
		if e, ok := c.Lookup(h200, Signature("gemm", i)); !ok || e.Tactic != "side" || e.Time != time.Duration(i) {
			t.Fatalf("layer %d: %+v, %v; want side's entry", i, e, ok)
		}
	}
}
