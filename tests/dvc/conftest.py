"""Fixtures for the DVC end-to-end tests; the helpers live in dvc_project.py."""

from __future__ import annotations

import pytest
from dvc_project import build_project, data_outputs, dvc


@pytest.fixture(scope="module")
def reference_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A clean from-scratch `dvc repro split` in its own copy: the bytes every other run must match."""
    project = build_project(tmp_path_factory.mktemp("reference"))
    dvc(project, "repro", "split")
    return data_outputs(project)
