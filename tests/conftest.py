"""Shared fixtures for SLMBench's tests: the repo, its real params and catalog, tiny params copies."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

# Great Expectations must not phone home from a test run (validate also sets this default).
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

REPO_ROOT = Path(__file__).resolve().parents[1]
# The longest modules first (their fixtures build pipelines or start engines): with `--dist loadfile`
# the two workers take modules in collection order, so the run does not end on one long module
# started late. Measured with --durations on a 2-core machine; the rest keep their order.
LONGEST_FIRST = (
    "tests/dvc/test_releases.py",
    "tests/teacher/test_teacher_vllm.py",
    "tests/teacher/test_teacher_openai.py",
    "tests/dvc/test_intent.py",
    "tests/dvc/test_funccall.py",
    "tests/model/test_grammar.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each module, and of the other modules, stays


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_params(repo_root: Path) -> Any:
    from stages.core import params as P

    return P.load(repo_root / "params.yaml")


@pytest.fixture(scope="session")
def catalog(repo_root: Path) -> dict[str, Any]:
    from stages.core.catalog import load_catalog

    return load_catalog(repo_root / "schemas")


@pytest.fixture
def make_params(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write a params.yaml copy into tmp_path; `overrides` maps a version to recipe keys to change.

    The copy points `schemas_dir` at the repo's schemas by absolute path, so commands can run
    from any working directory.
    """
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "False")

    def write(name: str = "params.yaml", **overrides: dict[str, Any]) -> Path:
        raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
        raw["schemas_dir"] = str(repo_root / "schemas")
        for version, changes in overrides.items():
            raw["datasets"][version].update(changes)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def tiny_params(make_params: Callable[..., Path]) -> Path:
    """A params.yaml copy with 4 rows per schema (and a coverage minimum of 4) for v2 and v3."""
    tiny = {"rows_per_schema": 4, "min_per_schema": 4}
    return make_params(v2=dict(tiny), v3=dict(tiny))


# A tiny randomly initialised Llama with the real SmolLM2 tokenizer, built once per session.
@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from stages.inference.prompt import embedded_gguf

    gguf = embedded_gguf("smollm2-135m-instruct")
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,  # a multiple of 32, so GGUF Q8_0/Q4_0 blocks fit
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        initializer_range=0.02,  # small layers: the residual stream carries the embeddings, so f16/Q8_0/Q4 rounding cannot flip greedy choices
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.eos_token_id,
    )
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        model.model.embed_tokens.weight.normal_(0.0, 1.0)  # tied: wide logit gaps, no near-ties for greedy decoding
    out = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def embedded_hf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded SmolLM2-135M-Instruct converted to a transformers directory (the base_model stage)."""
    from stages.train.base_model import run

    return run("embedded:smollm2-135m-instruct", tmp_path_factory.mktemp("embedded-hf") / "smollm2")
