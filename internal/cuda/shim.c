// shim.c resolves the functions shim.h lists with dlsym and defines the t_*
// trampolines that call through them. Go calls only the trampolines, so no
// function pointer ever crosses into Go.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include "shim.h"

#define TRTC_POINTER(ret, name, sym, params, args) static ret(*p_##name) params;
TRTC_CU_FUNCS(TRTC_POINTER)
TRTC_NVRTC_FUNCS(TRTC_POINTER)
TRTC_LT_FUNCS(TRTC_POINTER)
TRTC_CUDNN_FUNCS(TRTC_POINTER)
TRTC_CUDNN_LEGACY_FUNCS(TRTC_POINTER)
#undef TRTC_POINTER

#define TRTC_TRAMPOLINE(ret, name, sym, params, args) \
  ret t_##name params { return p_##name args; }
TRTC_CU_FUNCS(TRTC_TRAMPOLINE)
TRTC_NVRTC_FUNCS(TRTC_TRAMPOLINE)
TRTC_LT_FUNCS(TRTC_TRAMPOLINE)
TRTC_CUDNN_FUNCS(TRTC_TRAMPOLINE)
TRTC_CUDNN_LEGACY_FUNCS(TRTC_TRAMPOLINE)
#undef TRTC_TRAMPOLINE

typedef struct {
  const char *sym;
  void **slot;
} trtc_sym;

#define TRTC_ENTRY(ret, name, sym, params, args) {sym, (void **)&p_##name},
static trtc_sym cu_syms[] = {TRTC_CU_FUNCS(TRTC_ENTRY){0, 0}};
static trtc_sym nvrtc_syms[] = {TRTC_NVRTC_FUNCS(TRTC_ENTRY){0, 0}};
static trtc_sym lt_syms[] = {TRTC_LT_FUNCS(TRTC_ENTRY){0, 0}};
static trtc_sym cudnn_syms[] = {TRTC_CUDNN_FUNCS(TRTC_ENTRY){0, 0}};
static trtc_sym cudnn_legacy_syms[] = {TRTC_CUDNN_LEGACY_FUNCS(TRTC_ENTRY){0, 0}};
#undef TRTC_ENTRY

static trtc_sym *tables[] = {cu_syms, nvrtc_syms, lt_syms, cudnn_syms, cudnn_legacy_syms};

void *trtc_dlopen(const char *path, const char **err) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  *err = h ? 0 : dlerror();
  return h;
}

void trtc_dlclose(void *h) { dlclose(h); }

const char *trtc_resolve(int lib, void *h) {
  trtc_sym *t = tables[lib];
  for (trtc_sym *s = t; s->sym; s++) {
    void *f = dlsym(h, s->sym);
    if (!f) {
      for (trtc_sym *c = t; c->sym; c++) *c->slot = 0;
      return s->sym;
    }
    *s->slot = f;
  }
  return 0;
}

const char *trtc_dlpath(void *h, const char *sym) {
  void *f = dlsym(h, sym);
  Dl_info info;
  if (!f || !dladdr(f, &info) || !info.dli_fname) return "";
  return info.dli_fname;
}

#define TRTC_MAX_ARGS 64

CUresult trtc_launch(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                     unsigned int bx, unsigned int by, unsigned int bz,
                     unsigned int shmem, CUstream s, int n, const uint64_t *vals) {
  uint64_t copy[TRTC_MAX_ARGS];
  void *ptrs[TRTC_MAX_ARGS];
  if (n < 0 || n > TRTC_MAX_ARGS) return 1; /* CUDA_ERROR_INVALID_VALUE */
  for (int i = 0; i < n; i++) {
    copy[i] = vals[i];
    ptrs[i] = &copy[i];
  }
  return p_cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shmem, s, n ? ptrs : 0, 0);
}
