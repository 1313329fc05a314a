#!/usr/bin/env bash
# The stream-order check, measured on the GPU machine: N builds of
# torchvision's ResNet-50 (random weights) in fp16 at batch 32, each
# compiled with trtc (whose build runs the check, internal/target/cuda/
# streamorder.go), run on a fixed input, and compared with PyTorch's fp32
# logits. Prints per build the check's warnings (an excluded cuDNN
# engine) and the largest logit error; an engine whose queued steps
# misbehave shows errors far above the fp16 tolerance (26 where it was
# found, 2026-12-02).
#
#   bench/gpu/stream_order.sh TRTC OUT [N]
set -uo pipefail
trtc=$1 out=$2 n=${3:-8}
mkdir -p "$out"
python3 - "$out" <<'PY' || exit 1
import sys, numpy as np, torch, torchvision
out = sys.argv[1]
torch.manual_seed(0)
m = torchvision.models.resnet50().eval().cuda()
with torch.no_grad():
    torch.onnx.export(m, (torch.randn(1, 3, 224, 224, device="cuda"),), out + "/resnet50.onnx", input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    torch.manual_seed(32)
    x = torch.randn(32, 3, 224, 224)
    np.save(out + "/x.npy", x.numpy())
    np.save(out + "/ref.npy", m(x.cuda()).float().cpu().numpy())
PY
echo "| build | compile s | stream-order warnings | max abs logit error vs PyTorch fp32 |"
echo "| --- | --- | --- | --- |"
for k in $(seq 1 "$n"); do
  start=$(date +%s.%N)
  "$trtc" compile "$out/resnet50.onnx" -o "$out/r$k.engine" --target cuda --precision fp16 --shapes x:32x3x224x224 > "$out/compile$k.log" 2>&1 || { echo "| $k | compile failed | | |"; continue; }
  secs=$(python3 -c "print('%.1f' % ($(date +%s.%N) - $start))")
  warnings=$(grep -c "stream-order check" "$out/compile$k.log")
  "$trtc" run "$out/r$k.engine" --input "x=$out/x.npy" --iterations 3 --output-dir "$out/out$k" > "$out/run$k.log" 2>&1
  err=$(python3 -c "import numpy as np; print('%.4f' % np.abs(np.load('$out/out$k/logits.npy').astype(np.float64) - np.load('$out/ref.npy')).max())" 2>/dev/null || echo "-")
  echo "| $k | $secs | $warnings | $err |"
  grep "stream-order check" "$out/compile$k.log" | sed 's/^/    /'
  rm -f "$out/r$k.engine"
done
