"""A dataset version's recipe, checked against what the code implements.

stages.core.params is the ground floor and cannot know which generator revisions, surface forms and
expectation suites exist; their owners do (stages.tasks.edgejson.templates.REVISIONS,
stages.tasks.edgejson.templates.render.SURFACES, stages.tasks.edgejson.checks.SUITES). The stages that use those recipe keys,
generate and validate, load their version's recipe through `recipe()`, so a bad value is
one line naming the key before anything is written.
"""

from __future__ import annotations

from stages.core.errors import SLMBenchError
from stages.core.params import Params, Recipe
from stages.core.params import recipe as lookup
from stages.tasks.edgejson.checks import SUITES
from stages.tasks.edgejson.templates import REVISIONS
from stages.tasks.edgejson.templates.render import SURFACES


def check(version: str, r: Recipe) -> Recipe:
    w = f"params.yaml: datasets.{version}"
    if r.generator not in REVISIONS:
        raise SLMBenchError(f"{w}.generator: expected one of {', '.join(REVISIONS)}, got {r.generator!r}")
    if r.suite not in SUITES:
        raise SLMBenchError(f"{w}.suite: expected one of {', '.join(SUITES)}, got {r.suite!r}")
    bad = [s for s in r.surfaces if s not in SURFACES]
    if bad or not r.surfaces:
        raise SLMBenchError(f"{w}.surfaces: expected a non-empty subset of {', '.join(SURFACES)}, got {r.surfaces!r}")
    return r


def recipe(p: Params, version: str) -> Recipe:
    """`datasets.<version>`, checked; an unknown version names the ones params.yaml defines."""
    return check(version, lookup(p, version))
