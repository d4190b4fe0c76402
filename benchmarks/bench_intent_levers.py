"""python benchmarks/bench_intent_levers.py [--dataset banking77] [--lever top_layers=15] [--lever top_layers=8] [--set epochs=1] [--out benchmarks/results/bench_intent_levers.json]

Training-speed levers that change what is trained (LoRA on the top N layers only, `top_layers`;
the frozen lower layers' output kept across epochs, `cache_lower`), judged as the issue asks: the
task's test figures after the same examples, side by side with the recipe as it is. For each run
(the recipe of `intent.mlm` with `--set`, then each `--lever` on top of it) this runs the stage
commands themselves on the pipeline's own split (data/intent/<d>/: run `dvc repro
intent_split@<d>` first) in a temporary folder: task_train (the same rows and order: the
recipe's seed), task_quantize (merge, GGUF, the quantize gate) and task_evaluate's `mlm`
evaluation (every test row, label-constrained), one after another on this machine. It reports each
run's training tokens/s and wall time (its train.json, real tokens), and its accuracy with the 95%
interval and n; each lever against the recipe: the speed ratio, and the paired difference in
accuracy on the same rows (each row's prediction, McNemar's exact test, stages/core/stats.py).

`--lever` is `key=value[,key=value]`, keys of `intent.mlm` (YAML values). Writes --out with the
command, date, git commit and CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_model import provenance  # noqa: E402

from stages.core.records import write_json  # noqa: E402
from stages.core.stats import paired_test  # noqa: E402


def settings(pairs: list[str]) -> dict[str, Any]:
    """`key=value[,key=value]` entries as a mapping, each value read as YAML."""
    out: dict[str, Any] = {}
    for pair in (p for s in pairs for p in s.split(",") if p):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            sys.exit(f"expected key=value, got {pair!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def stage(argv: list[str], log: Path) -> float:
    """Run one stage command (`python -m stages.commands...`) from the repository root; its wall seconds."""
    t0 = time.perf_counter()
    with log.open("w", encoding="utf-8") as fh:
        res = subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        sys.exit(f"{' '.join(argv[:2])} failed (exit {res.returncode}); see {log}")
    return round(time.perf_counter() - t0, 1)


def one_run(tag: str, changes: dict[str, Any], raw: dict[str, Any], dataset: str, work: Path) -> dict[str, Any]:
    """Train, quantize and score the MLM of `dataset` with `intent.mlm` changed by `changes`."""
    out = work / tag
    out.mkdir()
    params = out / "params.yaml"
    edited = json.loads(json.dumps(raw))
    edited["intent"]["mlm"].update(changes)
    params.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")
    data = ROOT / "data" / "intent" / dataset
    base = ROOT / "models" / "base" / edited["intent"]["mlm"]["base"]
    common = ["--params", str(params), "--task", "intent", "--name", dataset]
    print(f"{tag}: training ({changes or 'the recipe'}) ...", flush=True)
    seconds = {
        "train": stage(["stages.commands.task_train", *common, "--train", str(data / "train.jsonl"), "--base", str(base), "--adapter", str(out / "adapter"),
                        "--checkpoint", str(out / "checkpoint"), "--metrics", str(out / "train.json"), "--live", str(out / "live")], out / "train.log"),
        "quantize": stage(["stages.commands.task_quantize", *common, "--adapter", str(out / "adapter"), "--base", str(base), "--merged", str(out / "merged"),
                           "--test", str(data / "test.jsonl"), "--constraint", str(data / "labels.json"), "--out", str(out / "gguf"),
                           "--metrics", str(out / "quantize.json")], out / "quantize.log"),
    }  # fmt: skip
    qtype = edited["intent"]["mlm_scoring"]["qtype"].lower()
    seconds["evaluate"] = stage(
        ["stages.commands.task_evaluate", *common, "--evaluation", "mlm", "--input", f"model={out / 'gguf' / f'model-{qtype}.gguf'}",
         "--input", f"test={data / 'test.jsonl'}", "--input", f"labels={data / 'labels.json'}", "--output", f"eval={out / 'eval.json'}",
         "--output", f"per_class={out / 'per_class.json'}", "--output", f"predictions={out / 'predictions.jsonl'}"], out / "evaluate.log",
    )  # fmt: skip
    train = json.loads((out / "train.json").read_text(encoding="utf-8"))
    ev = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    keep_train = ("examples", "steps", "tokens", "tokens_per_s", "wall_s", "trainable_params", "final_loss", "mean_loss_last_5", "bf16")
    keep_eval = ("n", "accuracy", "accuracy_ci95", "accuracy_n", "macro_f1", "macro_f1_ci95")
    print(f"{tag}: {train['tokens_per_s']} tokens/s, accuracy {ev['accuracy']} {ev['accuracy_ci95']} n={ev['n']}", flush=True)
    return {
        "changes": changes,
        "train": {k: train[k] for k in keep_train if k in train},
        "eval": {k: ev[k] for k in keep_eval if k in ev},
        "stage_seconds": seconds,
        "correct": {r["id"]: float(r["mlm"] == r["label"]) for r in predictions},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="banking77")
    ap.add_argument("--lever", action="append", default=[], help="key=value[,key=value] of intent.mlm: one run each (repeatable)")
    ap.add_argument("--set", action="append", default=[], help="key=value of intent.mlm for every run, the recipe's included")
    ap.add_argument("--samples", type=int, default=1000, help="bootstrap resamples of each paired difference")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_intent_levers.json")
    a = ap.parse_args()
    if not a.lever:
        sys.exit("give at least one --lever")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    common = settings(a.set)
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="levers-") as tmp:
        runs["recipe"] = one_run("recipe", common, raw, a.dataset, Path(tmp))
        for i, lever in enumerate(a.lever):
            runs[lever] = one_run(f"lever{i}", {**common, **settings([lever])}, raw, a.dataset, Path(tmp))
    ref = runs["recipe"]
    ids = sorted(ref["correct"])
    for name, r in runs.items():
        if r is ref:
            continue
        if sorted(r["correct"]) != ids:
            sys.exit(f"{name}: scored other rows than the recipe")
        r["against_recipe"] = {
            "tokens_per_s_ratio": round(r["train"]["tokens_per_s"] / ref["train"]["tokens_per_s"], 3),
            "wall_s_ratio": round(r["train"]["wall_s"] / ref["train"]["wall_s"], 3),
            "same_examples": r["train"]["examples"] == ref["train"]["examples"] and r["train"]["steps"] == ref["train"]["steps"],
            "accuracy": paired_test([ref["correct"][i] for i in ids], [r["correct"][i] for i in ids], a.samples, 0),
        }
    for r in runs.values():
        r.pop("correct")
    result = {
        **provenance("bench_intent_levers.py"),
        "dataset": a.dataset,
        "recipe": dict(raw["intent"]["mlm"]) | common,
        "note": "every run in this one process, one after another on this machine; accuracy on every test row (Q8_0, label-constrained); "
        "against_recipe.accuracy is lever minus recipe on the same rows",
        "runs": runs,
    }
    write_json(a.out, result)
    print(f"wrote {a.out}", flush=True)


if __name__ == "__main__":
    main()
