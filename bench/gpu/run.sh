#!/usr/bin/env bash
# The GPU benchmark, in one call on the GPU machine: export the public
# models with random weights (bench/gpu/export.py), compile them with trtc
# for the CUDA target in fp32 and fp16 at batch 1 and 32, check accuracy
# against PyTorch's fp32 outputs with trtc compare, and time trtc bench
# beside PyTorch eager (and torch.compile with --compile) in the same run.
# trtc is timed on device memory (--no-data-transfers), as PyTorch is
# with its tensors on the GPU, and again with the host copies.
#
#   bench/gpu/run.sh TRTC OUT [--compile]
#
# MODELS="bert" (default "resnet50 bert") and PRECISIONS="fp16" (default
# "fp32 fp16") time some of the models or precisions only.
#
# TRTC is a trtc binary built for linux/amd64; OUT collects the models,
# engines, logs and results.md.
set -uo pipefail
trtc=$1 out=$2; shift 2
mkdir -p "$out"
PYTHONUNBUFFERED=1 python3 "$(dirname "$0")/export.py" "$out" "$@" > "$out/export.log" 2>&1 || { tail -30 "$out/export.log"; exit 1; }
results="$out/results.md"
echo "| model | batch | precision | trtc ms (CUDA graphs, on device) | trtc ms (step by step) | PyTorch eager ms | trtc / eager | torch.compile ms | trtc / torch.compile | trtc ms with H2D/D2H | accuracy vs PyTorch fp32 |" > "$results"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" >> "$results"
for model in ${MODELS:-resnet50 bert}; do
  for b in 1 32; do
    d="$out/${model}_b$b"
    if [ $model = resnet50 ]; then
      shapes="x:${b}x3x224x224"; inputs="--input x=$d/x.npy"
    else
      shapes="input_ids:${b}x128,attention_mask:${b}x128"; inputs="--input input_ids=$d/input_ids.npy --input attention_mask=$d/attention_mask.npy"
    fi
    for p in ${PRECISIONS:-fp32 fp16}; do
      tol="--atol 1e-3 --rtol 1e-3"; [ $p = fp16 ] && tol="--atol 5e-2 --rtol 5e-2"
      eng="$out/${model}_b${b}_$p.engine"
      "$trtc" compile "$out/$model.onnx" -o "$eng" --target cuda --precision $p --shapes $shapes > "$out/${model}_b${b}_$p.compile.log" 2>&1 || { tail -5 "$out/${model}_b${b}_$p.compile.log"; continue; }
      acc=PASS
      "$trtc" compare "$out/$model.onnx" --targets cuda:$p --shapes $shapes $inputs --reference "$d/ref" $tol > "$out/${model}_b${b}_$p.compare.log" 2>&1 || acc=FAIL
      # On device memory, as PyTorch is timed; then with the copies.
      "$trtc" bench "$eng" $inputs --no-data-transfers --no-cuda-graph --iterations 30 --duration 1s --json > "$out/${model}_b${b}_$p.bench.json" 2> "$out/${model}_b${b}_$p.bench.err"
      "$trtc" bench "$eng" $inputs --iterations 20 --duration 500ms --json > "$out/${model}_b${b}_$p.bench_h2d.json" 2>> "$out/${model}_b${b}_$p.bench.err"
      # With CUDA graphs (the default where the engine can be recorded as one).
      "$trtc" bench "$eng" $inputs --no-data-transfers --use-cuda-graph --iterations 30 --duration 1s --json > "$out/${model}_b${b}_$p.bench_graph.json" 2>> "$out/${model}_b${b}_$p.bench.err"
      median() { python3 -c "import json;print('%.3f'%json.load(open('$1'))['latency_median_ms'])" 2>/dev/null || echo "-"; }
      torchms() { python3 -c "import json;print('%.3f'%json.load(open('$out/torch.json'))['timings_ms']['$1'])" 2>/dev/null || echo "-"; }
      ratio() { python3 -c "print('%.2f'%($1/$2))" 2>/dev/null || echo "-"; }
      steps=$(median "$out/${model}_b${b}_$p.bench.json")
      graph=$(median "$out/${model}_b${b}_$p.bench_graph.json")
      h2d=$(median "$out/${model}_b${b}_$p.bench_h2d.json")
      best=$graph; [ "$best" = - ] && best=$steps
      pt=$(torchms "$model b$b eager $p")
      tc=$(torchms "$model b$b compile $p")
      maxerr=$(grep -oE "max abs [0-9.e+-]+" "$out/${model}_b${b}_$p.compare.log" | head -2 | tr '\n' ' ')
      echo "| $model | $b | $p | $graph | $steps | $pt | $(ratio $best $pt) | $tc | $(ratio $best $tc) | $h2d | $acc ($maxerr) |" >> "$results"
    done
  done
done
cat "$results"
