// Package timingcache is the builder's timing cache (TensorRT's
// ITimingCache): for each device and layer signature, the fastest tactic
// measured so far and how long it took.
//
// Tactics are measured, not guessed: where several kernels can run a layer
// (cuBLASLt algorithms, cuDNN engines, generated kernels), a GPU target times
// them on the real device with the real shapes and keeps the fastest. Timing
// is the slow part of a build, so the result goes here, and a second build of
// the same network on the same device finds every layer in the cache and
// times nothing.
//
// A measurement holds only for the device and the software it was taken
// with: another driver or library version can bring other kernels with other
// speeds, so an entry answers only for exactly the same Device key (see
// Device). Layers are named by a signature, a canonical string of the layer's
// kind, parameters, shapes and types that the target computes (Signature
// helps it do so deterministically).
//
// The cache lives in a file (Load, Save) whose format is described in
// file.go.
package timingcache

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Device says which device and software a measurement holds for. Target,
// Arch and every entry of Libraries make up the key: an entry recorded under
// one key never answers a lookup under another. Name is informational (it
// goes into the file so a person can tell which GPU a block of entries came
// from) and is not part of the key: two H200s with the same software share
// their measurements, whatever the driver calls them.
type Device struct {
	Target    string            // the target that measured: "cuda", "tensorrt"
	Arch      string            // the GPU architecture: "sm_90"; may be empty for a target without one
	Name      string            // the device's name as the driver reports it: "NVIDIA H200"; not part of the key
	Libraries map[string]string // every library whose version changes the kernels, name to version: {"cuda": "13.0", "cublasLt": "13.1.0"}
}

// key is the canonical, injective string of the fields that identify a
// device. JSON of a struct with a map gives sorted library names and quoted
// strings for free.
func (d Device) key() string {
	libs := d.Libraries
	if len(libs) == 0 {
		libs = nil
	}
	b, err := json.Marshal(struct {
		T string            `json:"t"`
		A string            `json:"a"`
		L map[string]string `json:"l"`
	}{d.Target, d.Arch, libs})
	if err != nil {
		panic("timingcache: cannot encode a device key: " + err.Error()) // strings and a map of strings always encode
	}
	return string(b)
}

// String describes the device for messages: "cuda sm_90 (NVIDIA H200; cublasLt 13.1.0, cuda 13.0)".
func (d Device) String() string {
	var b strings.Builder
	b.WriteString(d.Target)
	if d.Arch != "" {
		b.WriteString(" " + d.Arch)
	}
	var extra []string
	if d.Name != "" {
		extra = append(extra, d.Name)
	}
	if len(d.Libraries) > 0 {
		var libs []string
		for _, name := range slices.Sorted(maps.Keys(d.Libraries)) {
			libs = append(libs, name+" "+d.Libraries[name])
		}
		extra = append(extra, strings.Join(libs, ", "))
	}
	if len(extra) > 0 {
		b.WriteString(" (" + strings.Join(extra, "; ") + ")")
	}
	return b.String()
}

// validate reports what makes d unusable as a key, or nil. The file format
// rejects the same things, so whatever Record accepts Save can write and Load
// can read back.
func (d Device) validate() error {
	if d.Target == "" {
		return fmt.Errorf("device has no target")
	}
	for _, s := range []string{d.Target, d.Arch, d.Name} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("device field %q is not valid UTF-8", s)
		}
	}
	for name, version := range d.Libraries {
		switch {
		case name == "":
			return fmt.Errorf("device %s has a library with no name", d)
		case version == "":
			return fmt.Errorf("device %s: library %q has no version", d, name)
		case !utf8.ValidString(name) || !utf8.ValidString(version):
			return fmt.Errorf("device %s: library %q is not valid UTF-8", d, name)
		}
	}
	return nil
}

// Entry is one measurement: the fastest tactic found for a layer and its time.
type Entry struct {
	Tactic   string        // the tactic's name as the target spells it: "cublasLt:algo=23,tile=128x128", "gen:gemm_tn_64x64"
	Time     time.Duration // the measured time of one run of the layer, at least 0
	Measured time.Time     // when it was measured, so a person can tell a stale entry; stored in UTC
}

// validate reports what makes e unstorable, or nil.
func (e Entry) validate() error {
	switch {
	case e.Tactic == "":
		return fmt.Errorf("entry has no tactic")
	case !utf8.ValidString(e.Tactic):
		return fmt.Errorf("tactic %q is not valid UTF-8", e.Tactic)
	case e.Time < 0:
		return fmt.Errorf("tactic %q has a negative time %v", e.Tactic, e.Time)
	}
	return nil
}

func validSignature(sig string) error {
	switch {
	case sig == "":
		return fmt.Errorf("empty layer signature")
	case !utf8.ValidString(sig):
		return fmt.Errorf("layer signature %q is not valid UTF-8", sig)
	}
	return nil
}

// deviceEntries is every entry recorded for one device key.
type deviceEntries struct {
	dev     Device           // the device as first recorded (its Name is what the file shows)
	entries map[string]Entry // signature to entry
}

// Cache maps (device, layer signature) to the fastest tactic measured. It is
// safe for concurrent use, so a target may time layers in parallel and record
// from every goroutine. The zero value is not usable; call New or Load.
type Cache struct {
	mu      sync.RWMutex
	devices map[string]*deviceEntries // Device.key() to its entries

	// Counted by Lookup for the build summary. Atomic, so Lookup needs only
	// the read lock.
	hits, misses atomic.Int64
}

// New returns an empty cache, for a build without a cache file or the first
// build that will write one.
func New() *Cache {
	return &Cache{devices: map[string]*deviceEntries{}}
}

// Lookup returns the entry recorded for signature on dev, and whether there
// is one. Only an entry recorded under the same device key answers (see
// Device). Every call counts as a hit or a miss in Stats.
func (c *Cache) Lookup(dev Device, signature string) (Entry, bool) {
	c.mu.RLock()
	var e Entry
	ok := false
	if d := c.devices[dev.key()]; d != nil {
		e, ok = d.entries[signature]
	}
	c.mu.RUnlock()
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return e, ok
}

// Record stores e as the measurement for signature on dev, unless the cache
// already holds a faster (or equally fast) one: the cache keeps the fastest
// tactic ever measured, so timing again never makes a build slower.
// Measured is stored in UTC without its monotonic reading, so what Load
// gives back equals what was recorded.
//
// Record panics on an invalid device (no target, a library without name or
// version), an empty signature, an entry without tactic or with a negative
// time, or strings that are not UTF-8: these are bugs in the target that
// computed them, and storing them would write a file Load rejects.
func (c *Cache) Record(dev Device, signature string, e Entry) {
	if err := c.add(dev, signature, e); err != nil {
		panic("timingcache.Record: " + err.Error())
	}
}

// add is Record returning its complaint instead of panicking; parse uses it too.
func (c *Cache) add(dev Device, signature string, e Entry) error {
	if err := dev.validate(); err != nil {
		return err
	}
	if err := validSignature(signature); err != nil {
		return err
	}
	if err := e.validate(); err != nil {
		return err
	}
	e.Measured = e.Measured.Round(0).UTC()
	k := dev.key()
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.devices[k]
	if d == nil {
		dev.Libraries = maps.Clone(dev.Libraries) // the caller may reuse its map
		d = &deviceEntries{dev: dev, entries: map[string]Entry{}}
		c.devices[k] = d
	} else if d.dev.Name == "" {
		d.dev.Name = dev.Name
	}
	if old, ok := d.entries[signature]; ok && old.Time <= e.Time {
		return nil
	}
	d.entries[signature] = e
	return nil
}

// Len returns the number of entries over all devices, for the build summary
// and for `trtc inspect` of a cache file.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, d := range c.devices {
		n += len(d.entries)
	}
	return n
}

// Stats returns how many Lookups found an entry and how many did not, since
// the cache was made, for the build summary ("timing cache: 40 hits, 2
// misses"). Load, Record and Merge do not count.
func (c *Cache) Stats() (hits, misses int) {
	return int(c.hits.Load()), int(c.misses.Load())
}

// Merge records every entry of other into c, keeping the faster entry where
// both have one: for combining the caches of builds run on several machines
// of the same kind, or a build's fresh measurements into a shared file.
// Stats are not merged; they describe this cache's lookups.
func (c *Cache) Merge(other *Cache) {
	if other == c {
		return
	}
	type item struct {
		dev Device
		sig string
		e   Entry
	}
	// Copy other out first, so the two locks are never held together (two
	// goroutines merging a into b and b into a must not deadlock).
	var items []item
	other.mu.RLock()
	for _, d := range other.devices {
		for sig, e := range d.entries {
			items = append(items, item{d.dev, sig, e})
		}
	}
	other.mu.RUnlock()
	for _, it := range items {
		// other's entries were validated when they went in.
		if err := c.add(it.dev, it.sig, it.e); err != nil {
			panic("timingcache.Merge: invalid entry in a cache: " + err.Error())
		}
	}
}
