package cuda

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// The graph check's tolerance: a replay that differs from the steps by
// reduction order stands, one that is off by whole units does not, and
// integers must be the same bytes.
func TestGraphReplayWithinTolerance(t *testing.T) {
	bytesOf := func(dt dsl.DataType, v ...float64) []byte {
		x, err := tensor.FromFloat64s(dt, []int64{int64(len(v))}, v)
		if err != nil {
			t.Fatal(err)
		}
		return x.Bytes()
	}
	cases := []struct {
		name      string
		dt        dsl.DataType
		got, want []float64
		ok        bool
	}{
		{"float16 last-place", dsl.Float16, []float64{1.5, -3.0078125, 12.01}, []float64{1.5, -3.0, 12.0}, true},
		{"float16 whole units", dsl.Float16, []float64{1.5, -3, 38}, []float64{1.5, -3, 12}, false},
		{"float32 same", dsl.Float32, []float64{0.25, 7}, []float64{0.25, 7}, true},
		{"float32 off", dsl.Float32, []float64{0.25, 7.1}, []float64{0.25, 7}, false},
		{"int32 exact", dsl.Int32, []float64{1, 2}, []float64{1, 2}, true},
		{"int32 off by one", dsl.Int32, []float64{1, 3}, []float64{1, 2}, false},
	}
	for _, c := range cases {
		if got := withinTolerance(c.dt, bytesOf(c.dt, c.got...), bytesOf(c.dt, c.want...)); got != c.ok {
			t.Errorf("%s: withinTolerance = %v, want %v", c.name, got, c.ok)
		}
	}
}
