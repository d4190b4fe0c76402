#!/usr/bin/env bash
# Set up SLMBench on a fresh machine with Python 3.11: a virtual environment at .venv in the
# repo root with the package (editable), the pipeline's dependencies and the test tools.
# Safe to rerun: pip skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# llama-cpp-python builds from source (a few minutes, once; pip caches the wheel).
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
# SLMBench uses llama.cpp for text only: skip the multimodal library (mtmd), which the Python
# package loads only for vision chat handlers. A CMAKE_ARGS of your own replaces this.
export CMAKE_ARGS=${CMAKE_ARGS:--DLLAVA_BUILD=OFF}
.venv/bin/python -m pip install --quiet -e '.[test]'
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
bash .ci/plots.sh  # offline `dvc plots show`: vega inlined into a page template in the venv
echo "setup done: activate with '. .venv/bin/activate'"
