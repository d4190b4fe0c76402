"""EdgeIntent's data half on tiny real files: readers and their one-line errors, the import, the
Great Expectations gate (which passes, quarantines and fails), the split and its leak check,
byte-identical reruns, and the real BANKING77 and CLINC150 sources."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from stages.core.errors import SLMBenchError
from stages.core.records import write_rows
from stages.core.rowgate import GateResult
from stages.pipeline import split as split_stage
from stages.pipeline import validate as validate_stage
from stages.tasks.intent import import_stage as intent_import
from stages.tasks.intent import split as intent_split
from stages.tasks.intent.checks import conflicts, normalise_text, set_failures
from stages.tasks.intent.rows import (
    OOS,
    check_labels,
    read_banking77_csv,
    read_clinc150_json,
    read_intent_file,
    read_intent_jsonl,
    read_labels,
)

# Tiny BANKING77: three intents, five queries each.
BANKING = {
    "card_arrival": ["Where is my card?", "My card has not arrived", "When will the card come?", "Is my card on its way?", "Card still not here"],
    "pin_blocked": ["My PIN is blocked", "I typed the wrong pin thrice", "Unblock my pin please", "PIN locked, help", "Why is my pin blocked?"],
    "top_up_failed": ["Top up failed", "My top-up did not go through", "Why did my top up fail?", "Top up declined", "Cannot top up my account"],
}
# The gate's recipe for the tiny CLINC150 below (each test sets max_reject_rate).
GATE = {"min_chars": 2, "max_chars": 80, "min_per_class": 3, "drop_conflicts": True}


def clinc_data() -> dict[str, list[list[str]]]:
    """Tiny CLINC150: intents alpha and beta in one domain (6 rows each), plus 4 out-of-scope queries."""
    return {
        "train": [[f"please do alpha {i}", "alpha"] for i in range(4)] + [[f"please do beta {i}", "beta"] for i in range(4)],
        "val": [[f"could you alpha {i}", "alpha"] for i in range(2)] + [[f"could you beta {i}", "beta"] for i in range(2)],
        "oos_train": [["what is the meaning of life", OOS], ["sing me a song", OOS]],
        "oos_val": [["how tall is everest", OOS], ["tell me a joke", OOS]],
    }


def write_banking77(folder: Path, rows: list[tuple[str, str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "train.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["text", "category"])
        out.writerows(rows if rows is not None else [(t, label) for label, texts in BANKING.items() for t in texts])
    (folder / "categories.json").write_text(json.dumps(sorted(BANKING)), encoding="utf-8")
    return folder


def write_clinc150(folder: Path, data: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data_train_val.json").write_text(json.dumps(data if data is not None else clinc_data()), encoding="utf-8")
    (folder / "domains.json").write_text(json.dumps({"greek": ["alpha", "beta"]}), encoding="utf-8")
    return folder


def error_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    """The SLMBenchError message `fn` raises, checked to be one line."""
    with pytest.raises(SLMBenchError) as exc:
        fn(*args, **kwargs)
    message = str(exc.value)
    assert "\n" not in message, message
    return message


def put(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# ---- readers ---------------------------------------------------------------------------------


def test_banking77_csv_rows_have_positional_ids_and_keep_the_text(tmp_path: Path) -> None:
    path = put(tmp_path / "train.csv", 'text,category\n"two\nlines",card_arrival\n\n  padded  ,pin_blocked\n')
    rows = read_banking77_csv(path)
    assert rows == [
        {"id": "banking77-train-000000", "text": "two\nlines", "label": "card_arrival", "dataset": "banking77", "origin": "train.csv"},
        {"id": "banking77-train-000001", "text": "  padded  ", "label": "pin_blocked", "dataset": "banking77", "origin": "train.csv"},
    ]
    # the line count survives a quoted field spanning lines and a blank line
    bad = put(tmp_path / "bad.csv", 'text,category\n"two\nlines",card_arrival\n\n  ,pin_blocked\n')
    assert error_of(read_banking77_csv, bad) == f"{bad}:5: empty text; expected a query in the `text` column"


@pytest.mark.parametrize(
    "content, expected",
    [
        ("text,intent\nhello,a\n", ":1: CSV header has no `category` column (it has 'text', 'intent')"),
        ("query,category\nhello,a\n", ":1: CSV header has no `text` column"),
        ("text,category\nhello,a\n,b\n", ":3: empty text"),
        ("text,category\nhello,a\nbye\n", ":3: 1 field(s), expected 2"),
        (b"text,category\ncaf\xe9,a\n", ": not UTF-8 text (invalid continuation byte at byte 17)"),
        ("", ": empty file"),
    ],
    ids=["no-category", "no-text", "empty-text", "short-row", "latin-1", "empty-file"],
)
def test_bad_csv_is_one_line_naming_the_file(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = put(tmp_path / "train.csv", content)
    message = error_of(read_banking77_csv, path)
    assert message.startswith(f"{path}{expected}"), message
    assert "expected" in message


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"train": [["hi", "a"],\n  ["bye" "b"]]}', ":2: broken JSON (Expecting ',' delimiter at column 10)"),
        ('{"train": [["hi", "a"]]}', ": no `val` list (lists found: train)"),
        ('{"train": [["hi", "a"]], "val": {"x": 1}}', ": a dict for the `val` list"),
        ('{"train": [["hi", "a"], ["bye"]], "val": []}', ": train[1]: ['bye']; expected a [text, label] pair of strings"),
        ('{"train": [], "val": [["  ", "a"]]}', ": val[0]: empty text; expected a query"),
        ('[["hi", "a"]]', ": top level is a JSON list"),
        (b'{"train": [["\xff", "a"]], "val": []}', ": not UTF-8 text"),
    ],
    ids=["broken", "missing-list", "not-a-list", "not-a-pair", "empty-text", "not-an-object", "not-utf8"],
)
def test_bad_clinc150_json_is_one_line_naming_the_file_and_key(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = put(tmp_path / "data_full.json", content)
    message = error_of(read_clinc150_json, path, ("train", "val"))
    assert message.startswith(f"{path}{expected}"), message


@pytest.mark.parametrize(
    "lines, expected",
    [
        (['{"id": "x-1", "text": "hi", "label": "a", "dataset": "x", "origin": "train"}', '{"id": "x-2", "text": '], ":2: broken JSONL line"),
        (['{"id": "x-1", "text": "hi", "label": "a"}'], ":1: row lacks field(s) dataset, origin"),
        (['{"id": "x-1", "text": " ", "label": "a", "dataset": "x", "origin": "train"}'], ":1: empty text; expected a query"),
        (['{"id": "x-1", "text": "hi", "label": 3, "dataset": "x", "origin": "train"}'], ":1: `label` is 3; expected a string"),
        (['{"id": "x-1", "text": "hi", "label": "a", "dataset": "x", "origin": "t"}'] * 2, ":2: id x-1 already used on line 1"),
    ],
    ids=["broken", "missing-field", "empty-text", "label-not-string", "duplicate-id"],
)
def test_bad_jsonl_is_one_line_naming_the_file_and_line(tmp_path: Path, lines: list[str], expected: str) -> None:
    path = put(tmp_path / "rows.jsonl", "\n".join(lines) + "\n")
    message = error_of(read_intent_jsonl, path)
    assert message.startswith(f"{path}{expected}"), message


def test_read_intent_file_tells_the_formats_apart_and_scores_the_right_clinc_lists(tmp_path: Path) -> None:
    full = {**clinc_data(), "test": [["could you alpha 9", "alpha"]], "oos_test": [["who won", OOS]]}
    rows, kind = read_intent_file(put(tmp_path / "data_full.json", json.dumps(full)))
    assert kind == "clinc150" and [r["origin"] for r in rows] == ["test", "oos_test"]
    rows, kind = read_intent_file(put(tmp_path / "data_train_val.json", json.dumps(clinc_data())))
    assert kind == "clinc150" and [r["origin"] for r in rows] == ["val"] * 4 + ["oos_val"] * 2
    assert rows[0]["id"] == "clinc150-val-000000" and rows[-1]["id"] == "clinc150-oos_val-000001"
    rows, kind = read_intent_file(put(tmp_path / "test.csv", "text,category\nhi there,card_arrival\n"))
    assert kind == "banking77" and rows[0]["id"] == "banking77-test-000000" and rows[0]["origin"] == "test.csv"
    write_rows(tmp_path / "test.jsonl", rows)
    assert read_intent_file(tmp_path / "test.jsonl") == (rows, "jsonl")
    # no telling suffix: the first line decides
    assert read_intent_file(put(tmp_path / "copy.txt", "text,category\nhi there,card_arrival\n"))[1] == "banking77"
    assert read_intent_file(put(tmp_path / "rows.data", (tmp_path / "test.jsonl").read_text(encoding="utf-8")))[1] == "jsonl"
    assert read_intent_file(put(tmp_path / "clinc.data", json.dumps(clinc_data(), indent=1)))[1] == "clinc150"
    odd = put(tmp_path / "notes.txt", "just some words\n")
    assert error_of(read_intent_file, odd).startswith(f"{odd}: cannot tell the format from the suffix '.txt'")
    no_lists = put(tmp_path / "other.json", '{"train": []}')
    assert error_of(read_intent_file, no_lists).startswith(f"{no_lists}: no `test` or `val` list (keys: train)")


def test_check_labels_names_the_row_outside_the_set(tmp_path: Path) -> None:
    rows = read_banking77_csv(put(tmp_path / "test.csv", "text,category\nhi,card_arrival\nyo,card_arival\nhm,nope\n"))
    check_labels(rows[:1], BANKING, "test.csv")
    assert error_of(check_labels, rows, BANKING, "test.csv") == (
        "test.csv: row banking77-test-000001: label 'card_arival' is not one of the 3 labels (and 1 more row(s)); did you mean 'card_arrival'?"
    )
    labels = put(tmp_path / "labels.json", '["a", "b", "a"]')
    assert error_of(read_labels, labels) == f"{labels}: [2]: label 'a' listed twice; expected a JSON list of distinct label strings"


# ---- checks ----------------------------------------------------------------------------------


def test_normalise_text_lowercases_collapses_space_and_strips_end_punctuation() -> None:
    assert normalise_text("  How can i reset my passcode ?") == normalise_text("How can I reset my passcode?") == "how can i reset my passcode"
    assert normalise_text("\nI can't\tuse  my card!!\n") == "i can't use my card"  # inner punctuation stays
    assert normalise_text("¿Qué pasa?") == "qué pasa"
    assert normalise_text("what's up") != normalise_text("whats up")
    assert normalise_text("?!") == ""


def test_duplicates_keep_the_test_side_copy_and_conflicts_are_dropped_or_kept() -> None:
    def row(i: int, text: str, label: str, origin: str) -> dict[str, str]:
        return {"id": f"x-{i}", "text": text, "label": label, "dataset": "x", "origin": origin}

    rows = [
        row(0, "Hi there", "a", "train"), row(1, "hi there!", "a", "val"), row(2, "Hi there", "a", "train"),
        row(3, "Go", "a", "train"), row(4, "go.", "b", "val"),
    ]  # fmt: skip
    test_side = [r["origin"] == "val" for r in rows]
    assert conflicts(rows) == {"go": {"a": ["x-3"], "b": ["x-4"]}}
    dropped = set_failures(rows, lambda i: not test_side[i], drop_conflicts=True)
    assert [sorted(f) for f in dropped] == [["duplicate_normalised"], [], ["duplicate_normalised"], ["label_conflict"], ["label_conflict"]]
    assert dropped[0]["duplicate_normalised"] == "same query as x-1"
    kept = set_failures(rows, lambda i: not test_side[i], drop_conflicts=False)
    assert [sorted(f) for f in kept] == [["duplicate_normalised"], [], ["duplicate_normalised"], [], []]
    first_in_file = set_failures(rows, lambda i: 0, drop_conflicts=False)
    assert [sorted(f) for f in first_in_file] == [[], ["duplicate_normalised"], ["duplicate_exact"], [], []]


# ---- import ----------------------------------------------------------------------------------


def test_import_writes_rows_in_source_order_and_the_sorted_labels(tmp_path: Path) -> None:
    summary = intent_import.run("clinc150", write_clinc150(tmp_path / "src"), "clinc150", tmp_path / "rows.jsonl", tmp_path / "labels.json")
    assert summary == {"rows": 16, "labels": 3, "rows_by_origin": {"oos_train": 2, "oos_val": 2, "train": 8, "val": 4}}
    assert json.loads((tmp_path / "labels.json").read_text(encoding="utf-8")) == ["alpha", "beta", OOS]
    rows = read_intent_jsonl(tmp_path / "rows.jsonl")
    assert [r["origin"] for r in rows] == ["train"] * 8 + ["val"] * 4 + ["oos_train"] * 2 + ["oos_val"] * 2
    # a label the source's own label file lacks stops the import at that row
    data = clinc_data()
    data["val"][1][1] = "gamma"
    src = write_clinc150(tmp_path / "bad", data)
    message = error_of(intent_import.run, "clinc150", src, "clinc150", tmp_path / "r.jsonl", tmp_path / "l.json")
    assert message.startswith(f"{src / 'data_train_val.json'} (labels from {src / 'domains.json'}): row clinc150-val-000001: label 'gamma'")
    assert error_of(intent_import.run, "x", tmp_path / "none", "banking77", tmp_path / "r.jsonl", tmp_path / "l.json").startswith(
        f"{tmp_path / 'none'}: no train.csv"
    )
    assert "unknown format 'snips'" in error_of(intent_import.run, "x", src, "snips", tmp_path / "r.jsonl", tmp_path / "l.json")


# ---- the gate --------------------------------------------------------------------------------


def imported(folder: Path, data: dict[str, Any]) -> tuple[Path, Path]:
    """A tiny CLINC150 source imported into `folder`: (rows.jsonl, labels.json)."""
    intent_import.run("clinc150", write_clinc150(folder / "src", data), "clinc150", folder / "rows.jsonl", folder / "labels.json")
    return folder / "rows.jsonl", folder / "labels.json"


def params_file(folder: Path, name: str, recipe: dict[str, Any]) -> Path:
    """The repository's params.yaml with intent.datasets.<name> set to `recipe`, written in `folder`."""
    import yaml

    body = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text(encoding="utf-8"))
    body["intent"]["datasets"] = {name: {"task": "intent", **recipe}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    return folder / "params.yaml"


def gate(folder: Path, rows: Path, labels: Path, **changes: Any) -> GateResult:
    """The generic validate stage (task intent) over `rows`, with GATE's bounds and `changes`."""
    params = params_file(folder / "params", "clinc150", {"format": "clinc150", **GATE, "max_reject_rate": 0.0, **changes})
    out = [folder / "validated.jsonl", folder / "quarantine.jsonl", folder / "quality.json"]
    return validate_stage.main("intent", "clinc150", params, rows, *out, source=labels)


def dirty_data() -> dict[str, list[list[str]]]:
    """Tiny CLINC150 with a copy across train and val (same label) and a conflict (two labels)."""
    data = clinc_data()
    data["train"][0][0] = "Could you alpha 1?"  # val's "could you alpha 1", normalised
    data["train"][5][0] = "check it"  # beta in train ...
    data["val"][0][0] = "Check it."  # ... alpha in val: a conflict
    return data


def test_the_gate_passes_quarantines_copies_and_drops_conflicts_within_tolerance(tmp_path: Path) -> None:
    rows, labels = imported(tmp_path, dirty_data())
    result = gate(tmp_path, rows, labels, max_reject_rate=0.2)
    q = json.loads((tmp_path / "quality.json").read_text(encoding="utf-8"))
    assert result.passed and q["gate"]["passed"] is True and q["gate"]["failed_expectations"] == []
    assert len(q["gate"]["expectations"]) == 13 and all(q["gate"]["expectations"].values())
    assert (q["rows_in"], q["rows_out"], q["rows_quarantined"]) == (16, 13, 3)
    assert q["failures_by_check"] == {
        "label_in_set": 0, "text_nonempty": 0, "text_length": 0, "duplicate_exact": 0, "duplicate_normalised": 1, "label_conflict": 2,
    }
    example = {"text": "check it", "labels": {"alpha": ["clinc150-val-000000"], "beta": ["clinc150-train-000005"]}}
    assert q["conflicts"] == {"groups": 1, "rows": 2, "dropped": True, "examples": [example]}
    assert q["rows_by_class"] == {"alpha": 4, "beta": 5, OOS: 4} and q["classes"] == 3 and q["mostly"] == 0.8
    lines = (tmp_path / "quarantine.jsonl").read_text(encoding="utf-8").splitlines()
    quarantined = {r["id"]: r["failed_checks"] for r in map(json.loads, lines)}
    # the training copy goes; val, the test side, stays whole but for the conflict
    assert quarantined == {
        "clinc150-train-000000": {"duplicate_normalised": "same query as clinc150-val-000001"},
        "clinc150-train-000005": {"label_conflict": "normalised text 'check it' carries 2 labels: alpha, beta"},
        "clinc150-val-000000": {"label_conflict": "normalised text 'check it' carries 2 labels: alpha, beta"},
    }
    kept = read_intent_jsonl(tmp_path / "validated.jsonl")
    assert [r["id"] for r in kept] == [r["id"] for r in read_intent_jsonl(rows) if r["id"] not in quarantined]


def mutate(folder: Path, how: str) -> tuple[Path, Path]:
    """A tiny CLINC150 dataset imported into `folder`, broken in one way: (rows.jsonl, labels.json).

    The import refuses a foreign label or an empty text, so those two break the imported rows, as a
    hand-edited or foreign rows file would; the others break the source."""
    data = clinc_data()
    if how == "class-below-min":
        data["train"] = [p for p in data["train"] if p[1] != "beta"]  # beta keeps its 2 val rows
    elif how == "copy-across-train-and-test":
        data["val"][2][0] = data["train"][4][0]  # a beta query of train, repeated in val
    rows, labels = imported(folder, data)
    broken = read_intent_jsonl(rows)
    if how == "label-outside-set":
        broken[2]["label"] = "gamma"
    elif how == "empty-text":
        broken[11]["text"] = ""
    write_rows(rows, broken)
    return rows, labels


@pytest.mark.parametrize(
    "how, failing",
    [
        ("label-outside-set", {"input.label_in_set"}),
        ("empty-text", {"input.text_nonempty", "input.text_length"}),
        ("class-below-min", {"classes.min_per_class"}),
        ("copy-across-train-and-test", {"input.unique_text"}),
    ],
)
def test_the_gate_fails_naming_the_expectation(tmp_path: Path, how: str, failing: set[str]) -> None:
    rows, labels = mutate(tmp_path, how)
    (tmp_path / "validated.jsonl").write_text("old\n", encoding="utf-8")
    message = error_of(gate, tmp_path, rows, labels)
    assert message.startswith(f"{rows}: the EdgeIntent clinc150 gate failed {len(failing)} expectation(s): "), message
    q = json.loads((tmp_path / "quality.json").read_text(encoding="utf-8"))
    assert q["gate"]["passed"] is False
    assert {name for name, ok in q["gate"]["expectations"].items() if not ok} == failing
    for name in failing:
        assert name in message
    assert not (tmp_path / "validated.jsonl").exists()  # no old file survives a failed gate
    assert (tmp_path / "quarantine.jsonl").exists()
    if how == "class-below-min":
        assert q["classes_below_min"] == ["beta"] and "(classes: beta)" in message


def test_gate_parameters_are_checked(tmp_path: Path) -> None:
    rows, labels = imported(tmp_path, clinc_data())
    # params.yaml's recipe is checked on loading, naming the file and the key ...
    assert error_of(gate, tmp_path, rows, labels, max_chars=1).endswith("params.yaml: intent.datasets.clinc150: expected 1 <= min_chars <= max_chars, got 2 and 1")
    assert "intent.datasets.clinc150" in error_of(gate, tmp_path, rows, labels, max_reject_rate=1.0)
    # ... and the gate checks the bounds it is given
    from stages.tasks.intent.gate import check_params

    assert "max_chars 1 is below min_chars 2" in error_of(check_params, 2, 1, 3, 0.0)
    assert "max_reject_rate is 1.0" in error_of(check_params, 2, 80, 3, 1.0)


# ---- split -----------------------------------------------------------------------------------


def rows_of(pairs: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"id": f"c-{o}-{i:06d}", "text": t, "label": label, "dataset": "c", "origin": o} for i, (t, label, o) in enumerate(pairs)]


def test_clinc150_split_follows_the_source_lists_and_drops_the_train_copy_of_a_leak() -> None:
    rows = rows_of(
        [("a one", "a", "train"), ("Same words", "a", "train"), ("a two", "a", "train"), ("x", OOS, "oos_train"),
         ("same words!", "b", "val"), ("a three", "a", "val"), ("y", OOS, "oos_val")]
    )  # fmt: skip
    train, test, m = intent_split.run(rows, "clinc150", seed=0, test_fraction=0.5, include_oos_train=True, where="v.jsonl")
    assert [r["text"] for r in test] == ["y", "same words!", "a three"]  # sorted by id
    assert [r["text"] for r in train] == ["x", "a one", "a two"]  # "Same words" leaked: its train copy is gone
    assert m["leaked_rows_removed"] == 1 and m["leak_examples"] == [{"train": "c-train-000001", "test": "c-val-000004"}]
    train, _, m = intent_split.run(rows, "clinc150", seed=0, test_fraction=0.5, include_oos_train=False, where="v.jsonl")
    assert OOS not in {r["label"] for r in train} and m["unused_rows"] == 1
    assert m["rows_by_origin"] == {"train": {"train": 2}, "test": {"oos_val": 1, "val": 2}}
    bad = rows_of([("hi", "a", "train.csv")])
    assert error_of(intent_split.run, bad, "clinc150", seed=0, test_fraction=0.5, include_oos_train=True, where="v.jsonl") == (
        "v.jsonl: row c-train.csv-000000: origin 'train.csv' is not a clinc150 source; expected one of train, val, oos_train, oos_val"
    )


def test_banking77_split_is_stratified_and_seeded(tmp_path: Path) -> None:
    rows = read_banking77_csv(write_banking77(tmp_path) / "train.csv")
    train, test, m = intent_split.run(rows, "banking77", seed=3, test_fraction=0.2, include_oos_train=True, where="v.jsonl")
    assert (m["train_rows"], m["test_rows"]) == (12, 3)
    assert m["rows_by_class"] == {label: {"train": 4, "test": 1} for label in sorted(BANKING)}
    assert [r["id"] for r in test] == sorted(r["id"] for r in test)
    again = intent_split.run(list(reversed(rows)), "banking77", seed=3, test_fraction=0.2, include_oos_train=True, where="v.jsonl")
    assert again[1] == test  # input order does not matter, the seed does
    other = intent_split.run(rows, "banking77", seed=4, test_fraction=0.2, include_oos_train=True, where="v.jsonl")
    assert other[1] != test
    assert "test_fraction is 1.0" in error_of(intent_split.run, rows, "banking77", seed=3, test_fraction=1.0, include_oos_train=True, where="v")


def pipeline(src: Path, out: Path) -> dict[str, Any]:
    """import -> validate -> split of a BANKING77 folder into `out`."""
    intent_import.run("banking77", src, "banking77", out / "rows.jsonl", out / "labels.json")
    recipe = {"format": "banking77", "min_chars": 2, "max_chars": 80, "min_per_class": 4, "drop_conflicts": True, "max_reject_rate": 0.0}
    params = params_file(out.parent / f"{out.name}-params", "banking77", {**recipe, "seed": 7, "test_fraction": 0.2, "include_oos_train": True})
    validate_stage.main("intent", "banking77", params, out / "rows.jsonl", out / "validated.jsonl", out / "quarantine.jsonl", out / "quality.json", source=out / "labels.json")
    return split_stage.main("intent", "banking77", params, out / "validated.jsonl", out / "train.jsonl", out / "test.jsonl", out / "split.json")


def test_two_runs_give_byte_identical_files(tmp_path: Path) -> None:
    src = write_banking77(tmp_path / "src")
    first, second = pipeline(src, tmp_path / "a"), pipeline(src, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["labels.json", "quality.json", "quarantine.jsonl", "rows.jsonl", "split.json", "test.jsonl", "train.jsonl", "validated.jsonl"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first == second and first["test_sha256"] == hashlib.sha256((tmp_path / "a" / "test.jsonl").read_bytes()).hexdigest()
    assert (first["train_rows"], first["test_rows"], first["leaked_rows_removed"]) == (12, 3, 0)
    assert (tmp_path / "a" / "quarantine.jsonl").read_bytes() == b""


# ---- the real sources ------------------------------------------------------------------------


def test_the_real_sources_import_with_their_counts_labels_and_conflicts(repo_root: Path, tmp_path: Path) -> None:
    sources = repo_root / "data" / "sources"
    for name in ("banking77", "clinc150"):
        assert (sources / name / "LICENSE").is_file()
    bank, bank_labels = intent_import.load("banking77", sources / "banking77", "banking77")
    assert len(bank) == 10_003 and len(bank_labels) == 77 and {r["label"] for r in bank} == set(bank_labels)
    assert bank[123]["id"] == "banking77-train-000123"
    clinc, clinc_labels = intent_import.load("clinc150", sources / "clinc150", "clinc150")
    by_origin = {o: sum(r["origin"] == o for r in clinc) for o in ("train", "val", "oos_train", "oos_val")}
    assert by_origin == {"train": 15_000, "val": 3_000, "oos_train": 100, "oos_val": 100}
    assert len(clinc_labels) == 151 and OOS in clinc_labels and {r["label"] for r in clinc} == set(clinc_labels)
    # The audit over the published data: BANKING77 has no label conflict and 5 queries repeated
    # after normalisation (4 differ by a leading newline); CLINC150 has 2 conflicts, both across
    # train and val, and 20 repeated queries (1 exact), most differing by a final "!".
    assert conflicts(bank) == {}
    assert conflicts(clinc) == {
        "turn up your volume": {"change_volume": ["clinc150-val-001794"], "whisper_mode": ["clinc150-train-011130"]},
        "what is on my to do list": {"reminder": ["clinc150-val-001011"], "todo_list": ["clinc150-train-007424"]},
    }
    bank_dups = set_failures(bank, lambda i: 0, drop_conflicts=True)
    assert sum(bool(f) for f in bank_dups) == 5 and all(set(f) <= {"duplicate_normalised"} for f in bank_dups)
    test_side = [r["origin"] in ("val", "oos_val") for r in clinc]
    clinc_fails = set_failures(clinc, lambda i: not test_side[i], drop_conflicts=True)
    counted = {check: sum(check in f for f in clinc_fails) for check in ("duplicate_exact", "duplicate_normalised", "label_conflict")}
    assert counted == {"duplicate_exact": 1, "duplicate_normalised": 19, "label_conflict": 4}
    assert not any(f for f, side in zip(clinc_fails, test_side, strict=True) if side and "label_conflict" not in f)  # val keeps every copy
