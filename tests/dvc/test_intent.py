"""EdgeIntent's stages in a real DVC repo: a tiny BANKING77-format source runs through import,
the GX gate and the split to scored models, and neither task's stages go stale for the other's
changes. The gate failing (one line, no validated.jsonl left) is tests/code/test_intent_data.py's."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from dvc_project import build_project, dvc, edit_params, git_init_commit, stages_run

pytestmark = pytest.mark.slow

CLASSES = ("card_arrival", "lost_or_stolen_card", "exchange_rate")
WORDS = ("card", "arrive", "lost", "stolen", "rate", "euro", "pound", "week", "today", "still", "my", "the", "a", "where", "why")


def tiny_source(folder: Path, per_class: int = 24) -> None:
    """A BANKING77-layout source: train.csv (text,category) and categories.json, distinct texts."""
    folder.mkdir(parents=True)
    with (folder / "train.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "category"])
        for c, label in enumerate(CLASSES):
            for i in range(per_class):
                words = [WORDS[(c * 5 + i * j) % len(WORDS)] for j in range(1, 5)]
                w.writerow([f"{label.split('_')[0]} {' '.join(words)} query {c}-{i}", label])
    (folder / "categories.json").write_text(json.dumps(list(CLASSES)), encoding="utf-8")
    (folder / "LICENSE").write_text("test data\n", encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("intent") / "proj"
    build_project(root)
    tiny_source(root / "data" / "sources" / "tiny")

    def one_dataset(p: dict[str, Any]) -> None:
        p["intent"]["datasets"] = {
            "tiny": {"task": "intent", "format": "banking77", "seed": 7, "test_fraction": 0.25, "min_chars": 2, "max_chars": 200,
                     "min_per_class": 5, "drop_conflicts": True, "max_reject_rate": 0.05},
        }  # fmt: skip
        p["intent"]["nlm"].update(buckets=4096, dim=16, epochs=5)  # a tiny table: the stages, not the model, are under test
        p["intent"]["latency_queries"] = 20
        # the MLM on a tiny random Llama (tests/conftest.py), two LoRA steps: the stages, not the model, are under test
        p["bases"]["tiny-llama"] = str(tiny_model_dir)
        # (the GGUF-against-merged check is tests/model/test_intent_mlm.py's: check_rows 0 here)
        p["intent"]["mlm"].update(base="tiny-llama", train_rows=9, max_steps=1, r=4, alpha=8, batch_size=4, warmup_steps=0, precision="fp32")
        p["intent"]["mlm_scoring"].update(test_rows=6, check_rows=0, parallel=4, latency_queries=3)

    edit_params(root, one_dataset)
    git_init_commit(root, "tiny intent source")
    return root


def test_intent_stages_run_from_a_source_to_scored_models(project: Path) -> None:
    out = dvc(project, "repro", "intent_card@tiny").stdout
    stages = ("intent_import", "intent_validate", "intent_split", "intent_nlm", "intent_baselines", "intent_mlm_train", "intent_mlm_quantize",
              "intent_mlm_evaluate", "intent_evaluate", "intent_card")  # fmt: skip
    assert stages_run(out) == {f"{s}@tiny" for s in stages} | {"base_model@tiny-llama"}
    ev = json.loads((project / "metrics/intent/tiny/eval.json").read_text(encoding="utf-8"))
    assert set(ev["models"]) == {"majority", "tfidf_lr", "nlm", "mlm"}
    mlm = json.loads((project / "metrics/intent/tiny/mlm/eval.json").read_text(encoding="utf-8"))
    assert ev["models"]["mlm"] == mlm and mlm["unlabelled"] == 0 and mlm["size_bytes"] == (project / "models/intent/tiny/mlm/gguf/model-q8_0.gguf").stat().st_size
    assert json.loads((project / "metrics/intent/tiny/mlm/train.json").read_text(encoding="utf-8"))["train_rows"] == 9  # 3 per class
    assert mlm["n"] == 6 and mlm["test_rows"] == 18  # 2 per class of the 18 test rows
    for m in ev["models"].values():
        assert m["n"] == (6 if m is ev["models"]["mlm"] else ev["n"]) and m["accuracy_ci95"][0] <= m["accuracy"] <= m["accuracy_ci95"][1]
        assert m["accuracy_n"] == m["n"], "each figure with its n"
    assert ev["models"]["nlm"]["size_mb"] < 10 and ev["models"]["nlm"]["accuracy"] > ev["models"]["majority"]["accuracy"]
    # each row's labels are kept (cached, not pushed: a fresh clone re-scores), and give the figures
    scored = [json.loads(line) for line in (project / "models/intent/tiny/predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    mlm_rows = [json.loads(line) for line in (project / "models/intent/tiny/mlm/predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(scored) == ev["n"] and len(mlm_rows) == mlm["n"] and set(scored[0]) == {"id", "label", "majority", "tfidf_lr", "nlm"}
    for model, rows in (("nlm", scored), ("tfidf_lr", scored), ("mlm", mlm_rows)):
        assert round(sum(r[model] == r["label"] for r in rows) / len(rows), 6) == ev["models"][model]["accuracy"], model
    points = json.loads((project / "metrics/intent/tiny/size_accuracy.json").read_text(encoding="utf-8"))
    assert {p["model"] for p in points} == set(ev["models"])
    card = (project / "models/intent/tiny/README.md").read_text(encoding="utf-8")
    assert f"{ev['models']['nlm']['accuracy']:.3f}" in card and "| nlm | 18 |" in card and "| mlm | 6 |" in card
    assert card.index("| majority |") < card.index("| tfidf_lr |") < card.index("| nlm |") < card.index("| mlm |"), "the baselines first, as in the report"
    quality = json.loads((project / "metrics/intent/tiny/quality.json").read_text(encoding="utf-8"))
    split = json.loads((project / "metrics/intent/tiny/split.json").read_text(encoding="utf-8"))
    assert quality["gate"]["passed"] is True and quality["gate"]["expectations"]["classes.min_per_class"] is True
    assert split["train_rows"] + split["test_rows"] == 72
    test = [json.loads(line) for line in (project / "data/intent/tiny/test.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["label"] for r in test} == set(CLASSES)
    assert "changed" not in dvc(project, "status", "intent_card@tiny", "--with-deps").stdout


def test_one_tasks_changes_leave_the_others_stages_up_to_date(project: Path) -> None:
    dvc(project, "repro", "intent_split@tiny")
    # an EdgeJSON-only change: its params and its task code
    edit_params(project, lambda p: p["datasets"]["v3"].update(seed=p["datasets"]["v3"]["seed"] + 1))
    checks = project / "stages/tasks/edgejson/checks.py"
    checks.write_text(checks.read_text(encoding="utf-8") + "\n# touched\n", encoding="utf-8")
    status = dvc(project, "status", "intent_split@tiny", "--with-deps").stdout
    assert "changed" not in status, status
    # an EdgeIntent-only change reruns EdgeIntent's stages, and is not a dep of EdgeJSON's
    edit_params(project, lambda p: p["intent"]["datasets"]["tiny"].update(test_fraction=0.3))
    rows = project / "stages/tasks/intent/checks.py"
    rows.write_text(rows.read_text(encoding="utf-8") + "\n# touched\n", encoding="utf-8")
    status = dvc(project, "status", "split@v4", "--with-deps").stdout
    assert "intent" not in status, status
    assert "changed" in dvc(project, "status", "intent_split@tiny", "--with-deps").stdout
