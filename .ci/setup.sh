#!/usr/bin/env bash
# bash .ci/setup.sh [--tests]
# Set up SLMBench on a fresh machine with Python 3.11: a virtual environment at .venv in the
# repo root with the package (editable), the pipeline's dependencies and the test tools.
# --tests also installs what the tests need beyond that, so that none of them can skip:
# chromium (the browser tests) and vLLM's own environment at .venv-teacher (.ci/teacher.sh).
# The README's test command and .ci/run both call it this way. Safe to rerun: pip skips what is
# already installed, and each extra is skipped when it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
TESTS=0
for arg in "$@"; do
  case "$arg" in
    --tests) TESTS=1 ;;
    *) echo "setup.sh: unknown argument '$arg' (expected: --tests or nothing)" >&2; exit 2 ;;
  esac
done
if [ "$TESTS" = 1 ]; then
  # First, so a machine that cannot get chromium fails in seconds rather than after the build.
  bash .ci/chromium.sh
fi
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# llama-cpp-python builds from source (a few minutes, once; pip caches the wheel).
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
# SLMBench uses llama.cpp for text only: skip the multimodal library (mtmd), which the Python
# package loads only for vision chat handlers. The CPU kernels are built for AVX2 (not
# -march=native): machines here differ (AVX2-only and AVX512 with AMX), pip's wheel cache does
# not know the flags a wheel was built with, and llama.cpp's AMX kernels die with SIGILL in
# some virtual machines. A CMAKE_ARGS of your own replaces this.
export CMAKE_ARGS=${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}
.venv/bin/python -m pip install --quiet -e '.[test]'
# A cached wheel built elsewhere (or natively, with AMX) may not run here: check a real decode
# in a child process, and rebuild once without the cached wheel if it fails.
if ! .venv/bin/python .ci/llama_check.py >/dev/null 2>&1; then
  echo "setup: the installed llama-cpp-python does not run on this CPU; rebuilding it (a few minutes)" >&2
  .venv/bin/python -m pip cache remove 'llama_cpp_python*' >/dev/null 2>&1 || true
  .venv/bin/python -m pip install --quiet --force-reinstall --no-deps 'llama-cpp-python==0.3.36'
  .venv/bin/python .ci/llama_check.py
fi
# llama.cpp's official HF -> GGUF converter comes from the llama-cpp-python sdist of the pinned
# version; it is placed inside the venv, never committed.
CONV=.venv/share/slmbench/llama.cpp
if [ ! -f "$CONV/convert_hf_to_gguf.py" ]; then
  tmp=$(mktemp -d)
  .venv/bin/python -m pip download --quiet --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d "$tmp"
  tar -xzf "$tmp"/llama_cpp_python-0.3.36.tar.gz -C "$tmp" \
    llama_cpp_python-0.3.36/vendor/llama.cpp/convert_hf_to_gguf.py \
    llama_cpp_python-0.3.36/vendor/llama.cpp/conversion \
    llama_cpp_python-0.3.36/vendor/llama.cpp/gguf-py \
    llama_cpp_python-0.3.36/vendor/llama.cpp/LICENSE
  mkdir -p "$CONV"
  cp -r "$tmp"/llama_cpp_python-0.3.36/vendor/llama.cpp/. "$CONV"/
  rm -rf "$tmp"
fi
bash .ci/plots.sh  # vega (.ci/vega.sh: for the leaderboard's site/ too) and offline `dvc plots show`: vega inlined into a page template in the venv
bash .ci/datadocs.sh  # offline Data Docs: the web libraries GX's pages load, copied into each site by `validate`
bash .ci/web.sh  # onnxruntime-web for the NLM's browser page (web/intent/), from the npm registry, into the venv
bash .ci/bfcl.sh  # BFCL (EdgeFuncCall's outside test): its data and AST checker from the bfcl-eval wheel, into the venv
if [ "$TESTS" = 1 ]; then
  bash .ci/teacher.sh  # vLLM in .venv-teacher: tests/teacher/test_teacher_vllm.py fails without it
fi
echo "setup done: activate with '. .venv/bin/activate'"
