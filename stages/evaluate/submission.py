"""Leaderboard submissions: a scored outside model, as one small JSON file under leaderboard/submissions/.

    slmbench evaluate --model my.gguf --data data/v4/test.jsonl --constrained --out out.json --submit my-model

writes `leaderboard/submissions/edgejson-v4-my-model.json` (`make_submission`), which holds:
- `name`, `task`, `dataset` (the leaderboard table it belongs to) and `decoding`;
- `split_sha256`: the sha256 of the test file it was scored on (the leaderboard shows it only while
  that is the table's current split) and `n`, the rows scored;
- `metrics`: each registry metric the evaluation gave, `{"value", "ci95": [lo, hi], "n"}`, and
  `metric_versions`, the registry's version of each (another version is flagged, not mixed in);
- `model`: the file's sha256 (a folder: the sha256 of its files' names and hashes), size, parameter
  count when known (GGUF tensors, safetensors headers), runtime and quantization, and the `base`
  and `licence` given;
- `speed`: tokens/s, p50 latency and peak memory, where the evaluation measured them;
- `predictions_sha256`: the per-row predictions stay out of git; their file's hash is kept;
- `slmbench_commit`: the commit of this repository it was scored at (`-dirty` with local changes).

`load_submission` checks a file before the leaderboard uses it; each of these is one line naming
the file and key: more than 1 MB, not JSON, a missing key, a metric the task's registry does not
know, a hash that is not 64 hex digits, and a NaN or infinite number anywhere.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
from pathlib import Path
from typing import Any

from stages.core.board import folder_params, sha256_file
from stages.core.errors import SLMBenchError
from stages.core.params import Params
from stages.tasks import registry as task_registry

FORMAT = 1
MAX_BYTES = 1 << 20
HEX64 = re.compile(r"[0-9a-f]{64}")
REQUIRED = (
    "format", "name", "task", "dataset", "decoding", "split_sha256", "n", "metrics", "metric_versions", "model", "speed",
    "predictions_sha256", "slmbench_commit",
)  # fmt: skip
MODEL_REQUIRED = ("file", "sha256", "size_bytes", "size_mb", "params", "runtime", "quantization", "base", "licence")
SPEED_KEYS = ("tokens_per_s", "latency_ms_p50", "peak_rss_mb")
REPO = Path(__file__).resolve().parents[2]


def task_titles() -> dict[str, str]:
    """Every registered task: name -> display name."""
    return {t.NAME: t.TITLE for t in task_registry.tasks()}


def registry(task: str) -> dict[str, int]:
    """The metric registry of a task: metric name -> its definition's version."""
    return task_registry.get(task, "task").metric_versions()


def gguf_params(path: Path) -> int | None:
    """The parameter count of a GGUF file (its tensors' elements), None when there is no file."""
    if not Path(path).is_file():
        return None
    from gguf import GGUFReader

    return int(sum(int(t.n_elements) for t in GGUFReader(str(path)).tensors))


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s[:80] or "model"


def test_splits(p: Params, task: str) -> dict[str, Path]:
    """The leaderboard's test files of a task: dataset -> path (its task.py's `test_splits`)."""
    return task_registry.get(task).test_splits(p)


def match_dataset(p: Params, task: str, data: Path, root: Path = Path(".")) -> tuple[str, str]:
    """(dataset, sha256) of the leaderboard test file `data` is (same path or same bytes), else a one-line error."""
    digest = sha256_file(data)
    splits = test_splits(p, task)
    for name, path in splits.items():
        full = root / path
        if full.is_file() and (full.resolve() == Path(data).resolve() or sha256_file(full) == digest):
            return name, digest
    known = ", ".join(str(v) for v in splits.values()) or "none in params.yaml"
    raise SLMBenchError(f"--submit: {data} is not one of the leaderboard's {task} test splits ({known}); score on one of them (run `dvc repro` to build them)")


def model_identity(model: Path, base: str | None, licence: str | None) -> dict[str, Any]:
    """sha256, size, parameter count, runtime and quantization of a GGUF file, an HF directory or an NLM folder."""
    model = Path(model)
    if model.is_file():
        files = [model]
        digest = sha256_file(model)
    elif model.is_dir():
        files = sorted(f for f in model.rglob("*") if f.is_file())
        h = hashlib.sha256()
        for f in files:
            h.update(f"{f.relative_to(model).as_posix()}\0{sha256_file(f)}\n".encode())
        digest = h.hexdigest()
    else:
        raise SLMBenchError(f"{model}: model not found; expected a .gguf file, an HF directory or an NLM folder")
    size = sum(f.stat().st_size for f in files)
    params: int | None = None
    if model.suffix == ".gguf":
        runtime, params = "llama.cpp", gguf_params(model)
        quant = _gguf_quant(model)
    elif model.suffix == ".onnx" or (model.is_dir() and (model / "nlm.json").is_file()):
        nlm_json = (model if model.is_dir() else model.parent) / "nlm.json"
        runtime, quant = "onnxruntime", "int8" if "int8" in nlm_json.read_text(encoding="utf-8") else "fp32"
    else:
        runtime, params = "transformers", folder_params(model)
        config_file = model / "config.json"
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
        quant = str(config.get("torch_dtype") or config.get("dtype") or "unknown")
    return {
        "file": model.name,
        "sha256": digest,
        "size_bytes": size,
        "size_mb": round(size / 1e6, 6),
        "params": params,
        "runtime": runtime,
        "quantization": quant,
        "base": base,
        "licence": licence,
    }


def _gguf_quant(path: Path) -> str:
    from gguf import GGUFReader, LlamaFileType

    field = GGUFReader(str(path)).fields.get("general.file_type")
    if field is None:
        return "unknown"
    value = int(field.parts[field.data[0]][0])
    try:
        return LlamaFileType(value).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"file_type {value}"


def commit() -> str:
    """The repository's commit (with `-dirty` when tracked files changed), or `unknown` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def metrics_of(task: str, result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The registry metrics of one evaluation's result, as {value, ci95, n}."""
    out = {}
    for m in registry(task):
        if m not in result:
            continue
        lo, hi = result[f"{m}_ci95"]  # every task's one metrics layout: m, m_ci95, m_n
        out[m] = {"value": float(result[m]), "ci95": [float(lo), float(hi)], "n": int(result.get(f"{m}_n", result["n"]))}
    return out


def make_submission(
    p: Params, name: str, task: str, decoding: str, result: dict[str, Any], data: Path, model: Path, predictions: Path,
    out_dir: Path, base: str | None = None, licence: str | None = None, root: Path = Path("."),
) -> Path:  # fmt: skip
    """Write the submission file for one evaluation (atomically), after checking it as the leaderboard will.
    `root` is the repository the test split paths are relative to."""
    from stages.core.records import write_json

    if not name.strip():
        raise SLMBenchError("--submit: expected a model name, got an empty one")
    dataset, split = match_dataset(p, task, Path(data), root)
    metrics = metrics_of(task, result)
    sub = {
        "format": FORMAT,
        "name": name,
        "task": task,
        "dataset": dataset,
        "decoding": decoding,
        "split_sha256": split,
        "n": int(result["n"]),
        "metrics": metrics,
        "metric_versions": {m: v for m, v in registry(task).items() if m in metrics},
        "model": model_identity(model, base, licence),
        "speed": {k: (float(result[k]) if result.get(k) is not None else None) for k in SPEED_KEYS},
        "predictions_sha256": sha256_file(predictions),
        "slmbench_commit": commit(),
    }
    path = Path(out_dir) / f"{task}-{slug(dataset)}-{slug(name)}.json"
    check(sub, str(path))
    write_json(path, sub)
    return path


def _finite(value: Any, where: str, key: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise SLMBenchError(f"{where}: {key}: {value}; expected a finite number")
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, where, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(v, where, f"{key}[{i}]")


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SLMBenchError(f"{where}: {key}: expected a number, got {value!r}")
    return float(value)


def check(sub: Any, where: str) -> dict[str, Any]:
    """A submission's content, checked; a one-line SLMBenchError naming `where` and the key otherwise."""
    if not isinstance(sub, dict):
        raise SLMBenchError(f"{where}: expected a JSON object (a submission), got {type(sub).__name__}")
    _finite(sub, where, "")
    missing = [k for k in REQUIRED if k not in sub]
    if missing:
        raise SLMBenchError(f"{where}: missing key {missing[0]}; a submission has {', '.join(REQUIRED)}")
    if sub["format"] != FORMAT:
        raise SLMBenchError(f"{where}: format: expected {FORMAT}, got {sub['format']!r}")
    for key in ("name", "dataset", "decoding", "slmbench_commit"):
        if not isinstance(sub[key], str) or not sub[key]:
            raise SLMBenchError(f"{where}: {key}: expected a non-empty string, got {sub[key]!r}")
    if sub["task"] not in task_titles():
        raise SLMBenchError(f"{where}: task: expected one of {', '.join(task_titles())}, got {sub['task']!r}")
    for key, value in (("split_sha256", sub["split_sha256"]), ("predictions_sha256", sub["predictions_sha256"])):
        if not isinstance(value, str) or not HEX64.fullmatch(value):
            raise SLMBenchError(f"{where}: {key}: expected 64 hex digits (a sha256), got {value!r}")
    if isinstance(sub["n"], bool) or not isinstance(sub["n"], int) or sub["n"] < 1:
        raise SLMBenchError(f"{where}: n: expected a positive row count, got {sub['n']!r}")
    known = registry(sub["task"])
    if not isinstance(sub["metrics"], dict) or not sub["metrics"]:
        raise SLMBenchError(f"{where}: metrics: expected an object of metric -> {{value, ci95, n}}")
    for m, fig in sub["metrics"].items():
        if m not in known:
            raise SLMBenchError(f"{where}: metrics.{m}: not a metric of the {sub['task']} registry ({', '.join(known)})")
        if not isinstance(fig, dict) or any(k not in fig for k in ("value", "ci95", "n")):
            raise SLMBenchError(f"{where}: metrics.{m}: expected an object with value, ci95 and n")
        value = _number(fig["value"], where, f"metrics.{m}.value")
        ci = fig["ci95"]
        if not isinstance(ci, list) or len(ci) != 2:
            raise SLMBenchError(f"{where}: metrics.{m}.ci95: expected [low, high], got {ci!r}")
        lo, hi = (_number(c, where, f"metrics.{m}.ci95") for c in ci)
        if not lo <= value <= hi:
            raise SLMBenchError(f"{where}: metrics.{m}: value {value} is outside its interval [{lo}, {hi}]")
        if isinstance(fig["n"], bool) or not isinstance(fig["n"], int) or fig["n"] < 1:
            raise SLMBenchError(f"{where}: metrics.{m}.n: expected a positive row count, got {fig['n']!r}")
    versions = sub["metric_versions"]
    if not isinstance(versions, dict):
        raise SLMBenchError(f"{where}: metric_versions: expected an object of metric -> version")
    for m in sub["metrics"]:
        if isinstance(versions.get(m), bool) or not isinstance(versions.get(m), int):
            raise SLMBenchError(f"{where}: metric_versions.{m}: expected the integer version the metric was scored with")
    model = sub["model"]
    if not isinstance(model, dict):
        raise SLMBenchError(f"{where}: model: expected an object")
    missing = [k for k in MODEL_REQUIRED if k not in model]
    if missing:
        raise SLMBenchError(f"{where}: missing key model.{missing[0]}")
    if not isinstance(model["sha256"], str) or not HEX64.fullmatch(model["sha256"]):
        raise SLMBenchError(f"{where}: model.sha256: expected 64 hex digits (a sha256), got {model['sha256']!r}")
    _number(model["size_mb"], where, "model.size_mb")
    if model["params"] is not None:
        _number(model["params"], where, "model.params")
    if not isinstance(sub["speed"], dict):
        raise SLMBenchError(f"{where}: speed: expected an object of {', '.join(SPEED_KEYS)}")
    for k, v in sub["speed"].items():
        if v is not None:
            _number(v, where, f"speed.{k}")
    return sub


def load_submission(path: Path) -> dict[str, Any]:
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SLMBenchError(f"{path}: {size} bytes; a submission is at most 1 MB ({MAX_BYTES} bytes): per-row predictions stay out of it")
    try:
        sub = json.loads(path.read_text(encoding="utf-8"), parse_constant=float)
    except UnicodeDecodeError as exc:
        raise SLMBenchError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    return check(sub, str(path))


def load_submissions(folder: Path) -> list[dict[str, Any]]:
    """Every `*.json` of the folder, checked, sorted by file name (none when the folder is absent)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [dict(load_submission(f), file=f.name) for f in sorted(folder.glob("*.json"))]


def as_row(sub: dict[str, Any]) -> dict[str, Any]:
    """A checked submission as a leaderboard row (stages/evaluate/leaderboard.py)."""
    model = sub["model"]
    return {
        "model": sub["name"],
        "source": "submission",
        "variant": f"{model['runtime']} {model['quantization']}",
        "runtime": model["runtime"],
        "quantization": model["quantization"],
        "decoding": sub["decoding"],
        "metrics": sub["metrics"],
        "card": None,
        "size_mb": model["size_mb"],
        "params": model["params"],
        "n": sub["n"],
        "commit": sub["slmbench_commit"][:12] + ("-dirty" if sub["slmbench_commit"].endswith("-dirty") else ""),
        "breakdown": [],
        "base": model.get("base"),
        "licence": model.get("licence"),
        "model_sha256": model["sha256"],
        "submission_file": sub.get("file"),
        **{k: sub["speed"].get(k) for k in SPEED_KEYS},
    }


def precheck(params_path: Path, task: str, data: Path, name: str) -> None:
    """What `--submit` needs, checked before any scoring: a name, and DATA one of the leaderboard's test splits."""
    from stages.core import params as P

    if not name.strip():
        raise SLMBenchError("--submit: expected a model name, got an empty one")
    match_dataset(P.load(params_path), task, Path(data))


def submit_main(
    params_path: Path, name: str, task: str, decoding: str, result: dict[str, Any], data: Path, model: Path, predictions: Path,
    out_dir: Path, base: str | None, licence: str | None,
) -> Path:  # fmt: skip
    from stages.core import params as P

    return make_submission(P.load(params_path), name, task, decoding, result, data, model, predictions, out_dir, base, licence)
