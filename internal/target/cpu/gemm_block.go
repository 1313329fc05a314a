package cpu

import (
	"runtime"
	"sync"
)

// Blocking of the packed GEMM (the Goto/BLIS scheme). The micro-kernel
// computes a gemmMR×gemmNR tile of C from an A micro-panel (gemmMR rows:
// packed, interleaved one column after the other, or read in place when A
// is row-major and not transposed) and a packed B micro-panel (gemmNR
// columns, one row after the other). A kc×gemmNR panel of B (16 KiB) stays
// in the 48 KiB L1 while the kernel walks an mc×kc block of A (144 KiB) kept
// in the 2 MiB L2; a kc×nc block of B (3 MiB) lives in L3.
const (
	gemmMR = 6
	gemmNR = 16
	gemmKC = 256
	gemmMC = 144  // multiple of gemmMR
	gemmNC = 3072 // multiple of gemmNR

	// gemmParallelMin is the smallest m*n*k split over goroutines: below it
	// (about 0.5 MFLOP, a few microseconds) starting them costs more than
	// it saves.
	gemmParallelMin = 64 * 64 * 64
)

// gemmArgs is one sgemm call; beta is applied before the blocked loop, so
// the blocks only ever overwrite C (first k block when beta == 0) or add to it.
type gemmArgs struct {
	transA, transB bool
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	k              int
}

// gemmBufs holds one worker's packed A block and B block. They grow to the
// largest blocks asked for (at most gemmMC×gemmKC and gemmKC×gemmNC), so
// small products do not allocate, or clear, megabytes.
type gemmBufs struct{ a, b []float32 }

var gemmPool = sync.Pool{New: func() any { return new(gemmBufs) }}

// gemmGrow returns buf, or a new slice when buf holds fewer than n values.
func gemmGrow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// parallel splits C into one stripe per core, along n when C is wide and
// along m when it is tall, each a whole number of tiles, and computes the
// stripes concurrently; small products run on the calling goroutine.
func (g *gemmArgs) parallel(m, n int) {
	workers := runtime.GOMAXPROCS(0)
	if workers <= 1 || m*n*g.k < gemmParallelMin {
		g.block(0, m, 0, n)
		return
	}
	splitN := n >= m
	total, unit := m, gemmMR
	if splitN {
		total, unit = n, gemmNR
	}
	tiles := (total + unit - 1) / unit
	workers = min(workers, tiles)
	if workers <= 1 {
		g.block(0, m, 0, n)
		return
	}
	chunk := (tiles + workers - 1) / workers * unit
	var wg sync.WaitGroup
	for lo := 0; lo < total; lo += chunk {
		hi := min(lo+chunk, total)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if splitN {
				g.block(0, m, lo, hi)
			} else {
				g.block(lo, hi, 0, n)
			}
		}()
	}
	wg.Wait()
}

// block computes rows [i0,i1) × columns [j0,j1) of C.
func (g *gemmArgs) block(i0, i1, j0, j1 int) {
	if g.beta != 0 { // beta == 0: the first k block overwrites C instead
		gemmScaleC(g.c, g.ldc, i0, i1, j0, j1, g.beta)
	}
	bufs := gemmPool.Get().(*gemmBufs)
	defer gemmPool.Put(bufs)
	// Equal k blocks (576 = 3×192, not 256+256+64): a short last block
	// would pay the C load and store of every tile for little work.
	kBlocks := (g.k + gemmKC - 1) / gemmKC
	kcStep := (g.k + kBlocks - 1) / kBlocks
	bufs.a = gemmGrow(bufs.a, min(gemmMC, (i1-i0+gemmMR-1)/gemmMR*gemmMR)*kcStep)
	bufs.b = gemmGrow(bufs.b, min(gemmNC, (j1-j0+gemmNR-1)/gemmNR*gemmNR)*kcStep)
	for jc := j0; jc < j1; jc += gemmNC {
		nc := min(gemmNC, j1-jc)
		for pc := 0; pc < g.k; pc += kcStep {
			kc := min(kcStep, g.k-pc)
			overwrite := pc == 0 && g.beta == 0
			g.packB(bufs.b, pc, kc, jc, nc)
			for ic := i0; ic < i1; ic += gemmMC {
				mc := min(gemmMC, i1-ic)
				// A not transposed is read in place in whole micro-panels
				// (six rows at stride lda); only the rest is packed.
				direct := 0
				if !g.transA {
					direct = mc / gemmMR * gemmMR
				}
				g.packA(bufs.a, ic+direct, mc-direct, pc, kc)
				g.macro(bufs.a, bufs.b, ic, mc, direct, jc, nc, pc, kc, overwrite)
			}
		}
	}
}

// macro multiplies an mc×kc block of A, whose first direct rows are read in
// place at (i0, p0) and the rest packed in ap, by a packed kc×nc block of B
// into C at (i0, j0). Tiles cut by the edge of C are computed into a local
// tile and copied, so the kernel never writes outside C.
func (g *gemmArgs) macro(ap, bp []float32, i0, mc, direct, j0, nc, p0, kc int, overwrite bool) {
	ldc := g.ldc
	for jr := 0; jr < nc; jr += gemmNR {
		nr := min(gemmNR, nc-jr)
		bpp := bp[jr*kc : (jr+gemmNR)*kc]
		for ir := 0; ir < mc; ir += gemmMR {
			mr := min(gemmMR, mc-ir)
			var app []float32
			rsa, csa := 1, gemmMR
			if ir < direct {
				app, rsa, csa = g.a[(i0+ir)*g.lda+p0:], g.lda, 1
			} else {
				app = ap[(ir-direct)*kc:]
			}
			ci := (i0+ir)*ldc + j0 + jr
			if mr == gemmMR && nr == gemmNR {
				gemmMicro(kc, app, rsa, csa, bpp, g.c[ci:ci+(gemmMR-1)*ldc+gemmNR], ldc, g.alpha, overwrite, false)
				continue
			}
			var tile [gemmMR * gemmNR]float32
			gemmMicro(kc, app, rsa, csa, bpp, tile[:], gemmNR, g.alpha, true, nr <= gemmNR/2)
			for i := 0; i < mr; i++ {
				row := g.c[ci+i*ldc : ci+i*ldc+nr]
				t := tile[i*gemmNR : i*gemmNR+nr]
				if overwrite {
					copy(row, t)
					continue
				}
				for j := range row {
					row[j] += t[j]
				}
			}
		}
	}
}

// packA copies rows [i0,i0+mc) × columns [p0,p0+kc) of op(A) into dst as
// gemmMR-row micro-panels: panel r holds, for each p, the gemmMR values
// A(r*gemmMR+i, p) consecutively. Rows past mc are zero.
func (g *gemmArgs) packA(dst []float32, i0, mc, p0, kc int) {
	a, lda := g.a, g.lda
	for ir := 0; ir < mc; ir += gemmMR {
		mr := min(gemmMR, mc-ir)
		panel := dst[ir*kc : (ir+gemmMR)*kc]
		if g.transA {
			// A(i, p) = a[p*lda+i]: each p's gemmMR values are contiguous.
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0+ir:]
				d := panel[p*gemmMR : p*gemmMR+gemmMR]
				copy(d, src[:mr])
				clear(d[mr:])
			}
			continue
		}
		if mr == gemmMR {
			// Six row streams in, one contiguous stream out.
			off := (i0+ir)*lda + p0
			r0 := a[off : off+kc]
			r1 := a[off+lda : off+lda+len(r0)]
			r2 := a[off+2*lda : off+2*lda+len(r0)]
			r3 := a[off+3*lda : off+3*lda+len(r0)]
			r4 := a[off+4*lda : off+4*lda+len(r0)]
			r5 := a[off+5*lda : off+5*lda+len(r0)]
			for p := range r0 {
				d := panel[p*gemmMR : p*gemmMR+gemmMR]
				d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		for i := 0; i < mr; i++ {
			src := a[(i0+ir+i)*lda+p0 : (i0+ir+i)*lda+p0+kc]
			for p, v := range src {
				panel[p*gemmMR+i] = v
			}
		}
		for i := mr; i < gemmMR; i++ {
			for p := 0; p < kc; p++ {
				panel[p*gemmMR+i] = 0
			}
		}
	}
}

// packB copies rows [p0,p0+kc) × columns [j0,j0+nc) of op(B) into dst as
// gemmNR-column micro-panels: panel r holds, for each p, the gemmNR values
// B(p, r*gemmNR+j) consecutively. Columns past nc are zero.
func (g *gemmArgs) packB(dst []float32, p0, kc, j0, nc int) {
	b, ldb := g.b, g.ldb
	if !g.transB {
		// B(p, j) = b[p*ldb+j]: walk each row of B once, left to right, so
		// the reads stream; full panels copy 16 values as one array.
		full := nc / gemmNR * gemmNR
		for p := 0; p < kc; p++ {
			src := b[(p0+p)*ldb+j0 : (p0+p)*ldb+j0+nc]
			gemmPackRow(dst[p*gemmNR:], src, full/gemmNR, gemmNR*kc)
			if full < nc {
				o := full*kc + p*gemmNR
				d := dst[o : o+gemmNR]
				copy(d, src[full:])
				clear(d[nc-full:])
			}
		}
		return
	}
	for jr := 0; jr < nc; jr += gemmNR {
		nr := min(gemmNR, nc-jr)
		panel := dst[jr*kc : (jr+gemmNR)*kc]
		for j := 0; j < nr; j++ {
			src := b[(j0+jr+j)*ldb+p0 : (j0+jr+j)*ldb+p0+kc]
			for p, v := range src {
				panel[p*gemmNR+j] = v
			}
		}
		for j := nr; j < gemmNR; j++ {
			for p := 0; p < kc; p++ {
				panel[p*gemmNR+j] = 0
			}
		}
	}
}

// gemmPackRowGo copies panels runs of gemmNR values from src into dst,
// dst[stride:], dst[2*stride:] ...: one row of B into its packed panels.
func gemmPackRowGo(dst, src []float32, panels, stride int) {
	for i := 0; i < panels; i++ {
		*(*[gemmNR]float32)(dst[i*stride : i*stride+gemmNR]) = *(*[gemmNR]float32)(src[i*gemmNR : i*gemmNR+gemmNR])
	}
}
