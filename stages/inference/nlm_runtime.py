"""Running a deployed NLM with onnxruntime: `model.onnx` and `nlm.json` side by side in a folder.

    model = load_nlm(Path("models/nlm-banking77"))   # the folder, or its model.onnx
    model.predict(["I still have not received my card"])  # -> ["card_arrival"]

`nlm.json` (written by stages/train/nlm.py) holds the label list (output column i is labels[i]),
the featuriser specification (stages/inference/nlm_features.py, which the browser's featurize.js
follows), and the out-of-scope rule: when `oos_label` is set, a query whose highest softmax
probability is below `oos_threshold` is answered `oos_label`.

The graph takes `ids` (int64, batch x width) and `mask` (float32, batch x width, 1 where an id
counts) and gives `logits` (float32, batch x n_labels). A file that is not ONNX, a graph without
those inputs, or an output whose width is not the label count is a one-line SLMBenchError.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stages.core.errors import SLMBenchError
from stages.inference.nlm_features import FeatureSpec, Featurizer

MODEL_FILE = "model.onnx"
CONFIG_FILE = "nlm.json"
FORMAT = "slmbench-nlm"  # nlm.json's "format"
INPUTS = ("ids", "mask")
OUTPUT = "logits"
BATCH = 64  # queries per onnxruntime call in predict(); memory is batch x width x dim floats


def model_files(path: Path) -> tuple[Path, Path]:
    """(model.onnx, nlm.json) of a model folder, or of an .onnx file with its nlm.json beside it."""
    path = Path(path)
    onnx_path = path / MODEL_FILE if path.is_dir() else path
    config = onnx_path.parent / CONFIG_FILE
    if not onnx_path.is_file():
        raise SLMBenchError(f"{onnx_path}: file not found; expected an NLM folder holding {MODEL_FILE} and {CONFIG_FILE}, or an .onnx file")
    if not config.is_file():
        raise SLMBenchError(f"{config}: file not found; an NLM's .onnx file needs its {CONFIG_FILE} beside it (labels and featuriser)")
    return onnx_path, config


def read_config(config: Path) -> dict[str, Any]:
    try:
        obj = json.loads(Path(config).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SLMBenchError(f"{config}: not a JSON file ({exc}); expected the NLM's {CONFIG_FILE}") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise SLMBenchError(f'{config}: not an NLM configuration; expected a JSON object with "format": "{FORMAT}"')
    labels = obj.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels) or len(set(labels)) != len(labels):
        raise SLMBenchError(f"{config}: key 'labels' must be a non-empty list of distinct strings")
    try:
        FeatureSpec.from_json(obj.get("features") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise SLMBenchError(f"{config}: key 'features' is not a featuriser specification ({exc})") from None
    return obj


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


class NLM:
    """A loaded NLM: featuriser, onnxruntime session, labels and the out-of-scope rule."""

    def __init__(self, path: Path, threads: int = 1):
        import onnxruntime as ort

        self.onnx_path, self.config_path = model_files(path)
        self.config = read_config(self.config_path)
        self.labels: list[str] = list(self.config["labels"])
        self.featurizer = Featurizer(FeatureSpec.from_json(self.config["features"]))
        self.oos_label: str | None = self.config.get("oos_label")
        self.oos_threshold = float(self.config.get("oos_threshold") or 0.0)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3  # errors only: warnings would reach the user's terminal
        try:
            self.session = ort.InferenceSession(str(self.onnx_path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail / InvalidProtobuf / InvalidGraph types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SLMBenchError(f"{self.onnx_path}: not a loadable ONNX model ({first[:200]})") from None
        names = [i.name for i in self.session.get_inputs()]
        if sorted(names) != sorted(INPUTS):
            raise SLMBenchError(f"{self.onnx_path}: graph inputs {names}; expected {list(INPUTS)} (int64 ids and float32 mask, batch x width)")
        width = self._output_width()
        if width != len(self.labels):
            raise SLMBenchError(f"{self.onnx_path}: the model outputs {width} scores per query but {self.config_path.name} lists {len(self.labels)} labels")

    def _output_width(self) -> int:
        out = self.session.get_outputs()[0]
        if len(out.shape) == 2 and isinstance(out.shape[1], int):
            return out.shape[1]
        ids, mask = self.featurizer.batch([""])
        return int(self.session.run(None, {"ids": ids, "mask": mask})[0].shape[-1])

    @property
    def files(self) -> list[Path]:
        """The deployed files: what a page downloads."""
        return [self.onnx_path, self.config_path]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """float32, len(texts) x n_labels."""
        parts = [np.zeros((0, len(self.labels)), dtype=np.float32)]
        for start in range(0, len(texts), BATCH):
            ids, mask = self.featurizer.batch(texts[start : start + BATCH])
            parts.append(self.session.run([OUTPUT], {"ids": ids, "mask": mask})[0])
        return np.concatenate(parts)

    def decide(self, logits: np.ndarray) -> list[str]:
        """Labels from logits: the argmax (first of ties), or `oos_label` below the threshold."""
        probs = softmax(logits)
        best = probs.argmax(axis=-1)
        out = [self.labels[i] for i in best]
        if self.oos_label is not None and self.oos_threshold > 0:
            low = probs.max(axis=-1) < self.oos_threshold
            out = [self.oos_label if lo else y for y, lo in zip(out, low, strict=True)]
        return out

    def predict(self, texts: Sequence[str]) -> list[str]:
        return self.decide(self.logits(texts))


def load_nlm(path: Path, threads: int = 1) -> NLM:
    return NLM(Path(path), threads=threads)


def predict_onnx(model_dir: Path, texts: Sequence[str]) -> list[str]:
    """The labels an NLM folder (or its .onnx) gives `texts`, through onnxruntime."""
    return load_nlm(model_dir).predict(list(texts))
