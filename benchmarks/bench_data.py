"""python benchmarks/bench_data.py

Throughput of the data half with the real params.yaml recipes, against its targets:

- generate: `stages.tasks.edgejson.generate.run` for v3 (rows_per_schema x 25 schemas, 800 rows with the real
  params), best and median of a few runs, Faker set-up included. Target: >= 2,000 rows/s.
- validate: 1,000 rows (40 per schema, a v3 recipe copy made with dataclasses.replace) gated by
  `stages.tasks.edgejson.gate.run` (row checks, regeneration, the GX suite and Data Docs) in a fresh Python
  subprocess, timed from the parent, so interpreter start-up and `import great_expectations` count.
  Target: 1,000 rows in <= 10 s.

Options: --repeats N (generate runs, default 3), --version v3, --validate-rows-per-schema 40.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GENERATE_TARGET_ROWS_S = 2000.0
VALIDATE_TARGET_ROWS = 1000
VALIDATE_TARGET_S = 10.0

# Runs in the fresh subprocess: everything from the imports on is counted.
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import great_expectations  # noqa: F401  (the dominant import; timed on its own)
t_gx = time.perf_counter()
from pathlib import Path
from stages.core import params as P
from functools import partial
from stages.data.gx import gx_gate
from stages.tasks.edgejson import gate as validate
from stages.core.catalog import load_catalog
from stages.core.records import read_rows
t1 = time.perf_counter()
recipe_json, rows_path, docs_dir, version = sys.argv[1:5]
p = P.load(Path("params.yaml"))
recipe = P.Recipe(**json.loads(recipe_json))
catalog = load_catalog(Path(p.schemas_dir))
rows = read_rows(Path(rows_path))
t2 = time.perf_counter()
result = validate.run(version, recipe, rows, catalog, partial(gx_gate, docs_dir=Path(docs_dir)))
t3 = time.perf_counter()
print(json.dumps({"import_gx_s": t_gx - t0, "import_s": t1 - t0, "load_s": t2 - t1, "run_s": t3 - t2,
                  "rows": len(rows), "accepted": len(result.accepted), "rejected": len(result.quarantine),
                  "passed": result.passed}))
"""


def bench_generate(version: str, repeats: int) -> dict[str, float]:
    from stages.core import params as P
    from stages.core.catalog import load_catalog
    from stages.tasks.edgejson import generate

    p = P.load(REPO / "params.yaml")
    recipe = P.recipe(p, version)
    catalog = load_catalog(REPO / p.schemas_dir)
    times, n = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        rows = generate.run(version, recipe, catalog, progress=False)
        times.append(time.perf_counter() - t)
        n = len(rows)
    return {"rows": n, "best_s": min(times), "median_s": statistics.median(times)}


def bench_validate(version: str, rows_per_schema: int) -> dict[str, float]:
    from stages.core import params as P
    from stages.core.catalog import load_catalog
    from stages.core.records import write_rows
    from stages.tasks.edgejson import generate

    p = P.load(REPO / "params.yaml")
    recipe = dataclasses.replace(P.recipe(p, version), rows_per_schema=rows_per_schema)
    catalog = load_catalog(REPO / p.schemas_dir)
    rows = generate.run(version, recipe, catalog, progress=False)
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        rows_path = Path(tmp) / "generated.jsonl"
        write_rows(rows_path, rows)
        env = {**os.environ, "GX_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-c", CHILD, json.dumps(dataclasses.asdict(recipe)), str(rows_path), str(Path(tmp) / "data_docs"), version]
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"validate subprocess failed ({proc.returncode}):\n{proc.stderr}")
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**child, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="v3")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--validate-rows-per-schema", type=int, default=40)
    args = ap.parse_args()

    g = bench_generate(args.version, args.repeats)
    v = bench_validate(args.version, args.validate_rows_per_schema)

    gen_rate = g["rows"] / g["median_s"]
    val_rate = v["rows"] / v["wall_s"]
    val_target_rate = VALIDATE_TARGET_ROWS / VALIDATE_TARGET_S
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, recipe {args.version} from params.yaml")
    print()
    print(f"{'stage':<10} {'rows':>6} {'seconds':>9} {'rows/s':>9} {'target':>22} {'ratio':>7}  verdict")
    print(
        f"{'generate':<10} {g['rows']:>6} {g['median_s']:>9.3f} {gen_rate:>9.0f} {'>= 2,000 rows/s':>22} "
        f"{gen_rate / GENERATE_TARGET_ROWS_S:>7.2f}  {'meets' if gen_rate >= GENERATE_TARGET_ROWS_S else 'MISSES'}"
    )
    scaled = v["wall_s"] * VALIDATE_TARGET_ROWS / v["rows"]
    print(
        f"{'validate':<10} {v['rows']:>6} {v['wall_s']:>9.3f} {val_rate:>9.0f} {'1,000 rows in <= 10 s':>22} "
        f"{VALIDATE_TARGET_S / scaled:>7.2f}  {'meets' if val_rate >= val_target_rate else 'MISSES'}"
    )
    print()
    print(f"generate: {args.repeats} runs, median {g['median_s']:.3f} s, best {g['best_s']:.3f} s ({g['rows'] / g['best_s']:.0f} rows/s)")
    print(
        f"validate (fresh process, wall {v['wall_s']:.2f} s): import great_expectations {v['import_gx_s']:.2f} s, "
        f"all imports {v['import_s']:.2f} s, load {v['load_s']:.2f} s, validate.run {v['run_s']:.2f} s; "
        f"{v['accepted']} accepted, {v['rejected']} rejected, gate {'passed' if v['passed'] else 'FAILED'}"
    )
    print("ratio: measured / target for generate, 10 s / time-for-1,000-rows for validate; >= 1 meets the target")


if __name__ == "__main__":
    main()
