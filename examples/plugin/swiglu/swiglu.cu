// SwiGLU kernels for trtc's plugin examples/plugin/swiglu, compiled by NVRTC.
//
// y[r, c] = g * sigmoid(beta * g) * u, where for row r of x (2*half wide)
// g = x[r, c] and u = x[r, half + c] when gate_first, and the other way round
// otherwise. Math is float32 for both variants; the half variant rounds once,
// on the store, like the Go implementation.
//
// The file is compiled alone (no header includes: NVRTC has no CUDA headers unless
// the target adds them), so halves are converted with PTX cvt instructions.
// Parameters follow trtc's plugin ABI: input pointers, output pointers, then
// the scalars from Launch (long long rows, long long half, float beta,
// int gate_first).

__device__ __forceinline__ float swiglu_h2f(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ unsigned short swiglu_f2h(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

// swish(g) * u with sigmoid as 1 / (1 + exp(-z)): for very negative z,
// expf overflows to +inf and the product is a signed zero, as in Go.
__device__ __forceinline__ float swiglu_value(float g, float u, float beta) {
    return g / (1.0f + expf(-beta * g)) * u;
}

// One thread per output element, in a grid-stride loop (Launch caps the
// grid). Reads of g and u are coalesced across a warp: consecutive threads
// take consecutive columns.
extern "C" __global__ void swiglu_f32(const float* __restrict__ x, float* __restrict__ y,
                                      long long rows, long long half, float beta, int gate_first) {
    const long long n = rows * half;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const long long r = i / half;
        const long long c = i - r * half;
        const float* row = x + r * 2 * half;
        const float a = row[c];
        const float b = row[half + c];
        y[i] = gate_first ? swiglu_value(a, b, beta) : swiglu_value(b, a, beta);
    }
}

extern "C" __global__ void swiglu_f16(const unsigned short* __restrict__ x, unsigned short* __restrict__ y,
                                      long long rows, long long half, float beta, int gate_first) {
    const long long n = rows * half;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const long long r = i / half;
        const long long c = i - r * half;
        const unsigned short* row = x + r * 2 * half;
        const float a = swiglu_h2f(row[c]);
        const float b = swiglu_h2f(row[half + c]);
        y[i] = swiglu_f2h(gate_first ? swiglu_value(a, b, beta) : swiglu_value(b, a, beta));
    }
}
