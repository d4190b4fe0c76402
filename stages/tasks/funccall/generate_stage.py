"""EdgeFuncCall's generate stage: requests for calls of the tool catalogue, as JSONL rows.

The rows come from stages/tasks/funccall/generate.py (Faker values in per-tool templates, the
split drawn per template); this stage loads the catalogue, times the generation and writes the
rows (keys in the order built, so each call's arguments keep their canonical order) and their
metrics, each file atomically (stages/core/records.py), so a killed run leaves the old files.
The metrics hold the row mix (per kind, split, domain, surface, and the rows calling each tool
per split),
the templates per split, the generation time and rows per second (the rows only:
loading the catalogue and writing the file are not counted; setting up the generator, Faker's
name pools included, is), and the catalogue's SHA-256 and version, which name the API the rows
were made for.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from stages.core.records import write_json
from stages.tasks.funccall.catalogue import load_catalogue
from stages.tasks.funccall.generate import SURFACES, check_recipe, describe, generate, template_counts
from stages.tasks.funccall.rows import write_call_rows

DEFAULTS: dict[str, Any] = {
    "seed": 20260,
    "rows": 3000,
    "test_fraction": 0.2,
    "none_share": 0.15,
    "parallel_share": 0.15,
    "distractors": (1, 4),
    "similar_share": 0.3,
    "surfaces": list(SURFACES),
}


def main(
    tools_dir: Path,
    out: Path,
    metrics: Path,
    *,
    seed: int = DEFAULTS["seed"],
    rows: int = DEFAULTS["rows"],
    test_fraction: float = DEFAULTS["test_fraction"],
    none_share: float = DEFAULTS["none_share"],
    parallel_share: float = DEFAULTS["parallel_share"],
    distractors: tuple[int, int] = DEFAULTS["distractors"],
    similar_share: float = DEFAULTS["similar_share"],
    surfaces: list[str] | None = None,
    teacher: Any = None,
    teacher_fraction: float = 0.0,
    teacher_cache: Path | None = None,
) -> dict[str, Any]:
    """Generate `rows` rows over the catalogue in `tools_dir` into `out` (JSONL); metrics JSON to `metrics`. Returns the metrics."""
    surfaces = list(DEFAULTS["surfaces"]) if surfaces is None else list(surfaces)
    check_recipe(rows, test_fraction, none_share, parallel_share, tuple(distractors), similar_share, surfaces)  # type: ignore[arg-type]
    distractors = (int(distractors[0]), int(distractors[1]))  # params.yaml gives a list
    catalogue = load_catalogue(Path(tools_dir))
    start = time.perf_counter()
    made, counts = generate(
        catalogue, seed=seed, rows=rows, test_fraction=test_fraction, none_share=none_share, parallel_share=parallel_share,
        distractors=distractors, similar_share=similar_share, surfaces=surfaces,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    teacher_stats: dict[str, Any] = {"enabled": 0, "rows_sent": 0, "teacher_rows": 0}
    if teacher is not None:
        from stages.tasks.funccall.teacher import paraphrase

        made, teacher_stats = paraphrase(made, teacher, teacher_fraction, seed, teacher_cache)
    if teacher_cache is not None and not Path(teacher_cache).exists():
        from stages.inference.teacher import Cache

        Cache(teacher_cache).save()  # an empty cache: the stage always has its outputs
    write_call_rows(out, made)
    report: dict[str, Any] = {
        "recipe": {
            "seed": seed, "rows": rows, "test_fraction": test_fraction, "none_share": none_share, "parallel_share": parallel_share,
            "distractors": list(distractors), "similar_share": similar_share, "surfaces": surfaces,
        },
        **describe(made, catalogue),
        "rows_with_similar_distractor": counts.get("rows_with_similar_distractor", 0),
        "optional_mentions": counts.get("optional_mentions", 0),
        "templates_by_split": template_counts(catalogue, test_fraction),
        "tools": len(catalogue.tools),
        "domains": len(catalogue.domains),
        "catalogue_sha256": catalogue.sha256,
        "catalogue_version": catalogue.version,
        "generation_seconds": round(seconds, 4),
        "rows_per_s": round(rows / seconds, 1) if seconds > 0 else None,
        "teacher": teacher_stats,
    }  # fmt: skip
    write_json(metrics, report)
    return report


def main_params(name: str, params_path: Path, tools_dir: Path, out: Path, metrics: Path, teacher_cache: Path | None = None) -> dict[str, Any]:
    """`slmbench funccall-generate`: `main` with the recipe `funccall.datasets.<name>` and the `teacher` settings of params.yaml."""
    from stages.core import params as P

    p = P.load(params_path)
    d = P.funccall_data(p, name)
    return main(
        tools_dir, out, metrics, seed=d.seed, rows=d.rows, test_fraction=d.test_fraction, none_share=d.none_share, parallel_share=d.parallel_share,
        distractors=(d.distractors[0], d.distractors[1]), similar_share=d.similar_share, surfaces=d.surfaces,
        teacher=p.teacher, teacher_fraction=d.teacher_fraction, teacher_cache=teacher_cache,
    )  # fmt: skip
