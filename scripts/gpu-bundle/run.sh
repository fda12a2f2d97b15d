#!/usr/bin/env bash
# Device bundle runner: PtychoPINN training on a GPU through onnxruntime-node's WebGPU
# provider (Dawn over Vulkan), with no package registry needed on the machine.
#
#   ./run.sh [--accelerator auto|webgpu|cpu|cuda] [--quick] [--profile] [--speed] [--out DIR] [--threads N] [--no-torch]
#
# Unpacks the bundled Node and onnxruntime-node, the Vulkan loader from Debian's packages,
# finds the NVIDIA Vulkan driver, prints the adapter Dawn chose, runs the checks, runs the
# PyTorch reference (CUDA when torch sees a GPU), and writes JSON + logs to --out.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ACCEL=auto
QUICK=""
PROFILE=""
OUTDIR="$PWD/gpu-out"
THREADS=2
TORCH=1
while [ $# -gt 0 ]; do
  case "$1" in
    --accelerator) ACCEL="$2"; shift 2 ;;
    --accelerator=*) ACCEL="${1#*=}"; shift ;;
    --quick) QUICK="--quick"; shift ;;
    --profile) PROFILE="--profile"; shift ;;
    --speed) PROFILE="$PROFILE --speed"; shift ;;
    --out) OUTDIR="$2"; shift 2 ;;
    --out=*) OUTDIR="${1#*=}"; shift ;;
    --threads) THREADS="$2"; shift 2 ;;
    --no-torch) TORCH=0; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
LOG="$OUTDIR/run.log"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }

RUN="$(mktemp -d "${TMPDIR:-/tmp}/ptycho-bundle-XXXXXX")"
trap 'rm -rf "$RUN"' EXIT
say "== unpacking into $RUN"
xz -dc "$HERE/node.xz" >"$RUN/node" && chmod +x "$RUN/node" || { say "cannot unpack node (needs xz)"; exit 1; }
tar -xJf "$HERE/runtime.tar.xz" -C "$RUN" || { say "cannot unpack runtime.tar.xz"; exit 1; }
cp "$HERE/checks.mjs" "$RUN/"
mkdir -p "$RUN/sysroot"
for deb in "$HERE"/debs/*.deb; do
  [ -f "$deb" ] || continue
  if command -v dpkg-deb >/dev/null 2>&1; then dpkg-deb -x "$deb" "$RUN/sysroot"
  else (cd "$RUN" && ar x "$deb" data.tar.xz && tar -xJf data.tar.xz -C sysroot && rm -f data.tar.xz); fi
done
export LD_LIBRARY_PATH="$RUN/sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
say "node $("$RUN/node" --version), bundled Vulkan/GL loaders: $(ls "$RUN/sysroot/usr/lib/x86_64-linux-gnu" 2>/dev/null | grep -c '\.so') libraries"

# The NVIDIA Vulkan ICD: container images put it in different places.
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json; do
    if [ -f "$f" ]; then export VK_DRIVER_FILES="$f"; break; fi
  done
fi
if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ]; then
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
say "VK_DRIVER_FILES=${VK_DRIVER_FILES:-<none found>}"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$LOG"
else say "nvidia-smi: not present"; fi
# The Vulkan devices the loader sees (Dawn picks among these): name, driver, API version.
if [ -x "$RUN/sysroot/usr/bin/vulkaninfo" ]; then
  timeout 30 "$RUN/sysroot/usr/bin/vulkaninfo" --summary >"$OUTDIR/vulkaninfo.txt" 2>&1
  grep -E "deviceName|deviceType|driverName|driverInfo|driverVersion|apiVersion" "$OUTDIR/vulkaninfo.txt" | sed 's/^ */vulkan: /' | tee -a "$LOG"
fi

if [ "$ACCEL" != "cpu" ]; then
  say "== WebGPU adapter (Dawn)"
  "$RUN/node" "$RUN/checks.mjs" --adapter --accelerator webgpu >"$OUTDIR/adapter.log" 2>&1
  # The probe: a training step of the model's op set; a software (CPU-type) adapter is named.
  grep -E "^(vulkan driver|adapter probe):" "$OUTDIR/adapter.log" | head -20 | tee -a "$LOG"
fi

# PyTorch first: its run is short and bounded, and a checks run cut off by a time limit
# must not lose the reference numbers.
if [ "$TORCH" = 1 ] && [ -z "$QUICK" ]; then
  PY=""
  for p in python3 /usr/bin/python3; do
    if "$p" -c "import torch, numpy" >/dev/null 2>&1; then PY="$p"; break; fi
  done
  if [ -n "$PY" ]; then
    REF="$RUN/reference"; cp -r "$HERE/reference" "$REF"
    if "$PY" -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
      say "== PyTorch reference on CUDA ($PY)"
      "$PY" "$REF/bench_torch.py" --device cuda --batch 16 64 256 --out "$RUN/ref-out" >"$OUTDIR/torch.jsonl" 2>>"$LOG"
    else
      say "== PyTorch reference on CPU ($PY; no CUDA)"
      "$PY" "$REF/bench_torch.py" --device cpu --threads "$THREADS" --out "$RUN/ref-out" >"$OUTDIR/torch.jsonl" 2>>"$LOG"
    fi
    cat "$OUTDIR/torch.jsonl" | tee -a "$LOG" >/dev/null
  else
    say "PyTorch reference: no python3 with torch here"
  fi
fi

say "== checks (--accelerator $ACCEL $QUICK $PROFILE)"
start=$(date +%s)
"$RUN/node" "$RUN/checks.mjs" --accelerator "$ACCEL" $QUICK $PROFILE --threads "$THREADS" --out "$OUTDIR" 2>&1 | tee -a "$LOG"
status=${PIPESTATUS[0]}
say "checks exit $status after $(( $(date +%s) - start )) s"

"$RUN/node" "$RUN/checks.mjs" --summarize "$OUTDIR" 2>&1 | tee -a "$LOG"
exit "$status"
