"""The one error type for bad input: the CLI prints its message on one line and exits non-zero."""


class SLMBenchError(Exception):
    """Bad input or a failed gate. The message names the file, line or key and what was expected."""
