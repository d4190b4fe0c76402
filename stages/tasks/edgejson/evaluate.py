"""EdgeJSON's evaluation (stages/tasks/registry.py: PIPELINE_PARTS, EVALUATIONS), for the generic
evaluate stage (stages/pipeline/evaluate.py, whose TASK_MODULE is `evaluate`): `release`, the
evaluate@<model> stage. A stage's `--name` is a model of `models:`. Every variant of
`evaluate.variants` (the base and the fine-tuned model, in transformers and in llama.cpp), free and
constrained, on test_seen; the release variant also on every row of test_unseen
(stages/tasks/edgejson/evaluation.py). Writes eval.json, eval_by_schema.json and the predictions."""

from __future__ import annotations

from pathlib import Path

from stages.core.evaluation import Evaluation
from stages.tasks.edgejson.model_entry import NAME, TITLE, recipe  # noqa: F401 (the interface's lookup of a model)


def _release(params_path: Path, name: str, i: dict[str, Path], o: dict[str, Path]) -> str:
    from stages.tasks.edgejson.evaluation import main

    ev = main(name, params_path, i["test"], i["base"], i["merged"], i["gguf"], o["eval"], o["by_schema"], o["predictions"], i.get("test_unseen"))
    parts = [f"{v}/{d} json_exact {f['json_exact']:.3f} (n={f['n']})" for v, ds in ev.items() if v != "test_unseen" for d, f in ds.items()]
    return f"edgejson {name} release: test_seen " + ", ".join(parts)


EVALUATIONS = {
    "release": Evaluation(
        "every variant, free and constrained, on test_seen; the release variant on test_unseen too",
        _release,
        {
            "test": "test JSONL (test_seen)",
            "base": "the base checkpoint folder (the untuned variants)",
            "merged": "the merged model folder (hf_tuned)",
            "gguf": "the quantize stage's GGUF folder (model-q8_0.gguf, the 4-bit file, base-q8_0.gguf)",
        },
        {"eval": "eval.json to write", "by_schema": "eval_by_schema.json to write", "predictions": "per-row predictions JSONL to write"},
        optional_inputs={"test_unseen": "test JSONL of the held-out schemas (test_unseen)"},
    ),
}
