//go:build !amd64

package cpu

// gemmMicro is the micro-kernel; without an assembly one for this
// architecture it is the Go kernel.
func gemmMicro(kc int, a, b, c []float32, ldc int, alpha float32, overwrite bool) {
	gemmKernelGo(kc, a, b, c, ldc, alpha, overwrite)
}
