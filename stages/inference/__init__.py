"""Prompt rendering and the runners: transformers (HF) and llama.cpp (GGUF), their grammars and guards."""
