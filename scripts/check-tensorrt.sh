#!/usr/bin/env bash
# Compile trtc's TensorRT target against one or more TensorRT header
# folders: go build and go vet of ./... with -tags tensorrt, and a link of
# the target's test binary (which proves the shim needs nothing from
# libnvinfer at link time: TensorRT's entry points are dlsym'd). Nothing
# runs TensorRT.
#
#   scripts/check-tensorrt.sh --cuda CUDA_INCLUDE TRT_INCLUDE [TRT_INCLUDE...]
#   scripts/check-tensorrt.sh --cuda third_party/cuda/include \
#       third_party/tensorrt-10.16.1/include third_party/tensorrt-11.1/include
#
# CUDA_INCLUDE must hold cuda_runtime_api.h (NvInferRuntimeBase.h includes it).
set -u
cd "$(dirname "$0")/.."

cuda=""
dirs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--cuda) cuda="$2"; shift 2 ;;
	-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
	*) dirs+=("$1"); shift ;;
	esac
done
if [ -z "$cuda" ] || [ ${#dirs[@]} -eq 0 ]; then
	echo "usage: $0 --cuda CUDA_INCLUDE TRT_INCLUDE [TRT_INCLUDE...]" >&2
	exit 2
fi
if [ ! -f "$cuda/cuda_runtime_api.h" ]; then
	echo "$cuda has no cuda_runtime_api.h" >&2
	exit 2
fi
cuda=$(cd "$cuda" && pwd)

version() {
	local h="$1/NvInferVersion.h" maj min pat
	maj=$(sed -n 's/^#define TRT_MAJOR_ENTERPRISE \([0-9]*\).*/\1/p' "$h")
	min=$(sed -n 's/^#define TRT_MINOR_ENTERPRISE \([0-9]*\).*/\1/p' "$h")
	pat=$(sed -n 's/^#define TRT_PATCH_ENTERPRISE \([0-9]*\).*/\1/p' "$h")
	if [ -z "$maj" ]; then # older headers
		maj=$(sed -n 's/^#define NV_TENSORRT_MAJOR \([0-9]*\).*/\1/p' "$h")
		min=$(sed -n 's/^#define NV_TENSORRT_MINOR \([0-9]*\).*/\1/p' "$h")
		pat=$(sed -n 's/^#define NV_TENSORRT_PATCH \([0-9]*\).*/\1/p' "$h")
	fi
	echo "$maj.$min.$pat"
}

status=0
for d in "${dirs[@]}"; do
	if [ ! -f "$d/NvInfer.h" ]; then
		echo "FAIL $d: no NvInfer.h"
		status=1
		continue
	fi
	d=$(cd "$d" && pwd)
	v=$(version "$d")
	export CGO_ENABLED=1 CGO_CPPFLAGS="-I$d -I$cuda"
	log=$(mktemp)
	ok=1
	for step in "go build -tags tensorrt ./..." "go vet -tags tensorrt ./..." "go test -tags tensorrt -c -o /dev/null ./internal/target/tensorrt"; do
		if $step >"$log" 2>&1; then
			echo "ok   TensorRT $v: $step"
		else
			echo "FAIL TensorRT $v: $step"
			sed 's/^/     /' "$log" | head -40
			ok=0
		fi
	done
	rm -f "$log"
	if [ $ok = 1 ]; then
		echo "PASS TensorRT $v ($d)"
	else
		echo "FAIL TensorRT $v ($d)"
		status=1
	fi
done
exit $status
