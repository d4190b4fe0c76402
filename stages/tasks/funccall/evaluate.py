"""EdgeFuncCall's evaluation (stages/tasks/registry.py: PIPELINE_PARTS, EVALUATIONS), for the generic
evaluate stage (stages/pipeline/evaluate.py, whose TASK_MODULE is `evaluate`): `mlm`, the
funccall_mlm_evaluate stage. EdgeFuncCall's MLM (its GGUF) is scored by
stages/tasks/funccall/evaluation.py on:

- the test split of our generated data, with each decoding of `funccall.mlm_scoring.decodings`
  (`test_rows` > 0: the first rows of a seeded shuffle);
- each converted BFCL category of `funccall.bfcl` (the funccall_bfcl stage's folder, `bfcl_<category>.jsonl`), free and constrained (`bfcl_rows` > 0:
  the first rows of a seeded shuffle of each), as the outside test.

eval.json: one section per row set ("edgefunccall", "bfcl_simple_python", ...), each with one
section per decoding and its n, plus the model's size and memory; the metric registry's
versions and higher-is-better flags ride along. The tool catalogue's version and SHA-256 are in
the dataset's generate.json and quality.json, so `dvc metrics diff` shows a catalogue change next
to the figures it moved.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.evaluation import Evaluation
from stages.core.params import FuncCallData, Params
from stages.core.records import atomic_dir, write_json

NAME = "funccall"
TITLE = "EdgeFuncCall"


def recipe(p: Params, name: str) -> FuncCallData:
    return P.funccall_data(p, name)


def main(params_path: Path, model: Path, test_file: Path, bfcl_dir: Path, out: Path, predictions_dir: Path | None = None) -> dict[str, Any]:
    """Score the MLM on the test split and on every BFCL category of `funccall.bfcl` in `bfcl_dir`; write eval.json."""
    from stages.tasks.funccall.evaluation import evaluate_calls
    from stages.tasks.funccall.metrics import higher_is_better, versions
    from stages.tasks.funccall.rows import first_of_shuffle, read_call_rows

    p = P.load(params_path)
    cfg = P.funccall_mlm(p)
    sets: list[tuple[str, list[dict[str, Any]], list[str], int]] = []
    test = read_call_rows(Path(test_file))
    sets.append(("edgefunccall", first_of_shuffle(test, cfg.test_rows, cfg.seed), list(cfg.decodings), len(test)))
    for f in [Path(bfcl_dir) / f"bfcl_{c}.jsonl" for c in P.funccall_bfcl(p)]:
        rows = read_call_rows(Path(f))
        sets.append((Path(f).stem, first_of_shuffle(rows, cfg.bfcl_rows, cfg.seed), ["free", "constrained"], len(rows)))
    result: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(atomic_dir(Path(predictions_dir))) if predictions_dir is not None else None
        for name, rows, decodings, available in sets:
            r = evaluate_calls(
                Path(model), rows, decodings, samples=p.funccall.bootstrap_samples, seed=p.funccall.bootstrap_seed, threads=cfg.threads,
                parallel=cfg.parallel, batch_size=cfg.batch_size, n_ctx=cfg.n_ctx, max_new_tokens=cfg.max_new_tokens, max_calls=cfg.max_calls,
                predictions_out=folder / f"{name}.jsonl" if folder is not None else None,
            )  # fmt: skip
            for key in ("size_bytes", "size_mb", "runtime", "threads"):
                result[key] = r.pop(key)
            result[name] = {**r, "rows_available": available}
    result["peak_rss_mb"] = max(v["peak_rss_mb"] for k, v in result.items() if isinstance(v, dict))
    result["metric_versions"] = versions()
    result["higher_is_better"] = higher_is_better()
    write_json(Path(out), result)
    return result


def _mlm(params_path: Path, name: str, i: dict[str, Path], o: dict[str, Path]) -> str:
    r = main(params_path, i["model"], i["test"], i["bfcl"], o["eval"], o.get("predictions"))
    parts = [f"{k} n={v['constrained']['n']} ast {v['constrained']['ast_accuracy']:.3f}" for k, v in r.items() if isinstance(v, dict) and "constrained" in v]
    return f"funccall {name} mlm: constrained " + "; ".join(parts)


EVALUATIONS = {
    "mlm": Evaluation(
        "the MLM's GGUF on the test split and BFCL's categories, free and constrained: AST match",
        _mlm,
        {"model": "the MLM's GGUF (or an HF folder)", "test": "test JSONL (the split stage's --test)", "bfcl": "the converted BFCL folder (funccall_bfcl)"},
        {"eval": "eval.json to write"},
        optional_outputs={"predictions": "a folder for each row set's answers (JSONL)"},
    ),
}
