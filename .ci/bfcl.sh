#!/usr/bin/env bash
# The Berkeley Function Calling Leaderboard (BFCL), EdgeFuncCall's outside test: fetched once as
# the bfcl-eval wheel with pip (no install: the package pins numpy, tree-sitter and a dozen model
# clients) and unpacked with Python's zipfile into the venv, never committed. Kept, in the wheel's
# package layout under .venv/share/slmbench/bfcl/bfcl_eval/:
# - data/: the three AST categories SLMBench reads (simple_python, multiple, irrelevance), their
#   possible_answer files and the data README;
# - BFCL's own AST checker (eval_checker/ast_eval/) and the constants it imports, which the tests
#   run next to stages/tasks/funccall/scoring.py to check that the port agrees with it.
# LICENSE-NOTE records the wheel's name, version, licence (Apache 2.0) and project URL.
# Safe to rerun: skipped when LICENSE-NOTE names this version and the files are there.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=2026.3.23
OUT=.venv/share/slmbench/bfcl
CATEGORIES=(simple_python multiple irrelevance)

have_all() {
  grep -qx "Version: $VERSION" "$OUT/LICENSE-NOTE" 2>/dev/null || return 1
  [ -s "$OUT/bfcl_eval/eval_checker/ast_eval/ast_checker.py" ] || return 1
  for c in "${CATEGORIES[@]}"; do
    [ -s "$OUT/bfcl_eval/data/BFCL_v4_$c.json" ] || return 1
    [ "$c" = irrelevance ] || [ -s "$OUT/bfcl_eval/data/possible_answer/BFCL_v4_$c.json" ] || return 1
  done
}

if ! have_all; then
  [ -x .venv/bin/python ] || { echo "bfcl.sh: .venv/bin/python not found; run bash .ci/setup.sh" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  .venv/bin/python -m pip download --quiet --no-deps "bfcl-eval==$VERSION" -d "$tmp"
  VERSION=$VERSION STAGE="$tmp/bfcl" WHEEL_DIR="$tmp" .venv/bin/python - "${CATEGORIES[@]}" <<'PY'
import os
import sys
import zipfile
from pathlib import Path

version, stage, wheel_dir = os.environ["VERSION"], Path(os.environ["STAGE"]), Path(os.environ["WHEEL_DIR"])
categories = sys.argv[1:]
[wheel] = wheel_dir.glob(f"bfcl_eval-{version}-*.whl")
data = [f"bfcl_eval/data/BFCL_v4_{c}.json" for c in categories] + ["bfcl_eval/data/README.md"]
answers = [f"bfcl_eval/data/possible_answer/BFCL_v4_{c}.json" for c in categories if c != "irrelevance"]
checker = [
    "bfcl_eval/__init__.py",
    "bfcl_eval/constants/__init__.py",
    "bfcl_eval/constants/enums.py",
    "bfcl_eval/constants/type_mappings.py",
    "bfcl_eval/eval_checker/__init__.py",
]
with zipfile.ZipFile(wheel) as zf:
    names = zf.namelist()
    wanted = data + answers + checker + [n for n in names if n.startswith("bfcl_eval/eval_checker/ast_eval/") and not n.endswith("/")]
    missing = sorted(set(wanted) - set(names))
    if missing:
        sys.exit(f"bfcl.sh: {wheel.name} lacks {', '.join(missing)}")
    for name in wanted:
        target = stage / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(zf.read(name))
    meta = zf.read(f"bfcl_eval-{version}.dist-info/METADATA").decode("utf-8")
head = meta.split("\n\n", 1)[0].splitlines()
fields = {key: [line.split(": ", 1)[1] for line in head if line.startswith(key + ": ")] for key in ("Name", "Version", "License", "Project-URL")}
if fields["License"] != ["Apache 2.0"]:
    sys.exit(f"bfcl.sh: {wheel.name} METADATA License is {fields['License']}; expected ['Apache 2.0']")
note = [f"{key}: {value}" for key in ("Name", "Version", "License") for value in fields[key]]
note += [f"Project-URL: {value}" for value in fields["Project-URL"]]
note += [
    "",
    f"Extracted from {wheel.name} by .ci/bfcl.sh: BFCL data files and the AST checker sources, unmodified.",
    "BFCL is licensed under the Apache License 2.0; SLMBench's port of its AST rules is stages/tasks/funccall/scoring.py.",
]
(stage / "LICENSE-NOTE").write_text("\n".join(note) + "\n", encoding="utf-8")
PY
  mkdir -p "$(dirname "$OUT")"
  rm -rf "$OUT"
  mv "$tmp/bfcl" "$OUT"
  echo "bfcl.sh: bfcl-eval $VERSION data and AST checker in $OUT"
fi
