"""Tasks: each owns its row format, data checks, prompt/answer format, decoding constraint and metrics."""
