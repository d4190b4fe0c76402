"""`slmbench train --model smollm2-135m-lora --train data/v3/train.jsonl ...`: EdgeJSON's train stage.

Reads the model's settings (`models.<name>`) and the schema catalog, builds EdgeJSON's training
chats (stages/train/train.py: `edgejson_chats`) and trains them with the shared LoRA loop
(stages/train/train.py: `run`). The generic train stage (stages/pipeline/train.py:
EdgeIntent's and EdgeFuncCall's MLMs) trains through the same loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.train.train import edgejson_chats, run


def main(
    name: str, params_path: Path, train_file: Path, base_dir: Path, adapter: Path, merged: Path, metrics: Path, live_dir: Path, schemas: Path | None = None
) -> dict[str, Any]:
    """`schemas`: the generated schemas some train rows use (`generate --schemas-out`)."""
    from stages.core import params as P
    from stages.core.catalog import load_catalog, with_generated
    from stages.core.records import read_rows, write_json

    p = P.load(params_path)
    if name not in p.models:
        raise SLMBenchError(f"params.yaml: no model {name!r} under models; expected one of {', '.join(p.models)}")
    catalog = with_generated(load_catalog(Path(p.schemas_dir)), schemas)
    result = run(name, p.models[name], base_dir, edgejson_chats(read_rows(train_file), catalog), adapter, merged, live_dir)
    if result:  # process 0 (the only one outside torchrun) writes the metrics
        write_json(metrics, result)
    return result
