"""A process's own peak memory, for the evaluation workers of every task."""

from __future__ import annotations

import resource
import sys


def peak_rss_mb() -> float:
    """This process's peak resident set, MB: VmHWM, the high-water mark of its own address space.
    (`ru_maxrss` would not do in a spawned worker: Linux carries the parent's peak over fork and exec.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 2**20 if sys.platform == "darwin" else ru / 1024  # bytes on macOS, kB elsewhere
