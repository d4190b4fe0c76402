"""The teacher's pure parts: the router, the cache, the five-level validator, and bad params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from stages.cli import app
from stages.core.errors import SLMBenchError
from stages.inference.teacher import DEFAULT, Cache, cache_key, check_url, request_prompt, route, stable_unit
from stages.tasks.edgejson.checks import LEVELS, check_format, five_levels, level_rates, near_duplicates

ROUTES = {"medical": "big", "invoice": "big", "complex": "big", "simple": "small"}


@pytest.mark.parametrize(
    ("schema", "tier", "teacher"),
    [("medical_record", "medium", "big"), ("medical_encounter", "complex", "big"), ("invoice", "medium", "big"),
     ("nested_organization", "complex", "big"), ("rating", "simple", "small"), ("support_ticket", "medium", DEFAULT)],
)
def test_router_matches_keywords_then_tiers_in_order(schema: str, tier: str, teacher: str) -> None:
    assert route(schema, tier, ROUTES) == teacher


def test_router_without_routes_is_the_default() -> None:
    assert route("invoice", "medium", {}) == DEFAULT


def test_only_loopback_urls_without_the_allow_flag() -> None:
    check_url("t", "http://127.0.0.1:8000/v1", False)
    check_url("t", "http://localhost:8000/v1", False)
    with pytest.raises(SLMBenchError, match="not loopback"):
        check_url("t", "https://api.example.com/v1", False)
    check_url("t", "https://api.example.com/v1", True)
    with pytest.raises(SLMBenchError, match="not an http"):
        check_url("t", "ftp://127.0.0.1/", True)


def test_cache_key_changes_with_prompt_model_and_sampling() -> None:
    s = {"temperature": 0.7, "top_p": 0.9, "max_tokens": 64, "seed": 1}
    k = cache_key("p", "m", s)
    assert k == cache_key("p", "m", dict(reversed(list(s.items()))))  # key order does not matter
    assert len({k, cache_key("p2", "m", s), cache_key("p", "m2", s), cache_key("p", "m", s | {"seed": 2}), cache_key("p", "m", s | {"temperature": 0.1})}) == 5


def test_cache_round_trip_is_byte_stable(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    c = Cache(path)
    for k in ("b", "a", "c"):
        c.put(k, f"text {k}", 3)
    c.save(keep={"a", "b"})
    first = path.read_bytes()
    c2 = Cache(path)
    assert c2.get("a") == {"text": "text a", "tokens": 3} and c2.get("c") is None and (c2.hits, c2.misses) == (1, 1)
    c2.save()
    assert path.read_bytes() == first


def test_a_corrupt_cache_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    path.write_text('{"key": "a", "text": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(SLMBenchError, match="cache.jsonl:2"):
        Cache(path)


def test_stable_unit_is_stable_and_spread() -> None:
    xs = [stable_unit(1, "teacher", f"v3-rating-{i:04d}") for i in range(1000)]
    assert xs[:3] == [stable_unit(1, "teacher", f"v3-rating-{i:04d}") for i in range(3)]
    assert 0.25 < sum(x < 0.3 for x in xs) / 1000 < 0.35


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "empty"), ("<|im_start|>assistant\nHi Ana", "chat markup"), ("```\nName: Ana\n```", "chat markup"),
     ("assistant: Hi there", "chat markup"), ("Sure! I will rewrite the text below. Keep every name as is.", "echoes")],
)
def test_l1_format_catches_markup_echo_and_empty_text(text: str, problem: str) -> None:
    (msg,) = check_format("Extract the rating as JSON.\n\n" + text)
    assert problem in msg


def test_l1_format_passes_plain_text() -> None:
    assert check_format("Extract the rating as JSON.\n\nHi team, Ana Ruiz gave the Desk Lamp 4 stars on 2024-03-05.") == []


def _row(i: int, text: str, out: dict[str, Any], source: str = "template") -> dict[str, Any]:
    return {"id": f"v3-rating-{i:04d}", "schema_id": "rating", "complexity": "simple", "prompt": "Extract the rating as JSON.\n\n" + text, "expected_output": out, "source": source}


def test_five_levels_per_row_and_across_rows(catalog: dict[str, Any]) -> None:
    good = {"product_name": "Desk Lamp", "reviewer_name": "Ana Ruiz", "stars": 4, "review_date": "2024-03-05"}
    rows = [
        _row(0, "Ana Ruiz gave the Desk Lamp 4 stars on 2024-03-05, saying it is bright and steady on the desk.", good),
        _row(1, "Ana Ruiz gave the Desk Lamp 4 stars on 2024-03-05, saying it is bright and steady on the desk!", good, "teacher"),  # near-duplicate
        _row(2, "Ana Ruiz gave the Desk Lamp stars on 2024-03-05.", good, "teacher"),  # dropped the 4: L3
        _row(3, "<|assistant|> Ana Ruiz gave the Desk Lamp 4 stars on 2024-03-05.", good, "teacher"),  # L1
        _row(4, "Ana Ruiz gave the Desk Lamp 9 stars on 2024-03-05.", good | {"stars": 9}),  # stars > 5: L2
    ]
    levels = five_levels(rows, catalog, (10, 2000))
    assert levels[0] == {}
    assert set(levels[1]) == {"L5_uniqueness"}
    assert set(levels[2]) == {"L3_grounding"}
    assert "L1_format" in levels[3]
    assert "L2_schema" in levels[4]
    rates = level_rates(rows, levels)
    assert rates["overall"]["all_levels"] == 0.2 and rates["overall"]["rows"] == 5
    assert rates["by_source"]["teacher"]["L3_grounding"] == round(2 / 3, 6)
    assert set(rates["by_schema"]["rating"]) == set(LEVELS) | {"all_levels", "rows"}


def test_near_duplicates_only_within_a_schema() -> None:
    text = "Ana Ruiz gave the Desk Lamp 4 stars on 2024-03-05, saying it is bright and steady."
    rows = [_row(0, text, {}), dict(_row(1, text + " Thanks", {}), schema_id="product_info"), _row(2, text + " Thanks", {})]
    assert near_duplicates(rows) == {2: "v3-rating-0000"}


def test_request_prompt_carries_the_text_and_the_register() -> None:
    p = request_prompt("Name: Ana", "email")
    assert "an email" in p and p.endswith("Name: Ana")


# --- bad params: one line, non-zero exit ------------------------------------------------------


def _generate_with(tmp_path: Path, repo_root: Path, teacher: dict[str, Any]) -> str:
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    raw["schemas_dir"] = str(repo_root / "schemas")
    raw["teacher"].update(teacher)
    raw["datasets"]["v3"].update(rows_per_schema=1, min_per_schema=1, teacher_fraction=0.5)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = tmp_path / "gen.jsonl"
    result = CliRunner().invoke(app, ["generate", "--version", "v3", "--out", str(out), "--params", str(params)])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith("generate v3:")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output, result.stderr
    assert not out.exists()
    return lines[0]


def test_unknown_backend(tmp_path: Path, repo_root: Path) -> None:
    assert "teacher.backend" in _generate_with(tmp_path, repo_root, {"backend": "tgi"})


def test_route_to_an_undefined_teacher(tmp_path: Path, repo_root: Path) -> None:
    line = _generate_with(tmp_path, repo_root, {"backend": "vllm", "routes": {"medical": "qwen14b"}})
    assert "teacher.routes.medical" in line and "qwen14b" in line


def test_remote_url_without_the_allow_flag(tmp_path: Path, repo_root: Path) -> None:
    line = _generate_with(tmp_path, repo_root, {"backend": "openai", "model": "m", "base_url": "http://10.1.2.3:8000/v1"})
    assert "not loopback" in line and "allow_remote" in line


def test_a_missing_model(tmp_path: Path, repo_root: Path) -> None:
    line = _generate_with(tmp_path, repo_root, {"backend": "vllm", "model": str(tmp_path / "no-such-model")})
    assert "no-such-model" in line and "not a directory" in line


def test_a_missing_api_key_variable(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLMBENCH_TEST_KEY", raising=False)
    line = _generate_with(tmp_path, repo_root, {"backend": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "SLMBENCH_TEST_KEY"})
    assert "SLMBENCH_TEST_KEY" in line
