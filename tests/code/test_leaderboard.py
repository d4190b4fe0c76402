"""The leaderboard's tables, submissions and pages, on the repo's own metrics files.

A temporary root holds a copy of the committed metrics (every task's eval.json), params.yaml,
data/sources and small test files in place of the test splits (the tables hash them). On it:
- every figure of every table is the metrics file's, with its interval and n, and the Pareto
  frontier is the set of rows no other row beats on both size and quality;
- a real submission: a tiny NLM scored by `slmbench evaluate --task intent --submit` on a table's
  test file, which the leaderboard then shows as a row; a submission on another split hash is
  stale and one with another metric version is flagged, each with its reason;
- each bad submission (a missing key, an unknown metric, a bad hash, a NaN, over 1 MB) stops
  `slmbench leaderboard` with one line naming the file and key, and the previous site stays whole;
- submitted text is escaped in the pages and in their JSON.
The same site in a real browser, built by `dvc repro`, is tests/dvc/test_releases.py's.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from intent_models import tiny_nlm

from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.evaluate import leaderboard as L
from stages.evaluate import site
from stages.evaluate import submission as S

REPO = Path(__file__).resolve().parents[2]
SPLITS = [
    "data/v4/test.jsonl", "data/intent/banking77/test.jsonl", "data/intent/clinc150/test.jsonl", "data/funccall/edgefunccall/test.jsonl",
    "data/funccall/edgefunccall/bfcl/bfcl_simple_python.jsonl", "data/funccall/edgefunccall/bfcl/bfcl_multiple.jsonl", "data/funccall/edgefunccall/bfcl/bfcl_irrelevance.jsonl",
]  # fmt: skip
XSS_NAME = "<script>alert(1)</script>"
XSS_FIELD = '"><img src=x onerror=alert(2)>'


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    for d in ("metrics/models", "metrics/intent", "metrics/funccall", "data/sources"):
        shutil.copytree(REPO / d, r / d)
    shutil.copy2(REPO / "params.yaml", r / "params.yaml")
    for i, f in enumerate(SPLITS):
        (r / f).parent.mkdir(parents=True, exist_ok=True)
        (r / f).write_text(json.dumps({"row": i, "file": f}) + "\n", encoding="utf-8")
    (r / "leaderboard/submissions").mkdir(parents=True)
    return r


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def submission(root: Path, **changes: Any) -> dict[str, Any]:
    """A valid EdgeJSON submission on the root's current v4 test split."""
    sub = {
        "format": 1, "name": "outside-model", "task": "edgejson", "dataset": "v4", "decoding": "constrained",
        "split_sha256": sha(root / "data/v4/test.jsonl"), "n": 120,
        "metrics": {"json_exact": {"value": 0.5, "ci95": [0.41, 0.59], "n": 120}, "field_f1": {"value": 0.9, "ci95": [0.88, 0.92], "n": 120}},
        "metric_versions": {"json_exact": 1, "field_f1": 1},
        "model": {"file": "m.gguf", "sha256": "a" * 64, "size_bytes": 5_000_000, "size_mb": 5.0, "params": 30_000_000, "runtime": "llama.cpp",
                  "quantization": "Q4_0", "base": "some-base", "licence": "apache-2.0"},
        "speed": {"tokens_per_s": 300.0, "latency_ms_p50": 100.0, "peak_rss_mb": 80.0},
        "predictions_sha256": "b" * 64, "slmbench_commit": "c" * 40,
    }  # fmt: skip
    for key, value in changes.items():
        sub[key] = value
    return sub


def write_sub(root: Path, name: str, sub: Any) -> Path:
    path = root / "leaderboard/submissions" / name
    path.write_text(json.dumps(sub) if not isinstance(sub, str) else sub, encoding="utf-8")
    return path


def collect(root: Path) -> dict[str, Any]:
    return L.collect(P.load(root / "params.yaml"), root, Path("leaderboard/submissions"))


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "stages.cli", *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_every_table_reads_its_figures_from_the_metrics_files(root: Path) -> None:
    board = collect(root)
    ids = [t["id"] for t in board["tables"]]
    assert ids == ["edgejson-v4", "intent-banking77", "intent-clinc150", "funccall-edgefunccall", "funccall-bfcl_simple_python", "funccall-bfcl_multiple", "funccall-bfcl_irrelevance"]
    tables = {t["id"]: t for t in board["tables"]}
    for t in board["tables"]:
        assert t["split_sha256"] == sha(root / t["split_file"])
        assert t["rows"], t["id"]
    ej = json.loads((root / "metrics/models/smollm2-135m-lora/eval.json").read_text())
    row = next(r for r in tables["edgejson-v4"]["rows"] if r["decoding"] == "constrained")
    q8 = ej["gguf_q8_0"]["constrained"]
    assert row["variant"] == "llama.cpp Q8_0" and row["n"] == q8["n"]
    assert row["metrics"]["json_exact"] == {"value": q8["json_exact"], "ci95": q8["json_exact_ci95"], "n": q8["json_exact_n"]}
    assert [b["group"] for b in row["breakdown"]] == ["simple", "medium", "complex"]
    assert row["breakdown"][2]["metrics"]["json_exact"]["value"] == q8["tier_complex"]["json_exact"]
    intent = json.loads((root / "metrics/intent/clinc150/eval.json").read_text())
    nlm = next(r for r in tables["intent-clinc150"]["rows"] if r["runtime"] == "onnxruntime")
    assert nlm["metrics"]["accuracy"]["value"] == intent["models"]["nlm"]["accuracy"] and nlm["size_mb"] == intent["models"]["nlm"]["size_mb"]
    assert nlm["metrics"]["oos_recall"]["ci95"] == intent["models"]["nlm"]["oos_recall_ci95"]
    groups = {b["group"]: b for b in nlm["breakdown"]}
    domains = json.loads((root / "data/sources/clinc150/domains.json").read_text())
    assert set(domains) <= set(groups) and groups[sorted(domains)[0]]["classes"] == len(domains[sorted(domains)[0]])
    fc = json.loads((root / "metrics/funccall/edgefunccall/mlm/eval.json").read_text())
    (frow,) = tables["funccall-edgefunccall"]["rows"]
    assert frow["metrics"]["ast_accuracy"]["value"] == fc["edgefunccall"]["constrained"]["ast_accuracy"]
    assert frow["metrics"]["irrelevance_accuracy"]["n"] == fc["edgefunccall"]["constrained"]["irrelevance_accuracy_n"]
    assert {b["group"] for b in frow["breakdown"]} == set(fc["edgefunccall"]["constrained"]["by_domain"])
    assert {r["decoding"] for r in tables["funccall-bfcl_multiple"]["rows"]} == {"free", "constrained"}
    # the frontier, recomputed by hand: no row at most as large and at least as good (one strictly)
    for t in board["tables"]:
        pts = [(r["size_mb"], r["metrics"][t["primary"]]["value"]) for r in t["rows"]]
        for r, (s, q) in zip(t["rows"], pts):
            beaten = any((s2 <= s and q2 >= q) and (s2 < s or q2 > q) for s2, q2 in pts)
            assert r["pareto"] is (not beaten), (t["id"], r["model"])
    assert {r["size_class"] for r in tables["intent-banking77"]["rows"]} >= {"NLM"}
    # a fine-tuned model's labels come from params (its base and quantization type), never from literals
    p = P.load(root / "params.yaml")
    mlm = next(r for r in tables["intent-banking77"]["rows"] if r["runtime"] == "llama.cpp")
    assert (mlm["model"], mlm["quantization"]) == (f"{P.intent_mlm(p).base} LoRA (MLM)", P.intent_mlm(p).qtype.upper())
    assert (frow["model"], frow["quantization"]) == (f"{P.funccall_mlm(p).base} LoRA (funccall)", P.funccall_mlm(p).qtype.upper())


def test_pareto_marks_only_undominated_rows() -> None:
    rows = [{"size_mb": s, "metrics": {"m": {"value": q}}} for s, q in [(1, 0.5), (2, 0.4), (2, 0.9), (3, 0.9), (0.5, 0.1)]]
    rows.append({"size_mb": None, "metrics": {"m": {"value": 1.0}}})
    L.pareto(rows, "m")
    assert [r["pareto"] for r in rows] == [True, False, True, False, True, False]
    assert L.size_class(9.9, None) == "NLM" and L.size_class(144.8, 134_515_008) == "MLM" and L.size_class(700, 360_000_000) == "larger"
    assert L.size_class(50, None) == "unknown"


def test_every_shown_metric_has_a_registry_version() -> None:
    from stages.tasks import registry

    for task in registry.tasks():
        versions = L.registry(task.NAME)
        assert set(task.METRICS) <= set(versions) and all(isinstance(v, int) and v >= 1 for v in versions.values()), task.NAME


def test_a_real_submission_shows_as_a_row(root: Path, tmp_path: Path) -> None:
    """`slmbench evaluate --task intent --submit`: a tiny NLM on the banking77 table's test file."""
    nlm_dir = tmp_path / "nlm"
    _, test_rows, _ = tiny_nlm(nlm_dir)
    split = root / "data/intent/banking77/test.jsonl"
    split.write_text("".join(json.dumps(r) + "\n" for r in test_rows), encoding="utf-8")
    r = cli(root, "evaluate", "--task", "intent", "--model", str(nlm_dir), "--data", "data/intent/banking77/test.jsonl", "--out", str(tmp_path / "out.json"),
            "--submit", "tiny nlm", "--licence", "mit")  # fmt: skip
    assert r.returncode == 0, r.stderr
    (path,) = (root / "leaderboard/submissions").glob("*.json")
    assert path.name == "intent-banking77-tiny-nlm.json"
    sub = json.loads(path.read_text())
    out = json.loads((tmp_path / "out.json").read_text())
    assert sub["split_sha256"] == sha(split) and sub["n"] == len(test_rows) == out["n"]
    assert sub["metrics"]["accuracy"] == {"value": out["accuracy"], "ci95": out["accuracy_ci95"], "n": out["n"]}
    assert sub["predictions_sha256"] == sha(tmp_path / "out.predictions.jsonl") and sub["model"]["runtime"] == "onnxruntime"
    assert len((tmp_path / "out.predictions.jsonl").read_text().splitlines()) == len(test_rows)
    assert sub["metric_versions"] == {m: 1 for m in sub["metrics"]} and len(sub["slmbench_commit"]) >= 40
    board = collect(root)
    table = next(t for t in board["tables"] if t["id"] == "intent-banking77")
    mine = [x for x in table["rows"] if x["source"] == "submission"]
    assert len(mine) == 1 and mine[0]["model"] == "tiny nlm" and mine[0]["licence"] == "mit" and mine[0]["size_class"] == "NLM"
    # not a leaderboard split: refused before any scoring, in one line
    other = tmp_path / "other.jsonl"
    other.write_text(split.read_text().splitlines()[0] + "\n", encoding="utf-8")
    r = cli(root, "evaluate", "--task", "intent", "--model", str(nlm_dir), "--data", str(other), "--out", str(tmp_path / "o2.json"), "--submit", "x")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "not one of the leaderboard's intent test splits" in r.stderr
    assert not (tmp_path / "o2.json").exists()


def test_stale_and_flagged_submissions_are_listed_not_mixed_in(root: Path) -> None:
    write_sub(root, "current.json", submission(root))
    write_sub(root, "stale.json", submission(root, name="old-split", split_sha256="0" * 64))
    write_sub(root, "flagged.json", submission(root, name="old-metric", metric_versions={"json_exact": 0, "field_f1": 1}))
    write_sub(root, "orphan.json", submission(root, name="no-table", dataset="v9"))
    board = collect(root)
    (t,) = [t for t in board["tables"] if t["task"] == "edgejson"]
    assert [r["model"] for r in t["rows"] if r["source"] == "submission"] == ["outside-model"]
    reasons = {r["model"]: r["reason"] for r in t["stale"]}
    assert reasons["old-split"].startswith("scored on test split 000000000000; the current split is ")
    assert reasons["old-metric"] == "scored with an older metric definition: json_exact v0 (now v1)"
    assert [(o["model"], o["reason"]) for o in board["orphans"]] == [("no-table", "no EdgeJSON table for dataset 'v9' in this build")]
    row = next(r for r in t["rows"] if r["source"] == "submission")
    assert row["size_class"] == "NLM" and row["metrics"]["json_exact"]["value"] == 0.5 and row["commit"] == "c" * 12


def _missing_key(sub: dict[str, Any]) -> dict[str, Any]:
    del sub["predictions_sha256"]
    return sub


BAD = {
    "missing key": (_missing_key, "missing key predictions_sha256"),
    "missing model key": (lambda s: {**s, "model": {k: v for k, v in s["model"].items() if k != "sha256"}}, "missing key model.sha256"),
    "unknown metric": (lambda s: {**s, "metrics": {**s["metrics"], "bleu": {"value": 0.1, "ci95": [0.0, 0.2], "n": 5}}}, "metrics.bleu: not a metric of the edgejson registry"),
    "short hash": (lambda s: {**s, "split_sha256": "abc123"}, "split_sha256: expected 64 hex digits"),
    "NaN": (lambda s: {**s, "metrics": {"json_exact": {"value": float("nan"), "ci95": [0.1, 0.2], "n": 3}}}, "metrics.json_exact.value: nan; expected a finite number"),
}


def test_a_bad_submission_stops_the_cli_in_one_line(root: Path) -> None:
    assert cli(root, "leaderboard", "--out", "site").returncode == 0
    before = (root / "site/index.html").read_bytes()
    path = write_sub(root, "bad.json", submission(root, split_sha256="abc123"))
    r = cli(root, "leaderboard", "--out", "site")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [f"error: {path.relative_to(root)}: split_sha256: expected 64 hex digits (a sha256), got 'abc123'"]
    assert (root / "site/index.html").read_bytes() == before and not (root / "site.tmp").exists()


@pytest.mark.parametrize("case", [*BAD, "over 1 MB", "not JSON"])
def test_a_bad_submission_is_one_line_and_leaves_the_site_whole(root: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `slmbench leaderboard` runs (site.main), in this process: the CLI's own exit is the test above's."""
    monkeypatch.chdir(root)
    site.main(Path("params.yaml"), Path("leaderboard/submissions"), Path("site"))
    before = {p.relative_to(root / "site"): p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()}
    if case == "over 1 MB":
        sub = submission(root)
        sub["model"]["base"] = "x" * (S.MAX_BYTES + 1)
        path, expected = write_sub(root, "bad.json", sub), "bytes; a submission is at most 1 MB"
    elif case == "not JSON":
        path, expected = write_sub(root, "bad.json", "{ not json"), "bad.json:1: not JSON"
    else:
        edit, expected = BAD[case]
        path = write_sub(root, "bad.json", edit(copy.deepcopy(submission(root))))
    with pytest.raises(SLMBenchError) as err:
        site.main(Path("params.yaml"), Path("leaderboard/submissions"), Path("site"))
    lines = str(err.value).splitlines()
    assert len(lines) == 1 and str(path.relative_to(root)) in lines[0] and expected in lines[0], lines
    after = {p.relative_to(root / "site"): p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()}
    assert after == before and not (root / "site.tmp").exists()


def test_submitted_text_is_escaped_in_pages_and_json(root: Path) -> None:
    model = dict(submission(root)["model"], base=XSS_FIELD, licence=XSS_FIELD)
    write_sub(root, "xss.json", submission(root, name=XSS_NAME, decoding=XSS_FIELD, model=model))
    board = collect(root)
    out = site.write_site(board, root / "site")
    page = (out / "edgejson.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "<img" not in page and "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    data = page.split('<script type="application/json" id="board-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and ">" not in data and json.loads(data)["specs"]["edgejson-v4"]["layer"][1]["data"]["values"]
    assert XSS_NAME in [p["model"] for p in json.loads(data)["specs"]["edgejson-v4"]["layer"][1]["data"]["values"]]


def test_make_submission_checks_what_it_writes(root: Path, tmp_path: Path) -> None:
    p = P.load(root / "params.yaml")
    preds = tmp_path / "preds.jsonl"
    preds.write_text("{}\n", encoding="utf-8")
    result = {"n": 3, "accuracy": float("nan"), "accuracy_ci95": [0.1, 0.2]}
    with pytest.raises(SLMBenchError, match="metrics.accuracy.value: nan; expected a finite number"):
        S.make_submission(p, "m", "intent", "argmax", result, root / "data/intent/banking77/test.jsonl", preds, preds, root / "leaderboard/submissions", root=root)
    assert not list((root / "leaderboard/submissions").glob("*.json"))
