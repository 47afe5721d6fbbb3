#!/usr/bin/env bash
# The CUDA backend's benchmark on a GPU machine, in one go (~5-8 min):
#     bash benchmarks/bench_cuda.sh [OUT_DIR]      (default: $OUT, else benchmarks/results/cuda_run)
# Needs, installed before the machine goes offline: the project's dependencies (make setup) and
# numba-cuda's CUDA compiler libraries: .venv/bin/pip install 'numba-cuda[cu12]==0.30.4' (or
# [cu13] for a CUDA 13 driver). Exits at once with status 2 and one line if any is missing.
# Every measurement is appended to OUT_DIR/bench_cuda.jsonl as soon as it is made (a run cut
# off keeps its lines); golden_64.npz holds the GPU and CPU stress curves and strain snapshots.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-benchmarks/results/cuda_run}}
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
mkdir -p "$out"
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || echo "no nvidia-smi" > "$out/nvidia-smi.txt"
PYTHONUNBUFFERED=1 timeout 500 "$py" benchmarks/bench_cuda.py --out "$out" --budget-s 420 \
    2>&1 | tee -a "$out/bench_cuda.log"
exit "${PIPESTATUS[0]}"
