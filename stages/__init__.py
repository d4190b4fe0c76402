"""SLMBench: the EdgeJSON benchmark and its micro language models as one DVC stage graph."""

__version__ = "0.1.0"
