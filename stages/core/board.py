"""The leaderboard's building blocks, shared by every task's tables (stages/tasks/<task>/task.py)
and the leaderboard itself (stages/evaluate/leaderboard.py): reading a metrics file, a figure with
its interval and n, a table and a row in the one shape the site renders, the sha256 of a test
split, and a model folder's parameter count."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SLMBenchError(f"{path}: file not found; run `dvc repro` first") from None
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
        raise SLMBenchError(f"{path}: file not found; run `dvc repro` (or `dvc pull`) first") from None
    return h.hexdigest()


def safetensors_params(path: Path) -> int:
    with Path(path).open("rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(size))
    return sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__")


def folder_params(folder: Path) -> int | None:
    """The parameter count of an HF model folder, from its safetensors headers (None without weights)."""
    weights = sorted(Path(folder).glob("*.safetensors"))
    return sum(safetensors_params(w) for w in weights) if weights else None


def figure(value: Any, lo: Any, hi: Any, n: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": float(value), "ci95": [float(lo), float(hi)], "n": int(n)}


def new_table(task: str, dataset: str, title: str, split: Path, root: Path, version: str, metrics: tuple[str, ...], breakdown: str) -> dict[str, Any]:
    return {
        "id": f"{task}-{dataset}",
        "task": task,
        "dataset": dataset,
        "title": title,
        "dataset_version": version,
        "split_file": str(split),
        "split_sha256": sha256_file(root / split),
        "metrics": list(metrics),
        "primary": metrics[0],
        "breakdown": breakdown,
        "rows": [],
        "stale": [],
    }


def new_row(model: str, source: str, runtime: str, quant: str, decoding: str, metrics: dict[str, Any], card: str | None, **extra: Any) -> dict[str, Any]:
    row = {
        "model": model,
        "source": source,
        "variant": f"{runtime} {quant}" if quant not in ("", "none") else runtime,
        "runtime": runtime,
        "quantization": quant,
        "decoding": decoding,
        "metrics": {k: v for k, v in metrics.items() if v is not None},
        "card": card,
        "size_mb": None,
        "params": None,
        "tokens_per_s": None,
        "latency_ms_p50": None,
        "peak_rss_mb": None,
        "n": None,
        "commit": "this build",
        "breakdown": [],
    }
    row.update(extra)
    return row


def lora_label(base: str, role: str) -> str:
    """A fine-tuned model's display name from its params: the base's key, then what it was tuned as."""
    return f"{base} LoRA ({role})"
