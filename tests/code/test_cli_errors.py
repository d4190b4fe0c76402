"""Bad input: every case exits non-zero with one line that names the file, line or key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from stages.cli import app

GOOD_ROW = {"id": "r1", "schema_id": "rating", "prompt": "Ada rated the Desk Lamp 4 stars on 2024-03-05.", "expected_output": {}}


def _one_line_error(result) -> str:
    assert result.exit_code not in (0, None), result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def _check(path: Path, schemas: Path) -> str:
    return _one_line_error(CliRunner().invoke(app, ["check-data", str(path), "--schemas", str(schemas)]))


@pytest.fixture
def rows_file(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(GOOD_ROW) + "\n", encoding="utf-8")
    return path


def test_malformed_schema_json_names_the_file_and_line(tmp_path: Path, rows_file: Path):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "broken.json").write_text('{\n  "type": "object",\n  "properties": {\n}\n', encoding="utf-8")
    line = _check(rows_file, schemas)
    assert f"{schemas / 'broken.json'}:" in line and "malformed schema JSON" in line


def test_a_schema_that_is_not_json_schema_names_the_file_and_key(tmp_path: Path, rows_file: Path):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "bad_type.json").write_text('{"type": 12}', encoding="utf-8")
    line = _check(rows_file, schemas)
    assert str(schemas / "bad_type.json") in line and "not a valid JSON Schema at type" in line


def test_unknown_params_key_is_named_with_a_suggestion(tmp_path: Path, repo_root: Path):
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    raw["datasets"]["v3"]["rows_per_schem"] = raw["datasets"]["v3"].pop("rows_per_schema")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = tmp_path / "generated.jsonl"
    result = CliRunner().invoke(app, ["generate", "--version", "v3", "--out", str(out), "--params", str(params)])
    line = _one_line_error(result)
    assert "datasets.v3.rows_per_schem" in line and "rows_per_schema" in line
    assert not out.exists()


def test_broken_jsonl_line_is_reported_with_its_line_number(tmp_path: Path, repo_root: Path):
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(GOOD_ROW) + '\n{"id": "r2", "prompt": \n', encoding="utf-8")
    line = _check(path, repo_root / "schemas")
    assert f"{path}:2:" in line and "broken JSONL line" in line


def test_a_row_without_expected_output_is_named(tmp_path: Path, repo_root: Path):
    path = tmp_path / "missing.jsonl"
    row = {k: v for k, v in GOOD_ROW.items() if k != "expected_output"}
    path.write_text(json.dumps(GOOD_ROW) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    line = _check(path, repo_root / "schemas")
    assert f"{path}:2:" in line and "expected_output" in line


def test_an_empty_file_is_an_error(tmp_path: Path, repo_root: Path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    line = _check(path, repo_root / "schemas")
    assert str(path) in line and "empty file" in line


def test_a_missing_file_is_an_error(tmp_path: Path, repo_root: Path):
    path = tmp_path / "nope.jsonl"
    line = _check(path, repo_root / "schemas")
    assert str(path) in line and "not found" in line


def test_every_command_has_help_text():
    group = typer.main.get_command(app)  # typer vendors click: duck-type, do not import click
    runner = CliRunner()
    assert {"generate", "task-validate", "task-split", "check-data"} <= set(group.commands)
    for name, command in group.commands.items():
        assert (command.help or "").strip(), f"{name} has no help text"
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (param.help or "").strip(), f"{name} {param.opts} has no help text"
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0 and "check-data" in top.output


@pytest.mark.parametrize(("key", "value", "expected"), [("variants", ["gguf_q3"], "evaluate.variants"), ("tiers", ["easy"], "evaluate.tiers")])
def test_unknown_evaluate_variant_or_tier_is_named(tmp_path: Path, repo_root: Path, key: str, value: list[str], expected: str):
    from stages.core import params as P
    from stages.core.errors import SLMBenchError

    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    raw["evaluate"][key] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SLMBenchError, match=expected):
        P.load(path)


def test_compare_and_audit_bad_input_is_one_line(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(repo_root)
    line = _one_line_error(CliRunner().invoke(app, ["compare", "v2", "v9"]))
    assert "v9" in line and "v2, v3" in line
    line = _one_line_error(CliRunner().invoke(app, ["compare", "v2@", "v3"]))
    assert "VERSION@REV" in line
    line = _one_line_error(CliRunner().invoke(app, ["audit", "--allow", "v7"]))
    assert "--allow v7" in line


def _params_with(tmp_path: Path, repo_root: Path, edit) -> Path:
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


BAD_PARAMS = [
    (lambda p: p["datasets"]["v3"].update(rows_per_schema=-1), "datasets.v3.rows_per_schema"),
    (lambda p: p["evaluate"].update(rows_per_schema=-2), "evaluate.rows_per_schema"),
    (lambda p: p["models"]["smollm2-135m-lora"].update(base="no-such-base"), "models.smollm2-135m-lora.base"),
    (lambda p: p["evaluate"].update(bootstrap_seed="twelve"), "evaluate.bootstrap_seed"),
    (lambda p: p["evaluate"].update(bootstrap_seed=1.5), "evaluate.bootstrap_seed"),
    (lambda p: p["evaluate"].update(bootstrap_samples=1000.5), "evaluate.bootstrap_samples"),
    (lambda p: p["evaluate"].update(bootstrap_samples=True), "evaluate.bootstrap_samples"),
]


@pytest.mark.parametrize(("edit", "key"), BAD_PARAMS, ids=[f"{k}-{i}" for i, (_, k) in enumerate(BAD_PARAMS)])
def test_bad_params_value_is_one_line_naming_the_key(tmp_path: Path, repo_root: Path, edit, key: str):
    """Any stage that loads params refuses these before it writes anything (here: the report)."""
    params = _params_with(tmp_path, repo_root, edit)
    outs = [tmp_path / n for n in ("report.md", "release.json", "quality.json")]
    args = ["report", "--root", str(tmp_path), "--params", str(params)]
    result = CliRunner().invoke(app, [*args, "--out", str(outs[0]), "--release", str(outs[1]), "--quality", str(outs[2])])
    line = _one_line_error(result)
    assert key in line and str(params) in line, line
    assert not [o for o in outs if o.exists()]


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda p: p["datasets"]["v3"].update(generator="v9"), "datasets.v3.generator"),
        (lambda p: p["datasets"]["v3"].update(suite="strict"), "datasets.v3.suite"),
        (lambda p: p["datasets"]["v3"].update(surfaces=["poem"]), "datasets.v3.surfaces"),
        (lambda p: p["teacher"].update(registers=["sonnet"]), "teacher.registers"),
    ],
)
def test_recipe_and_teacher_values_are_checked_by_their_owners(tmp_path: Path, repo_root: Path, edit, key: str):
    """stages.core.params cannot know the generator revisions, suites, surfaces or registers; the generate
    stage checks them through stages.tasks.edgejson.recipes and stages.inference.teacher, before it writes anything."""
    params = _params_with(tmp_path, repo_root, edit)
    out = tmp_path / "generated.jsonl"
    line = _one_line_error(CliRunner().invoke(app, ["generate", "--version", "v3", "--out", str(out), "--params", str(params)]))
    assert key in line, line
    assert not out.exists()


def _evaluate(tmp_path: Path, repo_root: Path, model: Path, data: Path, *extra: str):
    out = tmp_path / "out.json"
    args = ["evaluate", "--model", str(model), "--data", str(data), "--schemas", str(repo_root / "schemas"), "--out", str(out), *extra]
    result = CliRunner().invoke(app, args)
    line = _one_line_error(result)
    assert not out.exists(), "nothing half-written"
    return line


def test_evaluate_a_corrupt_safetensors_without_tokenizer_is_one_line(tmp_path: Path, repo_root: Path, rows_file: Path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}), encoding="utf-8")
    (model / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}" + b"\0" * 64)
    line = _evaluate(tmp_path, repo_root, model, rows_file)
    assert str(model / "model.safetensors") in line and "safetensors" in line
    # readable weights, still no tokenizer: the tokenizer is named
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(model / "model.safetensors"))
    line = _evaluate(tmp_path, repo_root, model, rows_file)
    assert str(model) in line and "tokenizer" in line


def test_evaluate_data_that_is_a_directory_is_one_line(tmp_path: Path, repo_root: Path):
    line = _evaluate(tmp_path, repo_root, tmp_path / "model.gguf", tmp_path)
    assert str(tmp_path) in line and "directory" in line


def test_evaluate_negative_limit_is_refused(tmp_path: Path, repo_root: Path, rows_file: Path):
    line = _evaluate(tmp_path, repo_root, tmp_path / "model.gguf", rows_file, "--limit", "-1")
    assert "--limit" in line and "-1" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--evaluation", "nope", "--input", "model=m.gguf"], "--evaluation: the task 'intent' has no evaluation 'nope'; expected one of mlm, side_by_side"),
        (["--input", "model=m.gguf", "--input", "test=t.jsonl"], "--input labels=PATH is missing: the evaluation intent/mlm"),
        (["--input", "model=m.gguf", "--input", "test=t.jsonl", "--input", "labels=l.json", "--input", "nlm=x"], "--input nlm=: the evaluation intent/mlm"),
        (["--input", "model"], "--input 'model': expected NAME=PATH"),
        (["--input", "model=a", "--input", "model=b"], "--input model=: given twice"),
    ],
)
def test_the_generic_evaluate_names_a_missing_or_unknown_file_before_it_runs(repo_root: Path, args: list[str], expected: str):
    base = ["task-evaluate", "--task", "intent", "--name", "banking77", "--params", str(repo_root / "params.yaml"), "--output", "eval=e.json", "--output", "per_class=p.json"]
    line = _one_line_error(CliRunner().invoke(app, base + args))
    assert expected in line, line


def test_the_generic_evaluate_refuses_an_unknown_task_or_dataset(repo_root: Path):
    base = ["task-evaluate", "--params", str(repo_root / "params.yaml"), "--input", "a=b", "--output", "c=d"]
    assert "--task: 'nope' is not a registered task" in _one_line_error(CliRunner().invoke(app, [*base, "--task", "nope", "--name", "x"]))
    assert "nope" in _one_line_error(CliRunner().invoke(app, [*base, "--task", "intent", "--name", "nope"]))
