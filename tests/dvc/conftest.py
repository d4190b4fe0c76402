"""Fixtures for the DVC end-to-end tests; the helpers live in dvc_project.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dvc_project import MODEL, Releases, build_project, data_outputs, edit_params, release


@pytest.fixture(scope="session")
def reference_outputs(releases: Releases) -> dict[str, bytes]:
    """The data outputs of a from-scratch `dvc repro` in another copy (the `releases` repo, whose data
    params are the same): the bytes every other run must match."""
    return releases.data


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Releases:
    """The whole graph, base model to report, in a temporary git + DVC repo with a tiny params override
    (4 rows per schema, the tiny random Llama as a local-directory base, one LoRA step, two scored rows).
    It is released twice: on v2 (tag edgejson-v2), then on v3 (tag edgejson-v3). The first commit holds
    no outputs. test_releases.py uses it, all in one module so that it is built once: the full graph is the slow part."""
    root = build_project(tmp_path_factory.mktemp("release") / "proj")

    def tiny(p: dict[str, Any]) -> None:
        p["bases"] = {"tiny": str(tiny_model_dir)}
        m = p["models"][MODEL]
        m.update(base="tiny", r=4, alpha=8, max_steps=1, batch_size=2, grad_accum=1, warmup_steps=0, precision="fp32")
        p["quantize"].update(check_rows_per_schema=1, check_max_tokens=8, check_types=[])
        # the base and the release file, both in llama.cpp, free and constrained (transformers variants: tests/model)
        p["evaluate"].update(rows_per_schema=1, max_rows=2, max_new_tokens=8, hf_batch_size=2, variants=["gguf_base", "gguf_q8_0"])

    edit_params(root, tiny)
    v2 = release(root, "v2", "release on v2")
    data = data_outputs(root)
    names = [f"metrics/models/{MODEL}/{n}.json" for n in ("eval", "train", "quantize")] + ["metrics/report.md", f"models/{MODEL}/predictions.jsonl", f"models/{MODEL}/README.md"]
    v2_files = {n: (root / n).read_bytes() for n in names}
    # the second release scores only the variant the history tests (test_releases.py) read
    edit_params(root, lambda p: p["evaluate"].update(variants=["gguf_q8_0"]))
    v3 = release(root, "v3", "release on v3")
    return Releases(root, v2, v3, data, v2_files)
