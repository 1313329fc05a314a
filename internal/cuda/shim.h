// shim.h declares the few CUDA, NVRTC, cuBLASLt and cuDNN prototypes that
// trtc calls, with types of our own, so that no NVIDIA header is needed to
// build trtc. The functions are resolved at run time with dlopen/dlsym
// (shim.c) and called through the t_* trampolines declared here.
//
// Each list entry is X(return type, trampoline name, exported symbol,
// parameters, arguments). The symbol names are the ABI names the headers'
// #defines resolve to (cuMemAlloc -> cuMemAlloc_v2 and so on), checked
// against CUDA 13.0's cuda.h.
#ifndef TRTC_CUDA_SHIM_H
#define TRTC_CUDA_SHIM_H

#include <stddef.h>
#include <stdint.h>

// ---- driver API (cuda.h) ----
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext;
typedef void *CUstream;
typedef void *CUevent;
typedef void *CUmodule;
typedef void *CUfunction;
typedef void *CUgraph;
typedef void *CUgraphExec;

#define TRTC_CU_FUNCS(X) \
  X(CUresult, cuInit, "cuInit", (unsigned int flags), (flags)) \
  X(CUresult, cuDriverGetVersion, "cuDriverGetVersion", (int *v), (v)) \
  X(CUresult, cuGetErrorName, "cuGetErrorName", (CUresult e, const char **s), (e, s)) \
  X(CUresult, cuGetErrorString, "cuGetErrorString", (CUresult e, const char **s), (e, s)) \
  X(CUresult, cuDeviceGetCount, "cuDeviceGetCount", (int *n), (n)) \
  X(CUresult, cuDeviceGet, "cuDeviceGet", (CUdevice *d, int ordinal), (d, ordinal)) \
  X(CUresult, cuDeviceGetName, "cuDeviceGetName", (char *name, int len, CUdevice d), (name, len, d)) \
  X(CUresult, cuDeviceGetAttribute, "cuDeviceGetAttribute", (int *v, int attr, CUdevice d), (v, attr, d)) \
  X(CUresult, cuDeviceTotalMem, "cuDeviceTotalMem_v2", (size_t *b, CUdevice d), (b, d)) \
  X(CUresult, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext *c, CUdevice d), (c, d)) \
  X(CUresult, cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice d), (d)) \
  X(CUresult, cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext c), (c)) \
  X(CUresult, cuCtxSynchronize, "cuCtxSynchronize", (void), ()) \
  X(CUresult, cuMemGetInfo, "cuMemGetInfo_v2", (size_t *f, size_t *t), (f, t)) \
  X(CUresult, cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr *p, size_t n), (p, n)) \
  X(CUresult, cuMemFree, "cuMemFree_v2", (CUdeviceptr p), (p)) \
  X(CUresult, cuMemsetD8, "cuMemsetD8_v2", (CUdeviceptr p, unsigned char v, size_t n), (p, v, n)) \
  X(CUresult, cuMemsetD8Async, "cuMemsetD8Async", (CUdeviceptr p, unsigned char v, size_t n, CUstream s), (p, v, n, s)) \
  X(CUresult, cuMemcpyHtoD, "cuMemcpyHtoD_v2", (CUdeviceptr d, const void *h, size_t n), (d, h, n)) \
  X(CUresult, cuMemcpyDtoH, "cuMemcpyDtoH_v2", (void *h, CUdeviceptr d, size_t n), (h, d, n)) \
  X(CUresult, cuMemcpyDtoD, "cuMemcpyDtoD_v2", (CUdeviceptr d, CUdeviceptr s, size_t n), (d, s, n)) \
  X(CUresult, cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", (CUdeviceptr d, const void *h, size_t n, CUstream s), (d, h, n, s)) \
  X(CUresult, cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", (void *h, CUdeviceptr d, size_t n, CUstream s), (h, d, n, s)) \
  X(CUresult, cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", (CUdeviceptr d, CUdeviceptr src, size_t n, CUstream s), (d, src, n, s)) \
  X(CUresult, cuMemHostAlloc, "cuMemHostAlloc", (void **p, size_t n, unsigned int flags), (p, n, flags)) \
  X(CUresult, cuMemFreeHost, "cuMemFreeHost", (void *p), (p)) \
  X(CUresult, cuStreamCreate, "cuStreamCreate", (CUstream *s, unsigned int flags), (s, flags)) \
  X(CUresult, cuStreamDestroy, "cuStreamDestroy_v2", (CUstream s), (s)) \
  X(CUresult, cuStreamSynchronize, "cuStreamSynchronize", (CUstream s), (s)) \
  X(CUresult, cuStreamBeginCapture, "cuStreamBeginCapture_v2", (CUstream s, int mode), (s, mode)) \
  X(CUresult, cuStreamEndCapture, "cuStreamEndCapture", (CUstream s, CUgraph *g), (s, g)) \
  X(CUresult, cuEventCreate, "cuEventCreate", (CUevent *e, unsigned int flags), (e, flags)) \
  X(CUresult, cuEventDestroy, "cuEventDestroy_v2", (CUevent e), (e)) \
  X(CUresult, cuEventRecord, "cuEventRecord", (CUevent e, CUstream s), (e, s)) \
  X(CUresult, cuEventSynchronize, "cuEventSynchronize", (CUevent e), (e)) \
  X(CUresult, cuEventElapsedTime, "cuEventElapsedTime", (float *ms, CUevent a, CUevent b), (ms, a, b)) \
  X(CUresult, cuModuleLoadData, "cuModuleLoadData", (CUmodule *m, const void *image), (m, image)) \
  X(CUresult, cuModuleUnload, "cuModuleUnload", (CUmodule m), (m)) \
  X(CUresult, cuModuleGetFunction, "cuModuleGetFunction", (CUfunction *f, CUmodule m, const char *name), (f, m, name)) \
  X(CUresult, cuFuncGetAttribute, "cuFuncGetAttribute", (int *v, int attr, CUfunction f), (v, attr, f)) \
  X(CUresult, cuFuncSetAttribute, "cuFuncSetAttribute", (CUfunction f, int attr, int v), (f, attr, v)) \
  X(CUresult, cuLaunchKernel, "cuLaunchKernel", (CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz, unsigned int shmem, CUstream s, void **params, void **extra), (f, gx, gy, gz, bx, by, bz, shmem, s, params, extra)) \
  X(CUresult, cuGraphInstantiate, "cuGraphInstantiateWithFlags", (CUgraphExec *e, CUgraph g, unsigned long long flags), (e, g, flags)) \
  X(CUresult, cuGraphLaunch, "cuGraphLaunch", (CUgraphExec e, CUstream s), (e, s)) \
  X(CUresult, cuGraphExecDestroy, "cuGraphExecDestroy", (CUgraphExec e), (e)) \
  X(CUresult, cuGraphDestroy, "cuGraphDestroy", (CUgraph g), (g))

// ---- NVRTC (nvrtc.h) ----
typedef int nvrtcResult;
typedef void *nvrtcProgram;

#define TRTC_NVRTC_FUNCS(X) \
  X(nvrtcResult, nvrtcVersion, "nvrtcVersion", (int *major, int *minor), (major, minor)) \
  X(const char *, nvrtcGetErrorString, "nvrtcGetErrorString", (nvrtcResult r), (r)) \
  X(nvrtcResult, nvrtcCreateProgram, "nvrtcCreateProgram", (nvrtcProgram *p, const char *src, const char *name, int nh, const char *const *hs, const char *const *hn), (p, src, name, nh, hs, hn)) \
  X(nvrtcResult, nvrtcDestroyProgram, "nvrtcDestroyProgram", (nvrtcProgram *p), (p)) \
  X(nvrtcResult, nvrtcCompileProgram, "nvrtcCompileProgram", (nvrtcProgram p, int n, const char *const *opts), (p, n, opts)) \
  X(nvrtcResult, nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize", (nvrtcProgram p, size_t *n), (p, n)) \
  X(nvrtcResult, nvrtcGetProgramLog, "nvrtcGetProgramLog", (nvrtcProgram p, char *log), (p, log)) \
  X(nvrtcResult, nvrtcGetCUBINSize, "nvrtcGetCUBINSize", (nvrtcProgram p, size_t *n), (p, n)) \
  X(nvrtcResult, nvrtcGetCUBIN, "nvrtcGetCUBIN", (nvrtcProgram p, char *out), (p, out))

// ---- cuBLASLt (cublasLt.h) ----
typedef int cublasStatus_t;
typedef void *cublasLtHandle_t;
typedef void *cublasLtMatmulDesc_t;
typedef void *cublasLtMatrixLayout_t;
typedef void *cublasLtMatmulPreference_t;
typedef struct { uint64_t data[8]; } trtcLtAlgo;
// cublasLtMatmulHeuristicResult_t: algo, workspaceSize, state, wavesCount, reserved[4].
typedef struct {
  trtcLtAlgo algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
} trtcLtHeuristic;

#define TRTC_LT_FUNCS(X) \
  X(cublasStatus_t, cublasLtCreate, "cublasLtCreate", (cublasLtHandle_t *h), (h)) \
  X(cublasStatus_t, cublasLtDestroy, "cublasLtDestroy", (cublasLtHandle_t h), (h)) \
  X(size_t, cublasLtGetVersion, "cublasLtGetVersion", (void), ()) \
  X(const char *, cublasLtGetStatusName, "cublasLtGetStatusName", (cublasStatus_t s), (s)) \
  X(const char *, cublasLtGetStatusString, "cublasLtGetStatusString", (cublasStatus_t s), (s)) \
  X(cublasStatus_t, cublasLtMatmulDescCreate, "cublasLtMatmulDescCreate", (cublasLtMatmulDesc_t *d, int compute, int scale), (d, compute, scale)) \
  X(cublasStatus_t, cublasLtMatmulDescDestroy, "cublasLtMatmulDescDestroy", (cublasLtMatmulDesc_t d), (d)) \
  X(cublasStatus_t, cublasLtMatmulDescSetAttribute, "cublasLtMatmulDescSetAttribute", (cublasLtMatmulDesc_t d, int attr, const void *buf, size_t n), (d, attr, buf, n)) \
  X(cublasStatus_t, cublasLtMatrixLayoutCreate, "cublasLtMatrixLayoutCreate", (cublasLtMatrixLayout_t *l, int type, uint64_t rows, uint64_t cols, int64_t ld), (l, type, rows, cols, ld)) \
  X(cublasStatus_t, cublasLtMatrixLayoutDestroy, "cublasLtMatrixLayoutDestroy", (cublasLtMatrixLayout_t l), (l)) \
  X(cublasStatus_t, cublasLtMatrixLayoutSetAttribute, "cublasLtMatrixLayoutSetAttribute", (cublasLtMatrixLayout_t l, int attr, const void *buf, size_t n), (l, attr, buf, n)) \
  X(cublasStatus_t, cublasLtMatmulPreferenceCreate, "cublasLtMatmulPreferenceCreate", (cublasLtMatmulPreference_t *p), (p)) \
  X(cublasStatus_t, cublasLtMatmulPreferenceDestroy, "cublasLtMatmulPreferenceDestroy", (cublasLtMatmulPreference_t p), (p)) \
  X(cublasStatus_t, cublasLtMatmulPreferenceSetAttribute, "cublasLtMatmulPreferenceSetAttribute", (cublasLtMatmulPreference_t p, int attr, const void *buf, size_t n), (p, attr, buf, n)) \
  X(cublasStatus_t, cublasLtMatmulAlgoGetHeuristic, "cublasLtMatmulAlgoGetHeuristic", (cublasLtHandle_t h, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t dd, cublasLtMatmulPreference_t p, int n, trtcLtHeuristic *out, int *got), (h, d, a, b, c, dd, p, n, out, got)) \
  X(cublasStatus_t, cublasLtMatmul, "cublasLtMatmul", (cublasLtHandle_t h, cublasLtMatmulDesc_t d, const void *alpha, CUdeviceptr A, cublasLtMatrixLayout_t la, CUdeviceptr B, cublasLtMatrixLayout_t lb, const void *beta, CUdeviceptr C, cublasLtMatrixLayout_t lc, CUdeviceptr D, cublasLtMatrixLayout_t ld, const trtcLtAlgo *algo, CUdeviceptr ws, size_t wsSize, CUstream s), (h, d, alpha, A, la, B, lb, beta, C, lc, D, ld, algo, ws, wsSize, s))

// ---- cuDNN (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h) ----
typedef int cudnnStatus_t;
typedef void *cudnnHandle_t;
typedef void *cudnnBackendDescriptor_t;
typedef void *cudnnTensorDescriptor_t;
typedef void *cudnnFilterDescriptor_t;
typedef void *cudnnConvolutionDescriptor_t;
// cudnnConvolutionFwdAlgoPerf_t
typedef struct {
  int algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  int determinism;
  int mathType;
  int reserved[3];
} trtcConvAlgoPerf;

#define TRTC_CUDNN_FUNCS(X) \
  X(size_t, cudnnGetVersion, "cudnnGetVersion", (void), ()) \
  X(const char *, cudnnGetErrorString, "cudnnGetErrorString", (cudnnStatus_t s), (s)) \
  X(void, cudnnGetLastErrorString, "cudnnGetLastErrorString", (char *msg, size_t n), (msg, n)) \
  X(cudnnStatus_t, cudnnCreate, "cudnnCreate", (cudnnHandle_t *h), (h)) \
  X(cudnnStatus_t, cudnnDestroy, "cudnnDestroy", (cudnnHandle_t h), (h)) \
  X(cudnnStatus_t, cudnnSetStream, "cudnnSetStream", (cudnnHandle_t h, CUstream s), (h, s)) \
  X(cudnnStatus_t, cudnnBackendCreateDescriptor, "cudnnBackendCreateDescriptor", (int type, cudnnBackendDescriptor_t *d), (type, d)) \
  X(cudnnStatus_t, cudnnBackendDestroyDescriptor, "cudnnBackendDestroyDescriptor", (cudnnBackendDescriptor_t d), (d)) \
  X(cudnnStatus_t, cudnnBackendFinalize, "cudnnBackendFinalize", (cudnnBackendDescriptor_t d), (d)) \
  X(cudnnStatus_t, cudnnBackendSetAttribute, "cudnnBackendSetAttribute", (cudnnBackendDescriptor_t d, int name, int type, int64_t n, const void *v), (d, name, type, n, v)) \
  X(cudnnStatus_t, cudnnBackendGetAttribute, "cudnnBackendGetAttribute", (cudnnBackendDescriptor_t d, int name, int type, int64_t want, int64_t *got, void *v), (d, name, type, want, got, v)) \
  X(cudnnStatus_t, cudnnBackendExecute, "cudnnBackendExecute", (cudnnHandle_t h, cudnnBackendDescriptor_t plan, cudnnBackendDescriptor_t vp), (h, plan, vp))

// The legacy convolution API (libcudnn_cnn, reached through libcudnn.so.9).
// Optional: a cuDNN without it still serves the backend API.
#define TRTC_CUDNN_LEGACY_FUNCS(X) \
  X(cudnnStatus_t, cudnnCreateTensorDescriptor, "cudnnCreateTensorDescriptor", (cudnnTensorDescriptor_t *d), (d)) \
  X(cudnnStatus_t, cudnnSetTensor4dDescriptor, "cudnnSetTensor4dDescriptor", (cudnnTensorDescriptor_t d, int format, int dtype, int n, int c, int h, int w), (d, format, dtype, n, c, h, w)) \
  X(cudnnStatus_t, cudnnDestroyTensorDescriptor, "cudnnDestroyTensorDescriptor", (cudnnTensorDescriptor_t d), (d)) \
  X(cudnnStatus_t, cudnnCreateFilterDescriptor, "cudnnCreateFilterDescriptor", (cudnnFilterDescriptor_t *d), (d)) \
  X(cudnnStatus_t, cudnnSetFilter4dDescriptor, "cudnnSetFilter4dDescriptor", (cudnnFilterDescriptor_t d, int dtype, int format, int k, int c, int h, int w), (d, dtype, format, k, c, h, w)) \
  X(cudnnStatus_t, cudnnDestroyFilterDescriptor, "cudnnDestroyFilterDescriptor", (cudnnFilterDescriptor_t d), (d)) \
  X(cudnnStatus_t, cudnnCreateConvolutionDescriptor, "cudnnCreateConvolutionDescriptor", (cudnnConvolutionDescriptor_t *d), (d)) \
  X(cudnnStatus_t, cudnnSetConvolution2dDescriptor, "cudnnSetConvolution2dDescriptor", (cudnnConvolutionDescriptor_t d, int ph, int pw, int u, int v, int dh, int dw, int mode, int compute), (d, ph, pw, u, v, dh, dw, mode, compute)) \
  X(cudnnStatus_t, cudnnSetConvolutionGroupCount, "cudnnSetConvolutionGroupCount", (cudnnConvolutionDescriptor_t d, int g), (d, g)) \
  X(cudnnStatus_t, cudnnSetConvolutionMathType, "cudnnSetConvolutionMathType", (cudnnConvolutionDescriptor_t d, int m), (d, m)) \
  X(cudnnStatus_t, cudnnDestroyConvolutionDescriptor, "cudnnDestroyConvolutionDescriptor", (cudnnConvolutionDescriptor_t d), (d)) \
  X(cudnnStatus_t, cudnnGetConvolutionForwardAlgorithm_v7, "cudnnGetConvolutionForwardAlgorithm_v7", (cudnnHandle_t h, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t c, cudnnTensorDescriptor_t y, int want, int *got, trtcConvAlgoPerf *out), (h, x, w, c, y, want, got, out)) \
  X(cudnnStatus_t, cudnnGetConvolutionForwardWorkspaceSize, "cudnnGetConvolutionForwardWorkspaceSize", (cudnnHandle_t h, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t c, cudnnTensorDescriptor_t y, int algo, size_t *n), (h, x, w, c, y, algo, n)) \
  X(cudnnStatus_t, cudnnConvolutionForward, "cudnnConvolutionForward", (cudnnHandle_t h, const void *alpha, cudnnTensorDescriptor_t xd, CUdeviceptr x, cudnnFilterDescriptor_t wd, CUdeviceptr w, cudnnConvolutionDescriptor_t cd, int algo, CUdeviceptr ws, size_t wsn, const void *beta, cudnnTensorDescriptor_t yd, CUdeviceptr y), (h, alpha, xd, x, wd, w, cd, algo, ws, wsn, beta, yd, y))

#define TRTC_DECLARE(ret, name, sym, params, args) ret t_##name params;
TRTC_CU_FUNCS(TRTC_DECLARE)
TRTC_NVRTC_FUNCS(TRTC_DECLARE)
TRTC_LT_FUNCS(TRTC_DECLARE)
TRTC_CUDNN_FUNCS(TRTC_DECLARE)
TRTC_CUDNN_LEGACY_FUNCS(TRTC_DECLARE)
#undef TRTC_DECLARE

// Libraries, in the order of the tables in shim.c.
enum { TRTC_LIB_CUDA = 0, TRTC_LIB_NVRTC = 1, TRTC_LIB_LT = 2, TRTC_LIB_CUDNN = 3, TRTC_LIB_CUDNN_LEGACY = 4 };

// trtc_dlopen opens path; on failure it returns NULL and *err is dlerror().
void *trtc_dlopen(const char *path, const char **err);
// trtc_dlclose closes a handle trtc_dlopen returned.
void trtc_dlclose(void *h);
// trtc_resolve fills lib's function pointers from handle h. It returns NULL
// when every symbol was found, or the name of the first missing one (and
// leaves that library's pointers cleared).
const char *trtc_resolve(int lib, void *h);
// trtc_dlpath returns the file a handle was loaded from, or "".
const char *trtc_dlpath(void *h, const char *sym);

// trtc_launch builds cuLaunchKernel's void** argument array in C memory:
// n arguments whose values are packed into vals (8 bytes each, so every
// argument is at most 8 bytes and naturally aligned) and whose sizes are
// irrelevant to the driver (it reads each by the kernel's own signature).
CUresult trtc_launch(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                     unsigned int bx, unsigned int by, unsigned int bz,
                     unsigned int shmem, CUstream s, int n, const uint64_t *vals);

#endif
