"""`slmbench generate --version v3 --out data/v3/generated.jsonl`: Faker rows for one dataset version.

Rows for every schema in the catalog, `rows_per_schema` each, in a fixed order, so the same
params give a byte-identical file. Teacher paraphrasing is not built: the recipe's
`teacher_fraction` must be 0 while `teacher.backend` is none (params.py enforces it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm import tqdm

from stages.catalog import SchemaEntry
from stages.params import Recipe
from stages.templates.rows import RowMaker


def run(version: str, recipe: Recipe, catalog: dict[str, SchemaEntry], progress: bool = True) -> list[dict[str, Any]]:
    maker = RowMaker(version, recipe.seed, recipe.generator, recipe.surfaces)
    slots = [(catalog[sid], i) for sid in sorted(catalog) for i in range(recipe.rows_per_schema)]
    return [maker.make(entry, i) for entry, i in tqdm(slots, desc=f"generate {version}", unit="row", disable=not progress)]


def main(version: str, params_path: Path, out: Path) -> int:
    from stages import params as P
    from stages.catalog import load_catalog
    from stages.records import write_rows

    p = P.load(params_path)
    recipe = P.recipe(p, version)
    rows = run(version, recipe, load_catalog(Path(p.schemas_dir)))
    return write_rows(out, rows)
