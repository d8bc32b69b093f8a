#!/usr/bin/env bash
# The GPU check, one script for a machine with an NVIDIA GPU, run from the repository root:
#
#     bash benchmarks/gpu_check.sh
#
# 1. builds facesel with CUDA for this GPU's architecture only (a few minutes; the full list of
#    FACESEL_CUDA_ARCHITECTURES would take longer than the 10 minutes this script is meant for),
# 2. runs the kernel tests (tests/test_gaussian_ll*.py with the CUDA parametrization live, and
#    the fallback tests),
# 3. runs compute-sanitizer memcheck and racecheck over the kernel smoke (every kernel path),
# 4. prints CPU vs GPU-call vs kernel time and GB/s for N = 32, 256, 2048 (L = 10, D = 4096),
# 5. prints crops/s of the whole VAE scorer on the CUDA execution provider against the CPU.
#
# Needs: nvcc and compute-sanitizer (CUDA toolkit), Python with numpy, pybind11,
# scikit-build-core, pytest, onnxruntime (onnxruntime-gpu for step 5's CUDA row). Exits non-zero
# at the first failing step.
set -euo pipefail
started=$(date +%s)
step() { echo; echo "== $1 ($(( $(date +%s) - started )) s)"; }

step "GPU"
echo "facesel commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d ' .')
nvcc --version | tail -n 1

step "build with CUDA for sm_${arch}"
FACESEL_CUDA=ON pip install --no-build-isolation --no-deps -q \
  -C cmake.define.FACESEL_CUDA_ARCHITECTURES="${arch}" -e . > /tmp/facesel_gpu_build.log 2>&1 \
  || { tail -n 40 /tmp/facesel_gpu_build.log; exit 1; }
python -c "import facesel; from facesel import _backend; print('HAS_CUDA', facesel.HAS_CUDA, _backend.cuda_state(0))"
python -c "import facesel, sys; sys.exit(0 if facesel.HAS_CUDA else 1)"

step "kernel tests"
python -m pytest -q -p no:cacheprovider tests/test_gaussian_ll.py tests/test_gaussian_ll_extremes.py \
  tests/test_core_cuda_fallback.py

SANITIZER=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
for tool in memcheck racecheck; do
  step "compute-sanitizer --tool ${tool}"
  "${SANITIZER}" --tool "${tool}" --error-exitcode 1 python benchmarks/gpu_check.py smoke
done

step "reduction: CPU vs GPU call vs kernel"
python benchmarks/gpu_check.py reduction

step "whole scorer: crops/s"
python benchmarks/gpu_check.py scorer

step "done"
