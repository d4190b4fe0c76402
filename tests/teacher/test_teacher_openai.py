"""The `openai` teacher backend against a real OpenAI-compatible server on 127.0.0.1.

The server is llama-cpp-python's (`python -m llama_cpp.server`) on the embedded SmolLM2-135M
GGUF, started once for the module and stopped by PID. Faults are real too: a port with no
server, a timeout shorter than any answer, and answers cut so short that they drop values.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from stages.core import params as P
from stages.core.catalog import load_catalog
from stages.tasks.edgejson import generate as G
from stages.tasks.edgejson.checks import five_levels

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> str:
    # A missing server is a failure, never a skip: pyproject.toml installs llama-cpp-python[server].
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as e:
        pytest.fail(f"llama-cpp-python[server] does not import ({e}): run `bash .ci/setup.sh --tests`")
    from stages.inference.prompt import embedded_gguf

    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf("smollm2-135m-instruct")), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--model_alias", "smollm2-135m-instruct"]
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def write_params(tmp: Path, teacher: dict[str, Any], fraction: float = 0.4, rows: int = 1, max_sent: float | None = None) -> Path:
    raw = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["schemas_dir"] = str(REPO_ROOT / "schemas")
    raw["teacher"].update(teacher)
    raw["datasets"]["v3"].update(rows_per_schema=rows, min_per_schema=rows, teacher_fraction=fraction, teacher_max_sent=fraction if max_sent is None else max_sent)
    path = tmp / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def generate(tmp: Path, params: Path, cache: Path) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    out, metrics, log = tmp / "generated.jsonl", tmp / "teacher.json", tmp / "teacher_log.jsonl"
    G.main("v3", params, out, metrics, log, cache)
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    return rows, json.loads(metrics.read_text()), [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]


def teacher_cfg(url: str, **extra: Any) -> dict[str, Any]:
    return {"backend": "openai", "model": "smollm2-135m-instruct", "base_url": url, "attempts": 1, "max_tokens": 160, "openai": {"concurrency": 2, "timeout_s": 120, "retries": 1, "backoff_s": 0.2}} | extra


@pytest.fixture(scope="module")
def first_run(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("openai")
    params = write_params(tmp, teacher_cfg(server), fraction=0.2, max_sent=0.4)  # target 5 of 25 rows, at most 10 offered
    cache = tmp / "cache.jsonl"
    rows, stats, log = generate(tmp, params, cache)
    return {"tmp": tmp, "params": params, "cache": cache, "rows": rows, "stats": stats, "log": log}


def test_teacher_rows_keep_the_template_record(first_run: dict[str, Any]) -> None:
    rows, stats, log = first_run["rows"], first_run["stats"], first_run["log"]
    p = P.load(first_run["params"])
    catalog = load_catalog(Path(p.schemas_dir))
    template = G.run("v3", p.datasets["v3"], catalog, progress=False)
    assert stats["rows_sent"] > 0 and stats["calls"] == stats["rows_sent"] and stats["candidates"] == stats["rows_sent"]
    assert stats["teacher_rows"] + stats["fallbacks"] == stats["rows_sent"] == len(log)
    # waves: offering stops at the target share or at the cap, never between the two
    assert stats["target_rows"] == 5 and stats["max_sent"] == 10 and stats["rows_sent"] <= 10
    if stats["teacher_rows"] < stats["target_rows"]:
        assert stats["rows_sent"] == 10 and stats["waves"] >= 2, stats
    else:
        assert stats["rows_sent"] >= 5, stats
    for row, tmpl in zip(rows, template):
        assert row["id"] == tmpl["id"] and row["expected_output"] == tmpl["expected_output"]  # ground truth is never the teacher's
        if row["source"] == "teacher":
            assert row["prompt"] != tmpl["prompt"] and row["prompt"].split("\n\n")[0] == tmpl["prompt"].split("\n\n")[0]
        else:
            assert row == tmpl  # a fallback is exactly the template row
    teacher_rows = [r for r in rows if r["source"] == "teacher"]
    assert all(not f for f in five_levels(teacher_rows, catalog, (60, 1200)))
    for entry in log:  # every fallback says why
        assert entry["outcome"] in ("teacher", "template fallback")
        assert (entry["outcome"] == "teacher") == ("reason" not in entry), entry


def test_rerun_makes_no_call_and_is_byte_identical(first_run: dict[str, Any]) -> None:
    tmp = first_run["tmp"]
    before = {n: (tmp / n).read_bytes() for n in ("generated.jsonl", "teacher_log.jsonl", "cache.jsonl")}
    rows, stats, _ = generate(tmp, first_run["params"], first_run["cache"])
    assert stats["calls"] == 0 and stats["cache_hits"] == stats["rows_sent"], stats
    assert {n: (tmp / n).read_bytes() for n in before} == before


def test_changing_one_routes_teacher_invalidates_only_its_rows(first_run: dict[str, Any], server: str) -> None:
    tmp = first_run["tmp"]
    simple_sent = sum(1 for e in first_run["log"] if e["id"].split("-")[1] in {"contact_info", "product_info", "sensor_reading", "location", "log_entry", "notification", "rating", "tag_list", "user_profile", "simple_config"})
    cfg = teacher_cfg(server, teachers={"alt": {"backend": "openai", "model": "another-name", "base_url": server}}, routes={"simple": "alt"})
    params = write_params(tmp, cfg)
    _, stats, log = generate(tmp, params, first_run["cache"])
    assert stats["calls"] == simple_sent, (stats, simple_sent)
    assert {e["teacher"] for e in log if e["id"].split("-")[1] == "rating"} <= {"alt"}


def test_server_down_falls_back_with_a_reason(tmp_path: Path) -> None:
    params = write_params(tmp_path, teacher_cfg(f"http://127.0.0.1:{free_port()}/v1", openai={"concurrency": 2, "timeout_s": 5, "retries": 1, "backoff_s": 0.1}))
    rows, stats, log = generate(tmp_path, params, tmp_path / "cache.jsonl")
    assert stats["rows_sent"] > 0 and stats["teacher_rows"] == 0
    assert stats["fallback_reasons"]["server_unreachable"] == stats["rows_sent"], stats
    assert all("unreachable" in e["reason"] for e in log)
    assert all(r["source"] == "template" for r in rows)


def test_answers_that_drop_values_fall_back(tmp_path: Path, server: str) -> None:
    """Answers cut at 6 tokens cannot hold every value: L3 grounding rejects them."""
    params = write_params(tmp_path, teacher_cfg(server, max_tokens=6))
    rows, stats, log = generate(tmp_path, params, tmp_path / "cache.jsonl")
    assert stats["candidates"] == stats["rows_sent"] > 0
    assert stats["teacher_rows"] == 0 and stats["fallback_reasons"]["L3_grounding"] >= 1, stats
    assert any(e["reason"].startswith("L3_grounding:") and "not in text" in e["reason"] for e in log)
    assert all(r["source"] == "template" for r in rows)


def test_a_timeout_falls_back_with_a_reason(tmp_path: Path, server: str) -> None:
    params = write_params(tmp_path, teacher_cfg(server, max_tokens=64, openai={"concurrency": 1, "timeout_s": 0.05, "retries": 0, "backoff_s": 0}), fraction=0.1)
    rows, stats, log = generate(tmp_path, params, tmp_path / "cache.jsonl")
    assert stats["rows_sent"] > 0 and stats["fallback_reasons"]["timeout"] == stats["rows_sent"], stats
    assert all(e["reason"].startswith("timeout after") for e in log)


def test_funccall_requests_are_paraphrased_keeping_every_mention(server: str, tmp_path: Path) -> None:
    """EdgeFuncCall's generate stage with the teacher: a paraphrase keeps every phrase a value comes
    from, or the row keeps its template request; the gate then grounds the paraphrases like any
    request, and a rerun is answered from the cache, byte for byte."""
    from stages.tasks.funccall import generate_stage as funccall_generate
    from stages.tasks.funccall.catalogue import load_catalogue
    from stages.tasks.funccall.checks import row_failures
    from stages.tasks.funccall.rows import read_call_rows
    from stages.tasks.funccall.teacher import rejection

    tp = P.build(P.TeacherParams, teacher_cfg(server), "teacher")
    args = {"seed": 4, "rows": 40, "test_fraction": 0.25, "teacher": tp, "teacher_fraction": 0.5, "teacher_cache": tmp_path / "cache.jsonl"}
    m = funccall_generate.main(REPO_ROOT / "tools", tmp_path / "gen.jsonl", tmp_path / "gen.json", **args)
    rows = read_call_rows(tmp_path / "gen.jsonl")
    t = m["teacher"]
    assert t["enabled"] == 1 and 0 < t["rows_sent"] < 40 and t["teacher_rows"] + sum(t["fallbacks"].values()) == t["rows_sent"], t
    taught = [r for r in rows if r["surface"] == "teacher"]
    assert len(taught) == t["teacher_rows"] and all(r["template_request"] != r["request"] for r in taught)
    assert all(rejection(r["request"], {**r, "request": r["template_request"]}) is None for r in taught)
    catalogue = load_catalogue(REPO_ROOT / "tools")
    assert all(row_failures(r, catalogue) == {} for r in taught), [row_failures(r, catalogue) for r in taught]  # the gate's row checks, grounding included
    first = (tmp_path / "gen.jsonl").read_bytes()
    again = funccall_generate.main(REPO_ROOT / "tools", tmp_path / "gen2.jsonl", tmp_path / "gen2.json", **args)
    assert (tmp_path / "gen2.jsonl").read_bytes() == first and again["teacher"]["cache_misses"] == 0
    # a paraphrase that drops a mention, or brings a number of its own, is refused
    row = next(r for r in rows if r.get("mentions"))
    mention = next(iter(row["mentions"].values()))
    assert rejection(row["request"].replace(mention, "something"), row) == "lost_mention"
    assert rejection(row["request"] + " at 99999", row) == "new_number" and rejection(None, row) == "teacher_error"
