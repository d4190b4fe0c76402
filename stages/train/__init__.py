"""Model stages: the base checkpoint, LoRA training, GGUF conversion and quantization."""
