"""EdgeIntent's NLM in the browser: its page as a self-contained folder (`slmbench intent-page`); serve it with any static HTTP server.

    build_site(Path("models/nlm-banking77"), Path("site/intent/banking77"))

The folder holds the page (web/intent/: index.html, app.js, featurize.js), onnxruntime-web's
wasm backend (ort.wasm.min.js, ort-wasm-simd-threaded.mjs and .wasm, fetched once from the npm
registry by `bash .ci/web.sh` into <venv>/share/slmbench/web; override with SLMBENCH_WEB) and the
model (model.onnx, nlm.json). Nothing is loaded from elsewhere at run time. The page needs HTTP:
browsers refuse module scripts and wasm from file:// URLs. The wasm runtime is about 14 MB; the
model's own files are what `size_mb` counts.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from stages.core.errors import SLMBenchError
from stages.core.records import atomic_dir
from stages.inference.nlm_runtime import CONFIG_FILE, MODEL_FILE, model_files

PAGE_FILES = ("index.html", "app.js", "featurize.js")
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm", "onnxruntime-web.package.json")
PAGE_DIR = Path(__file__).resolve().parents[3] / "web" / "intent"  # the repo's web/intent (editable install)


def runtime_dir() -> Path:
    return Path(os.environ.get("SLMBENCH_WEB", Path(sys.prefix) / "share" / "slmbench" / "web"))


def build_site(model_dir: Path, out_dir: Path, page_dir: Path | None = None, runtime: Path | None = None) -> Path:
    """Assemble page + runtime + model into `out_dir` (replaced atomically); returns `out_dir`."""
    onnx_path, config_path = model_files(Path(model_dir))
    page_dir = Path(page_dir) if page_dir is not None else PAGE_DIR
    runtime = Path(runtime) if runtime is not None else runtime_dir()
    missing_page = [f for f in PAGE_FILES if not (page_dir / f).is_file()]
    if missing_page:
        raise SLMBenchError(f"{page_dir}: the page's {', '.join(missing_page)} not found; expected the repo's web/intent folder")
    missing = [f for f in RUNTIME_FILES if not (runtime / f).is_file()]
    if missing:
        raise SLMBenchError(f"{runtime}: onnxruntime-web's {', '.join(missing)} not found; run `bash .ci/web.sh` (fetches it from the npm registry once)")
    with atomic_dir(Path(out_dir)) as staging:
        for name in PAGE_FILES:
            shutil.copyfile(page_dir / name, staging / name)
        for name in RUNTIME_FILES:
            shutil.copyfile(runtime / name, staging / name)
        shutil.copyfile(onnx_path, staging / MODEL_FILE)
        shutil.copyfile(config_path, staging / CONFIG_FILE)
    return Path(out_dir)
