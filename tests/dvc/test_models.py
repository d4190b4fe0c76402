"""Any number of models and dataset versions: dvc.yaml names none, params.yaml lists them.

A copy of the `releases` repo (conftest.py: released on v3, its DVC cache and outputs included)
gets a second tiny model under `models:` and another dataset version under `datasets:`. One
`dvc repro` runs the new entries' stages and the summary, and nothing of the first model or the
old versions; the report, the plots and the artifacts then show both models and every
version. Editing one model's params then invalidates only that model's stages and the summary.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from dvc_project import MODEL, TINY, Releases, dvc, edit_params, run, stages_run  # tests/dvc/, on sys.path under pytest

pytestmark = pytest.mark.slow

SECOND = "tiny-second-lora"
THIRD = "v5"  # params.yaml already has v2, v3 and v4


class Grown:
    def __init__(self, root: Path, output: str):
        self.root, self.output = root, output


@pytest.fixture(scope="module")
def grown(releases: Releases, tmp_path_factory: pytest.TempPathFactory) -> Grown:
    root = tmp_path_factory.mktemp("models") / "proj"
    shutil.copytree(releases.root, root, symlinks=True)

    def grow(p: dict[str, Any]) -> None:
        # the first model's settings with another seed and rank, on the same tiny base
        p["models"][SECOND] = dict(p["models"][MODEL], seed=7, r=2, alpha=4)
        p["datasets"][THIRD] = dict(p["datasets"]["v3"], seed=p["datasets"]["v3"]["seed"] + 1, **TINY)

    edit_params(root, grow)
    out = dvc(root, "repro").stdout
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "a second model and a third dataset version"], root)
    return Grown(root, out)


def test_new_entries_run_their_own_stages_and_the_summary_only(grown: Grown) -> None:
    ran = stages_run(grown.output)
    expected = {f"{s}@{THIRD}" for s in ("generate", "validate", "split")} | {f"{s}@{SECOND}" for s in ("train", "quantize", "evaluate", "card")} | {"report"}
    assert ran == expected, grown.output
    status = json.loads(dvc(grown.root, "status", "--json").stdout)
    assert status == {}, status


def test_both_models_and_every_version_are_reported(grown: Grown) -> None:
    from stages.evaluate.figures import figure, load

    report = (grown.root / "metrics" / "report.md").read_text(encoding="utf-8")
    for model in (MODEL, SECOND):
        ev = load(grown.root / "metrics" / "models" / model / "eval.json")
        head = "gguf_q8_0.constrained"
        assert f"{head}.n" in ev, sorted(ev)[:20]
        assert f"test_unseen.{head}.n" in ev, "the release variant is scored on the held-out schemas too"
        unseen_row = next(line for line in report.splitlines() if line.startswith(f"| {model} | gguf_q8_0 | constrained | test_unseen |"))
        assert figure(ev, f"test_unseen.{head}.json_exact") in unseen_row, unseen_row
        row = next(line for line in report.splitlines() if line.startswith(f"| {model} | gguf_q8_0 | constrained | {ev[f'{head}.n']} |"))
        # n, then each quality figure with its interval when eval.json has one
        assert row.split(" | ")[3] == str(ev[f"{head}.n"]) and figure(ev, f"{head}.json_exact") in row, row
        assert f"### {model}: quantization check" in report
        card = (grown.root / "models" / model / "README.md").read_text(encoding="utf-8")
        assert card.startswith("---\n") and f"# {model}\n" in card and f"{figure(ev, f'{head}.json_exact')}, n={ev[f'{head}.n']}" in card
    for version in ("v2", "v3", "v4", THIRD):
        assert f"| {version}" in report, report
    quality = json.loads((grown.root / "metrics" / "dataset_quality.json").read_text(encoding="utf-8"))
    assert [r["version"] for r in quality] == ["v2", "v3", "v4", THIRD]


def test_both_models_have_plots_and_artifacts(grown: Grown) -> None:
    from dvc.repo import Repo

    shown = json.loads(dvc(grown.root, "plots", "show", "--json").stdout)["data"]  # plot id -> its vega specs
    for model in (MODEL, SECOND):
        for path in (f"metrics/models/{model}/train_live/plots/metrics/loss.tsv", f"metrics/models/{model}/tier_scores.json"):
            assert path in shown, sorted(shown)
    assert "dataset_quality" in shown, sorted(shown)
    repo = Repo(str(grown.root))
    try:
        annotated = {o.def_path: o.annot for o in repo.index.outs if o.annot.type}
        release = repo.artifacts.read()["dvc.yaml"]["edgejson-release"]
    finally:
        repo.close()
    for model in (MODEL, SECOND):
        assert annotated[f"models/{model}/gguf"].type == "model" and model in (annotated[f"models/{model}/gguf"].desc or "")
    for version in ("v2", "v3", "v4", THIRD):
        assert annotated[f"data/{version}/validated.jsonl"].type == "dataset"
    assert release.path == "data/v3/validated.jsonl"


def test_editing_one_model_invalidates_only_its_stages_and_the_summary(grown: Grown) -> None:
    """`dvc status` names the stages whose own inputs changed; what runs after them is downstream in
    DVC's graph. Together: the second model's stages and the report, nothing of the first model."""
    from dvc.repo import Repo

    edit_params(grown.root, lambda p: p["models"][SECOND].update(lr=p["models"][SECOND]["lr"] / 2))
    try:
        changed = set(json.loads(dvc(grown.root, "status", "--json").stdout))
        assert changed == {f"train@{SECOND}", f"card@{SECOND}", "report"}, changed
        repo = Repo(str(grown.root))
        try:
            graph = repo.index.graph
            by_name = {s.name: s for s in graph.nodes}
            import networkx as nx

            # DVC's graph points from a stage to the stages it depends on: what reruns is what reaches a changed one
            reruns = {s.name for s in graph.nodes if any(nx.has_path(graph, s, by_name[c]) for c in changed)}
        finally:
            repo.close()
        assert reruns == {f"{s}@{SECOND}" for s in ("train", "quantize", "evaluate", "card")} | {"report"}, reruns
    finally:
        run(["git", "checkout", "-q", "--", "params.yaml"], grown.root)
