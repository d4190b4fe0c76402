"""`python -m stages.commands.funccall_mlm_evaluate`: the funccall_mlm_evaluate stage. EdgeFuncCall's MLM (its GGUF) is
scored by stages/evaluate/funccall.py on:

- the test split of our generated data, with each decoding of `funccall.mlm.decodings`
  (`test_rows` > 0: the first rows of a seeded shuffle);
- each converted BFCL category (the bfcl stage's rows), free and constrained (`bfcl_rows` > 0:
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

from stages.core.records import atomic_dir, write_json


def main(params_path: Path, model: Path, test_file: Path, bfcl_files: list[Path], out: Path, predictions_dir: Path | None = None) -> dict[str, Any]:
    from stages.core import params as P
    from stages.evaluate.funccall import evaluate_calls
    from stages.tasks.funccall.metrics import higher_is_better, versions
    from stages.tasks.funccall.rows import first_of_shuffle, read_call_rows

    p = P.load(params_path)
    cfg = P.funccall_mlm(p)
    sets: list[tuple[str, list[dict[str, Any]], list[str], int]] = []
    test = read_call_rows(Path(test_file))
    sets.append(("edgefunccall", first_of_shuffle(test, cfg.test_rows, cfg.seed), list(cfg.decodings), len(test)))
    for f in bfcl_files:
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
