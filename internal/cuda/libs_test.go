package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"

	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

func halfBytes(f []float32) ([]byte, []float32) {
	b := make([]byte, 2*len(f))
	r := make([]float32, len(f))
	for i, v := range f {
		h := float16.Fromfloat32(v)
		binary.LittleEndian.PutUint16(b[2*i:], h.Bits())
		r[i] = h.Float32()
	}
	return b, r
}

func bytesHalf(b []byte) []float64 {
	out := make([]float64, len(b)/2)
	for i := range out {
		out[i] = float64(float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32())
	}
	return out
}

func TestBlasLtGEMM(t *testing.T) {
	c := gpu(t)
	v, err := BlasLtVersion()
	must(t, err)
	t.Logf("cuBLASLt %d (%s)", v, libCublasLt.path)
	lt, err := c.NewBlasLt()
	must(t, err)
	defer lt.Close()
	s, err := c.NewStream()
	must(t, err)
	defer s.Close()
	const ws = 32 << 20
	work, err := c.Alloc(ws)
	must(t, err)
	defer work.Free()

	const m, n, k = 96, 80, 200
	r := rand.New(rand.NewPCG(11, 12))
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		for _, epi := range []Epilogue{EpilogueDefault, EpilogueReLUBias} {
			t.Run(fmt.Sprintf("%v/epilogue%d", dt, epi), func(t *testing.T) {
				A, B, bias := randFloats(r, m*k), randFloats(r, k*n), randFloats(r, m)
				var ab, bb, biasb []byte
				esize := 4
				if dt == tensor.Float32 {
					ab, bb, biasb = f32bytes(A), f32bytes(B), f32bytes(bias)
				} else {
					esize = 2
					ab, A = halfBytes(A)
					bb, B = halfBytes(B)
					biasb, bias = halfBytes(bias)
				}
				dA, dB, dBias := upload(t, c, ab), upload(t, c, bb), upload(t, c, biasb)
				dD := poisoned(t, c, m*n*esize)
				defer dA.Free()
				defer dB.Free()
				defer dBias.Free()
				defer dD.Free()

				desc, err := lt.NewMatmulDesc(Compute32F, tensor.Float32)
				must(t, err)
				defer desc.Close()
				must(t, desc.SetTranspose(false, false))
				must(t, desc.SetEpilogue(epi))
				if epi == EpilogueReLUBias {
					must(t, desc.SetBias(dBias.Ptr(), dt))
				}
				la, err := lt.NewLayout(dt, m, k, m)
				must(t, err)
				defer la.Close()
				lb, err := lt.NewLayout(dt, k, n, k)
				must(t, err)
				defer lb.Close()
				ld, err := lt.NewLayout(dt, m, n, m)
				must(t, err)
				defer ld.Close()
				must(t, ld.SetOrder(ColMajor))
				pref, err := lt.NewPreference(ws)
				must(t, err)
				defer pref.Close()
				algos, err := lt.Heuristic(desc, la, lb, ld, ld, pref, 8)
				must(t, err)
				if len(algos) == 0 {
					t.Fatal("heuristic returned no algorithm")
				}
				t.Logf("%d algorithms; first needs %d bytes of workspace, waves %.2f", len(algos), algos[0].WorkspaceSize, algos[0].Waves)
				must(t, lt.Matmul(s, desc, 1, dA.Ptr(), la, dB.Ptr(), lb, 0, dD.Ptr(), ld, dD.Ptr(), ld, &algos[0], work.Ptr(), ws))
				must(t, s.Synchronize())

				want := make([]float64, m*n)
				for j := range n {
					for i := range m {
						var acc float64
						for p := range k {
							acc += float64(A[i+p*m]) * float64(B[p+j*k])
						}
						if epi == EpilogueReLUBias {
							acc = math.Max(acc+float64(bias[i]), 0)
						}
						want[i+j*m] = acc
					}
				}
				out := download(t, dD)
				var got []float64
				if dt == tensor.Float32 {
					got = f64(bytesF32(out))
				} else {
					got = bytesHalf(out)
				}
				if err := tolerance.For(dt).Scaled(k).Compare(got, want); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// naiveConv is the reference: NCHW, cross-correlation, groups, then
// + bias and ReLU when asked.
func naiveConv(cfg Conv2D, x, w, bias, z []float32) []float64 {
	p, q := cfg.OutputHW()
	g := one(cfg.Groups)
	cg, kg := cfg.C/g, cfg.K/g
	out := make([]float64, cfg.N*cfg.K*p*q)
	for n := range cfg.N {
		for k := range cfg.K {
			grp := k / kg
			for oh := range p {
				for ow := range q {
					var acc float64
					for c := range cg {
						for r := range cfg.R {
							ih := oh*one(cfg.Stride[0]) - cfg.PadBegin[0] + r*one(cfg.Dilation[0])
							if ih < 0 || ih >= cfg.H {
								continue
							}
							for s := range cfg.S {
								iw := ow*one(cfg.Stride[1]) - cfg.PadBegin[1] + s*one(cfg.Dilation[1])
								if iw < 0 || iw >= cfg.W {
									continue
								}
								xv := x[((n*cfg.C+grp*cg+c)*cfg.H+ih)*cfg.W+iw]
								wv := w[((k*cg+c)*cfg.R+r)*cfg.S+s]
								acc += float64(xv) * float64(wv)
							}
						}
					}
					if cfg.Bias {
						acc += float64(bias[k])
					}
					if cfg.Residual {
						acc += float64(z[((n*cfg.K+k)*p+oh)*q+ow])
					}
					if cfg.Activation == ActReLU {
						acc = math.Max(acc, 0)
					}
					out[((n*cfg.K+k)*p+oh)*q+ow] = acc
				}
			}
		}
	}
	return out
}

func TestCudnnConv2D(t *testing.T) {
	c := gpu(t)
	v, err := CudnnVersion()
	must(t, err)
	t.Logf("cuDNN %d (%s)", v, libCudnn.path)
	dnn, err := c.NewCudnn()
	must(t, err)
	defer dnn.Close()
	s, err := c.NewStream()
	must(t, err)
	defer s.Close()
	must(t, dnn.SetStream(s))
	legacyErr := loadCudnnLegacy()
	if legacyErr != nil {
		t.Logf("legacy API: %v", legacyErr)
	} else {
		t.Logf("legacy API symbols resolve from %s", libCudnn.path)
	}

	r := rand.New(rand.NewPCG(13, 14))
	cases := []Conv2D{
		{N: 2, C: 8, H: 17, W: 19, K: 16, R: 3, S: 3, PadBegin: [2]int{1, 1}, PadEnd: [2]int{1, 1}},
		{N: 1, C: 6, H: 20, W: 20, K: 12, R: 3, S: 5, PadBegin: [2]int{1, 2}, PadEnd: [2]int{1, 2}, Stride: [2]int{2, 2}},
		{N: 2, C: 4, H: 16, W: 15, K: 8, R: 3, S: 3, PadBegin: [2]int{2, 2}, PadEnd: [2]int{2, 2}, Dilation: [2]int{2, 2}},
		{N: 2, C: 8, H: 12, W: 12, K: 8, R: 3, S: 3, PadBegin: [2]int{1, 1}, PadEnd: [2]int{1, 1}, Groups: 2},
		{N: 1, C: 16, H: 14, W: 14, K: 16, R: 3, S: 3, PadBegin: [2]int{1, 1}, PadEnd: [2]int{1, 1}, Groups: 16},
		{N: 2, C: 8, H: 17, W: 19, K: 16, R: 3, S: 3, PadBegin: [2]int{1, 1}, PadEnd: [2]int{1, 1}, Bias: true, Activation: ActReLU},
		{N: 2, C: 8, H: 16, W: 16, K: 32, R: 1, S: 1, Bias: true},
	}
	for i, cfg := range cases {
		cfg.DataType = tensor.Float32
		t.Run(fmt.Sprintf("case%d", i), func(t *testing.T) {
			p, q := cfg.OutputHW()
			g := one(cfg.Groups)
			x := randFloats(r, cfg.N*cfg.C*cfg.H*cfg.W)
			w := randFloats(r, cfg.K*cfg.C/g*cfg.R*cfg.S)
			bias := randFloats(r, cfg.K)
			z := randFloats(r, cfg.N*cfg.K*p*q)
			want := naiveConv(cfg, x, w, bias, z)
			tol := tolerance.For(tensor.Float32).Scaled(cfg.C / g * cfg.R * cfg.S)
			runConvPlans(t, c, s, dnn, cfg, x, w, bias, z, want)
			// The same convolution channels last: x and y NHWC, w KRSC.
			// (A residual sum has engines for half types in NHWC only:
			// the target's tests run those, TestChannelsLastAgainstCPU.)
			nhwc := cfg
			nhwc.ChannelsLast = true
			xl := channelsLast(x, cfg.N, cfg.C, cfg.H, cfg.W)
			wl := channelsLast(w, cfg.K, cfg.C/g, cfg.R, cfg.S)
			runConvPlans(t, c, s, dnn, nhwc, xl, wl, bias, channelsLast(z, cfg.N, cfg.K, p, q), channelsLast(want, cfg.N, cfg.K, p, q))
			dx, dw := upload(t, c, f32bytes(x)), upload(t, c, f32bytes(w))
			defer dx.Free()
			defer dw.Free()
			ysize := 4 * cfg.N * cfg.K * p * q

			if legacyErr != nil || cfg.Bias || cfg.Activation != ActNone {
				return
			}
			lc, err := dnn.NewLegacyConv(cfg)
			if err != nil {
				t.Errorf("legacy API: %v", err)
				return
			}
			defer lc.Close()
			dy := poisoned(t, c, ysize)
			defer dy.Free()
			var wsPtr DevicePtr
			if lc.WorkspaceSize() > 0 {
				ws, err := c.Alloc(lc.WorkspaceSize())
				must(t, err)
				defer ws.Free()
				wsPtr = ws.Ptr()
			}
			must(t, lc.Forward(dx.Ptr(), dw.Ptr(), dy.Ptr(), wsPtr))
			must(t, s.Synchronize())
			if err := tol.Compare(f64(bytesF32(download(t, dy))), want); err != nil {
				t.Errorf("legacy algorithm %d: %v", lc.Algorithm(), err)
			} else {
				t.Logf("legacy algorithm %d: ok", lc.Algorithm())
			}
		})
	}
}

// runConvPlans runs up to 4 of cuDNN's backend plans for cfg and compares
// each with want.
func runConvPlans(t *testing.T, c *Context, s *Stream, dnn *Cudnn, cfg Conv2D, x, w, bias, z []float32, want []float64) {
	t.Helper()
	g := one(cfg.Groups)
	p, q := cfg.OutputHW()
	tol := tolerance.For(tensor.Float32).Scaled(cfg.C / g * cfg.R * cfg.S)
	dx, dw, db, dz := upload(t, c, f32bytes(x)), upload(t, c, f32bytes(w)), upload(t, c, f32bytes(bias)), upload(t, c, f32bytes(z))
	defer dx.Free()
	defer dw.Free()
	defer db.Free()
	defer dz.Free()
	plans, err := dnn.ConvPlans(cfg, 4)
	if err != nil {
		t.Errorf("backend API (channels last %v): %v", cfg.ChannelsLast, err)
	}
	for _, plan := range plans {
		dy := poisoned(t, c, 4*cfg.N*cfg.K*p*q)
		var ws *Buffer
		var wsPtr DevicePtr
		if plan.WorkspaceSize() > 0 {
			ws, err = c.Alloc(plan.WorkspaceSize())
			must(t, err)
			wsPtr = ws.Ptr()
		}
		must(t, plan.Execute(dx.Ptr(), dw.Ptr(), db.Ptr(), dz.Ptr(), dy.Ptr(), wsPtr))
		must(t, s.Synchronize())
		if err := tol.Compare(f64(bytesF32(download(t, dy))), want); err != nil {
			t.Errorf("backend engine %d (channels last %v, notes %v, workspace %d): %v", plan.Engine(), cfg.ChannelsLast, plan.Notes(), plan.WorkspaceSize(), err)
		} else {
			t.Logf("backend engine %d (channels last %v, notes %v, workspace %d): ok", plan.Engine(), cfg.ChannelsLast, plan.Notes(), plan.WorkspaceSize())
		}
		dy.Free()
		ws.Free()
	}
	for i := len(plans) - 1; i >= 0; i-- {
		plans[i].Close()
	}
}

// channelsLast reorders an n x c x h x w array to n x h x w x c.
func channelsLast[T any](v []T, n, c, h, w int) []T {
	out := make([]T, len(v))
	for a := 0; a < n; a++ {
		for b := 0; b < c; b++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					out[((a*h+y)*w+x)*c+b] = v[((a*c+b)*h+y)*w+x]
				}
			}
		}
	}
	return out
}
