//go:build !amd64

package cpu

// gemmMicro is the micro-kernel; without an assembly one for this
// architecture it is the Go kernel.
func gemmMicro(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha float32, overwrite, narrow bool) {
	gemmKernelGo(kc, a, rsa, csa, b, c, ldc, alpha, overwrite, narrow)
}

// gemmPackRow copies one row of B into its packed panels (gemmPackRowGo).
func gemmPackRow(dst, src []float32, panels, stride int) {
	gemmPackRowGo(dst, src, panels, stride)
}
