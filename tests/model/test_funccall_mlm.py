"""EdgeFuncCall's MLM on a tiny random Llama with the real SmolLM2 tokenizer: the prompt and answer
format, training on generated rows (and its refusal to train on BFCL questions), the GGUF with its
check, and answers constrained by each row's tools in both runtimes (llama.cpp GBNF, llguidance).
A random model writes nonsense when free, so every constrained answer that names an offered tool
with schema-valid arguments is the constraint at work."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from stages.cli import app
from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.inference.call_lm import CallLM
from stages.inference.tool_calls import answer_schema, answer_text
from stages.pipeline.quantize import main as quantize_main
from stages.pipeline.train import leaks
from stages.pipeline.train import main as train_main
from stages.tasks import registry
from stages.tasks.funccall.bfcl import category_files
from stages.tasks.funccall.catalogue import FORMAT_CHECKER
from stages.tasks.funccall.evaluation import evaluate_calls
from stages.tasks.funccall.generate_stage import main as generate_main
from stages.tasks.funccall.prompt import chat_messages, tool_text
from stages.tasks.funccall.rows import read_call_rows, write_call_rows
from stages.train.train import encode_chats

pytestmark = pytest.mark.slow

TOOL = {
    "name": "set_alarm",
    "description": "Set an alarm.",
    "parameters": {
        "type": "object",
        "properties": {
            "time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
            "days": {"type": "array", "items": {"type": "string", "enum": ["mon", "tue"]}},
            "label": {"type": "string", "description": "What it is for", "default": ""},
        },
        "required": ["time"],
        "additionalProperties": False,
    },
}


def test_the_prompt_shows_signatures_and_the_answer_follows_the_grammar_order() -> None:
    assert tool_text(TOOL) == 'set_alarm: Set an alarm.\n  time: string /^([01][0-9]|2[0-3]):[0-5][0-9]$/\n  days?: list["mon"|"tue"]\n  label?: string = ""  # What it is for'
    system, user = chat_messages("wake me at 7", [TOOL])
    assert user == {"role": "user", "content": "wake me at 7"} and tool_text(TOOL) in system["content"] and '{"calls":[]}' in system["content"]
    # arguments in the grammar's order (required first), whatever order the row holds them in
    assert answer_text([{"name": "set_alarm", "arguments": {"label": "gym", "time": "07:00"}}], [TOOL]) == (
        '{"calls":[{"name":"set_alarm","arguments":{"time":"07:00","label":"gym"}}]}'
    )
    schema = answer_schema([TOOL, {"name": "stop", "description": "", "parameters": {"type": "object", "properties": {}}}], max_calls=2)
    ok = [{"calls": []}, {"calls": [{"name": "stop", "arguments": {}}, {"name": "set_alarm", "arguments": {"time": "23:59", "days": ["mon"]}}]}]
    bad = [
        {"calls": [{"name": "other", "arguments": {}}]},  # a tool not offered
        {"calls": [{"name": "set_alarm", "arguments": {"time": "7am"}}]},  # breaks the pattern
        {"calls": [{"name": "set_alarm", "arguments": {"time": "07:00", "volume": 3}}]},  # an undeclared argument
        {"calls": [{"name": "stop", "arguments": {}}] * 3},  # more calls than max_calls
        {"calls": [{"name": "set_alarm", "arguments": {}}]},  # a required argument missing
    ]
    v = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    assert all(v.is_valid(x) for x in ok) and not any(v.is_valid(x) for x in bad)


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> dict[str, Any]:
    """A small generated dataset from the real catalogue, split as the stages split it."""
    out = tmp_path_factory.mktemp("funccall-rows")
    generate_main(repo_root / "tools", out / "generated.jsonl", out / "generate.json", seed=5, rows=60, test_fraction=0.25)
    made = read_call_rows(out / "generated.jsonl")
    train, test = [r for r in made if r["split"] == "train"], [r for r in made if r["split"] == "test"]
    write_call_rows(out / "train.jsonl", train)
    write_call_rows(out / "test.jsonl", test[:8])
    return {"dir": out, "train": train, "test": test[:8]}


@pytest.fixture(scope="module")
def mlm(tiny_model_dir: Path, repo_root: Path, rows: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two LoRA steps on generated rows through the stage, merged, converted and quantized to Q8_0 by the stage."""
    out = tmp_path_factory.mktemp("funccall-mlm")
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    raw["schemas_dir"] = str(repo_root / "schemas")
    raw["funccall"]["mlm"].update(r=4, alpha=8, max_steps=2, batch_size=4, warmup_steps=0, precision="fp32", train_rows=8)
    raw["funccall"]["mlm_scoring"].update(
        check_rows=4, min_agreement=0.0, parallel=4, max_new_tokens=48
    )  # a random model's answers part between runtimes (llama.cpp's JSON grammar lets it write spaces): the bar is tested below
    params = out / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    train = train_main(
        "funccall", "edgefunccall", params, rows["dir"] / "train.jsonl", tiny_model_dir, out / "adapter", out / "checkpoint", out / "train.json", out / "live",
        holdout=[rows["dir"] / "test.jsonl"],
    )  # the generic train stage, with the test rows as the held-out file
    quantized = quantize_main("funccall", "edgefunccall", params, out / "adapter", tiny_model_dir, out / "merged", rows["dir"] / "test.jsonl", out / "gguf", out / "quantize.json")
    return {"dir": out, "train": train, "quantize": quantized, "params": params}


def test_training_learns_the_answer_and_eos_only(tiny_model_dir: Path, rows: dict[str, Any]) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    r = rows["train"][0]
    chats = [(chat_messages(r["request"], r["tools"]), answer_text(r["calls"], r["tools"]))]
    (ex,), dropped = encode_chats(chats, tok, 2048)
    learned = [t for t, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab != -100]
    assert dropped == 0 and tok.decode(learned) == answer_text(r["calls"], r["tools"]) + tok.eos_token


def test_train_and_quantize_stages(mlm: dict[str, Any], rows: dict[str, Any], tiny_model_dir: Path, tmp_path: Path) -> None:
    assert mlm["train"]["train_rows"] == 8 and mlm["train"]["steps"] == 2 and mlm["train"]["holdout_leaks"] == 0 and mlm["train"]["holdout_rows"] == 8
    q = json.loads((mlm["dir"] / "quantize.json").read_text(encoding="utf-8"))
    assert q["size_bytes"] == (mlm["dir"] / "gguf" / "model-q8_0.gguf").stat().st_size and q["check_n"] == 4
    assert sorted(f.name for f in (mlm["dir"] / "gguf").iterdir()) == ["model-q8_0.gguf"], "a per-row JSON-schema task has no label set to write"
    assert q["agreement_ci95"][0] <= q["agreement"] <= q["agreement_ci95"][1]
    if q["agreement"] < 1.0:  # the bar fails the stage and keeps no GGUF
        raw = yaml.safe_load(mlm["params"].read_text(encoding="utf-8"))
        raw["funccall"]["mlm_scoring"]["min_agreement"] = 1.0
        strict = tmp_path / "params.yaml"
        strict.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        with pytest.raises(SLMBenchError, match="below the floor funccall.mlm_scoring.min_agreement 1.0 .*worst row"):
            quantize_main("funccall", "edgefunccall", strict, mlm["dir"] / "adapter", tiny_model_dir, tmp_path / "merged", rows["dir"] / "test.jsonl", tmp_path / "gguf", tmp_path / "quantize.json")
        assert not (tmp_path / "gguf").exists() and not (tmp_path / "quantize.json").exists()


def test_training_refuses_rows_that_are_bfcl_questions(rows: dict[str, Any], tmp_path: Path) -> None:
    questions, answers = category_files("simple_python")
    from stages.tasks.funccall.bfcl import convert

    bfcl = convert(questions, answers, "simple_python")[:3]
    write_call_rows(tmp_path / "bfcl_simple_python.jsonl", bfcl)
    leaked = [*rows["train"][:5], {**rows["train"][5], "request": "  " + bfcl[1]["request"].upper() + " "}]
    funccall = registry.pipeline_task("funccall", "--task", ("read_rows", "leak_key"))
    assert leaks(funccall, leaked, [tmp_path / "bfcl_simple_python.jsonl"]) == ([(leaked[-1]["id"], bfcl[1]["id"])], 3)
    assert leaks(funccall, rows["train"], [tmp_path / "bfcl_simple_python.jsonl"]) == ([], 3)
    (tmp_path / "t").mkdir()
    write_call_rows(tmp_path / "t" / "train.jsonl", leaked)
    with pytest.raises(SLMBenchError, match=rf"^funccall-train edgefunccall: 1 training rows are held-out test rows \(first: {leaked[-1]['id']} = {bfcl[1]['id']}\)"):
        train_main("funccall", "edgefunccall", Path("params.yaml"), tmp_path / "t" / "train.jsonl", tmp_path, tmp_path / "a", tmp_path / "m", tmp_path / "t.json", tmp_path / "l", holdout=[tmp_path])


SHORT_TOOLS = [  # no free-text argument: a random model's constrained answer must end within a few tokens
    {"name": "set_lights", "description": "Lights on or off.", "parameters": {"type": "object", "properties": {"on": {"type": "boolean"}}, "required": ["on"]}},
    {"name": "set_mode", "description": "The mode.", "parameters": {"type": "object", "properties": {"mode": {"enum": ["eco", "boost"]}, "level": {"enum": [1, 2]}}, "required": ["mode"]}},
]


def test_both_runtimes_answer_only_with_offered_tools_and_valid_arguments(mlm: dict[str, Any], rows: dict[str, Any]) -> None:
    requests = [r["request"] for r in rows["test"]]
    offered = [SHORT_TOOLS, SHORT_TOOLS[1:], SHORT_TOOLS[:1], SHORT_TOOLS] * 2
    chats = [chat_messages(q, t) for q, t in zip(requests, offered, strict=False)]
    schemas = [answer_schema(t, 2) for t in offered[: len(chats)]]
    for model in (mlm["dir"] / "gguf" / "model-q8_0.gguf", mlm["dir"] / "merged"):
        lm = CallLM(model, threads=2, parallel=4, batch_size=4, max_new_tokens=256)  # llama.cpp's grammar lets a random model write whitespace
        got = lm.answer(chats, schemas, ["free", "constrained"])
        for tools, s, g in zip(offered, schemas, got["constrained"], strict=False):
            assert g.finish == "stop", (model.name, g)
            answer = json.loads(g.text)
            jsonschema.validate(answer, s, format_checker=FORMAT_CHECKER)
            assert {c["name"] for c in answer["calls"]} <= {t["name"] for t in tools} and len(answer["calls"]) <= 2
        assert len(got["free"]) == len(chats)


def test_evaluate_calls_reports_every_metric_with_intervals(mlm: dict[str, Any], rows: dict[str, Any], tmp_path: Path) -> None:
    gguf = mlm["dir"] / "gguf" / "model-q8_0.gguf"
    r = evaluate_calls(gguf, rows["test"], ["constrained"], samples=200, parallel=4, max_new_tokens=48, isolate=False, predictions_out=tmp_path / "p.jsonl")
    c = r["constrained"]
    assert c["n"] == len(rows["test"]) and c["ast_accuracy_ci95"][0] <= c["ast_accuracy"] <= c["ast_accuracy_ci95"][1]
    for key in ("name_accuracy", "json_parse", "schema_valid"):
        assert key in c and f"{key}_ci95" in c and c[f"{key}_n"] == len(rows["test"])
    assert sum(v["n"] for v in c["by_domain"].values()) == len(rows["test"]) and set(c["by_kind"]) <= {"single", "parallel", "none"}
    assert r["size_bytes"] == gguf.stat().st_size and r["runtime"] == "llama.cpp" and c["tokens"] > 0
    preds = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [p["id"] for p in preds] == [x["id"] for x in rows["test"]] and all("text" in p["constrained"] for p in preds)


def test_the_cli_scores_a_gguf_on_bfcl_files_and_on_our_rows(mlm: dict[str, Any], rows: dict[str, Any], tmp_path: Path) -> None:
    questions, answers = category_files("simple_python")
    small_q, small_a = tmp_path / "BFCL_v4_simple_python.json", tmp_path / "answers.json"
    small_q.write_text("".join(questions.read_text(encoding="utf-8").splitlines(keepends=True)[:4]), encoding="utf-8")
    small_a.write_text("".join(answers.read_text(encoding="utf-8").splitlines(keepends=True)[:4]), encoding="utf-8")
    irrelevance = category_files("irrelevance")[0]
    small_i = tmp_path / "BFCL_v4_irrelevance.json"
    small_i.write_text("".join(irrelevance.read_text(encoding="utf-8").splitlines(keepends=True)[:3]), encoding="utf-8")
    gguf = str(mlm["dir"] / "gguf" / "model-q8_0.gguf")
    runner = CliRunner()
    cases = (
        (["--data", str(small_q), "--answers", str(small_a), "--constrained"], 4, "ast_accuracy"),
        (["--data", str(small_i)], 3, "irrelevance_accuracy"),  # no answers file: an irrelevance set, no call expected
        (["--data", str(rows["dir"] / "test.jsonl"), "--constrained"], len(rows["test"]), "name_accuracy"),
    )
    for extra, n, key in cases:
        out = tmp_path / "out.json"
        res = runner.invoke(app, ["evaluate", "--task", "funccall", "--model", gguf, "--out", str(out), "--parallel", "4", "--max-new-tokens", "48", *extra])
        assert res.exit_code == 0, res.output
        r = json.loads(out.read_text(encoding="utf-8"))
        assert r["n"] == n and "ast_accuracy" in r and key in r and r["decoding"] == ("constrained" if "--constrained" in extra else "free")


def test_bad_funccall_input_is_one_line(mlm: dict[str, Any], rows: dict[str, Any], tmp_path: Path) -> None:
    gguf = str(mlm["dir"] / "gguf" / "model-q8_0.gguf")
    bad_type = tmp_path / "BFCL_v4_simple_python.json"
    q = json.loads(category_files("simple_python")[0].read_text(encoding="utf-8").splitlines()[0])
    q["function"][0]["parameters"]["properties"]["base"]["type"] = "datetime"
    bad_type.write_text(json.dumps(q) + "\n", encoding="utf-8")
    not_offered = tmp_path / "rows.jsonl"
    row = dict(rows["test"][0], accepted=[{"name": "no_such_tool", "arguments": {}}])
    write_call_rows(not_offered, [row])
    for data, extra, message in (
        (bad_type, ["--answers", str(category_files("simple_python")[1])], "has type 'datetime'"),
        (not_offered, [], "names the tool 'no_such_tool', which the row does not offer"),
        (rows["dir"] / "test.jsonl", ["--answers", str(bad_type)], "--answers goes with a BFCL questions file"),
    ):
        res = CliRunner().invoke(app, ["evaluate", "--task", "funccall", "--model", gguf, "--data", str(data), "--out", str(tmp_path / "o.json"), *extra])
        assert res.exit_code != 0 and message in res.output and res.output.strip().count("\n") == 0, res.output
    assert not (tmp_path / "o.json").exists()


def test_funccall_params_are_checked(mlm: dict[str, Any]) -> None:
    p = P.load(mlm["params"])
    for section, change, message in (
        ("mlm_scoring", {"qtype": "q2_k"}, "funccall.mlm_scoring.qtype"),
        ("mlm_scoring", {"decodings": ["beam"]}, "funccall.mlm_scoring.decodings"),
        ("mlm_scoring", {"n_ctx": 0}, "funccall.mlm_scoring.n_ctx: expected 1 or more"),
        ("mlm", {"lora_r": 4}, "unknown key funccall.mlm.lora_r"),
    ):
        bad = dataclasses.replace(p, funccall=dataclasses.replace(p.funccall, **{section: {**getattr(p.funccall, section), **change}}))
        with pytest.raises(SLMBenchError, match=message):
            P.funccall_mlm(bad)
    for change, message in (({"none_share": 0.6, "parallel_share": 0.5}, "none_share \\+ parallel_share"), ({"distractors": [3, 1]}, "distractors")):
        datasets = {"edgefunccall": {**p.funccall.datasets["edgefunccall"], **change}}
        bad = dataclasses.replace(p, funccall=dataclasses.replace(p.funccall, datasets=datasets))
        with pytest.raises(SLMBenchError, match=message):
            P.funccall_data(bad, "edgefunccall")
    with pytest.raises(SLMBenchError, match="no funccall dataset 'nope'"):
        P.funccall_data(p, "nope")
    with pytest.raises(SLMBenchError, match="unknown category 'parallel'"):
        P.funccall_bfcl(dataclasses.replace(p, funccall=dataclasses.replace(p.funccall, bfcl=["parallel"])))
