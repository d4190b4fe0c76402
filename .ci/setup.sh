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
.venv/bin/python -m pip install --quiet -e '.[test]'
echo "setup done: activate with '. .venv/bin/activate'"
