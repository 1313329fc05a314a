"""Checks the SwiGLU CUDA kernels against the plugin's Go implementation.

Run on a GPU machine with CuPy, on the folder gpucheck/main.go writes:

    python3 check.py DIR

The kernel source is compiled with NVRTC exactly as written (no headers, no
extra options) and launched with the grid, block and scalar arguments that
plugins.CUDAKernel.Configure gave, on the plugin ABI (input pointer, output
pointer, scalars). Small cases compare with the Go outputs; large ones (grid
stride loop) with the same float32 formula in NumPy. Exit status 1 on any
mismatch.
"""
import json
import os
import sys

import cupy as cp
import numpy as np

F32_TOL = 4e-6  # relative, expf vs Go's math.Exp rounded to float32
F16_ULP = 1     # the float32 results may straddle a half rounding boundary


def reference(x, beta, gate_first):
    x = x.astype(np.float32)
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    g, u = (a, b) if gate_first else (b, a)
    with np.errstate(over="ignore"):
        return g / (np.float32(1) + np.exp(np.float32(-beta) * g)) * u


def main(d):
    cases = json.load(open(os.path.join(d, "cases.json")))
    src = open(os.path.join(d, "kernel.cu")).read()
    mod = cp.RawModule(code=src, backend="nvrtc")
    cast = {"int64": np.int64, "int32": np.int32, "float32": np.float32}
    failed = 0
    for c in cases:
        dt = np.float32 if c["dtype"] == "float32" else np.float16
        if c["vectors"]:
            x = np.load(os.path.join(d, c["name"] + "_x.npy"))
            want = np.load(os.path.join(d, c["name"] + "_y.npy"))
        else:
            rng = np.random.default_rng(7)
            x = (rng.standard_normal(c["in_shape"], dtype=np.float32) * 4).astype(dt)
            want = reference(x, np.float32(c["beta"]), c["gate_first"]).astype(dt)
        xd = cp.asarray(x)
        yd = cp.full(c["out_shape"], np.nan, dtype=dt)
        args = [xd, yd] + [cast[a["type"]](a["value"]) for a in c["args"]]
        mod.get_function(c["entry"])(tuple(c["grid"]), tuple(c["block"]), tuple(args))
        cp.cuda.Device().synchronize()
        got = cp.asnumpy(yd)
        if dt == np.float32:
            err = np.abs(got - want) / np.maximum(np.abs(want), 1e-6)
            worst = float(np.max(err))
            ok = worst <= F32_TOL and not np.isnan(got).any()
            what = "max rel err %.2e" % worst
        else:
            ulp = np.abs(got.view(np.int16).astype(np.int32) - want.view(np.int16).astype(np.int32))
            worst = int(np.max(ulp))
            ok = worst <= F16_ULP and not np.isnan(got).any()
            what = "max %d ulp, %d of %d differ" % (worst, int(np.count_nonzero(ulp)), ulp.size)
        print("%-18s %-10s grid %-14s %s %s" % (c["name"], c["entry"], c["grid"], what, "ok" if ok else "FAIL"))
        failed += not ok
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
