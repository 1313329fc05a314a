// Package enginetest holds what tests of engines of every target share.
// It imports the engine package, so only tests outside the target
// packages (package x_test) can use it.
package enginetest

import (
	"context"
	"sync"
	"testing"

	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

// ConcurrentContexts runs goroutines goroutines, each with a context of
// its own on eng running in runs times, and fails t unless every result
// equals want bit for bit.
func ConcurrentContexts(t testing.TB, eng *engine.Engine, in, want map[string]*tensor.Tensor, goroutines, runs int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, goroutines)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := eng.NewContext()
			if err != nil {
				errs[g] = err
				return
			}
			defer c.Close()
			for range runs {
				got, err := c.Execute(context.Background(), in)
				if err == nil {
					err = irtest.Compare(want, got, 0)
				}
				if err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", g, err)
		}
	}
}
