"""Tiny EdgeIntent data and NLMs for the tests: real BANKING77 and CLINC150 rows from the repo's
data/sources (a few classes), and an NLM small enough to train in about a second."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from stages.train.nlm import NLMConfig, export, train

SOURCES = Path(__file__).resolve().parents[1] / "data" / "sources"
# A tiny table and few epochs: seconds, and still well above chance on 6 classes.
TINY = NLMConfig(buckets=4096, dim=16, epochs=8, lr=0.05, seed=0)
# Texts that exercise the featuriser's edges: case, punctuation, Latin-1 and typographic
# characters, other scripts, emoji (astral), a lone surrogate, whitespace only, nothing.
TRICKY = [
    "Why hasn't my CARD arrived?!",
    "My card… still not here — it’s been 2 weeks (£20 fee?)",
    "Ünïcödé façade naïve café: où est ma carte ?",
    "Где моя карта? 我的卡在哪里？ カードが届かない",
    "card 😀👍🏽 arrived? e\u0301 x\u00a0y",
    "lone \ud800 surrogate card",
    "   \t\n ",
    "",
    "A" * 300 + " " + " ".join(["card"] * 100),
]


def banking_rows(n_labels: int = 6, train_per_label: int = 40, test_per_label: int = 10) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(train rows, test rows, labels): the first `n_labels` BANKING77 intents in sorted order, the
    first rows of each for training and the next ones for testing, in file order."""
    with (SOURCES / "banking77" / "train.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    labels = sorted({r["category"] for r in rows})[:n_labels]
    train_rows: list[dict[str, Any]] = []
    test_rows: list[dict[str, Any]] = []
    for label in labels:
        texts = [r["text"] for r in rows if r["category"] == label]
        for k, text in enumerate(texts[: train_per_label + test_per_label]):
            side = train_rows if k < train_per_label else test_rows
            side.append({"id": f"banking77-train-{label}-{k}", "text": text, "label": label, "dataset": "banking77", "origin": "train.csv"})
    return train_rows, test_rows, labels


def clinc_oos_rows(n_train: int, n_test: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """CLINC150's first out-of-scope rows: `n_train` of oos_train, `n_test` of oos_val."""
    data = json.loads((SOURCES / "clinc150" / "data_train_val.json").read_text(encoding="utf-8"))

    def make(origin: str, pairs: list[list[str]]) -> list[dict[str, Any]]:
        return [{"id": f"clinc150-{origin}-{k}", "text": t, "label": y, "dataset": "clinc150", "origin": origin} for k, (t, y) in enumerate(pairs)]

    return make("oos_train", data["oos_train"][:n_train]), make("oos_val", data["oos_val"][:n_test])


def tiny_nlm(out_dir: Path, with_oos: bool = False, cfg: NLMConfig = TINY) -> tuple[Any, list[dict[str, Any]], list[str]]:
    """Train and export a tiny NLM on 6 BANKING77 classes (and CLINC150's oos rows when
    `with_oos`); (trained model, test rows, labels)."""
    train_rows, test_rows, labels = banking_rows()
    if with_oos:
        oos_train, oos_test = clinc_oos_rows(40, 10)
        train_rows, test_rows, labels = train_rows + oos_train, test_rows + oos_test, sorted([*labels, "oos"])
    model = train(train_rows, labels, cfg)
    export(model, out_dir)
    return model, test_rows, labels
