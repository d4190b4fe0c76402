"""Teacher paraphrasing: a teacher LLM rewrites a row's text in a register, keeping every value.

The ground truth never comes from the teacher: `expected_output` stays the Faker record, and a
paraphrase is kept only when the five-level validator (stages.tasks.edgejson.checks.five_levels) passes it;
otherwise the row keeps its template text and the reason is counted.

Backends (`teacher.backend`, and per route):
- `vllm`: in-process `vllm.LLM` with batched generation, run in the interpreter of the
  environment that has vLLM (`teacher.vllm.python`; see stages/inference/teacher_vllm.py, which imports
  nothing from this package).
- `openai`: any OpenAI-compatible server (`vllm serve`, llama.cpp's server) with bounded
  concurrency, a timeout and retries with backoff. Only loopback URLs unless `allow_remote`.
- `none`: no teacher.

Outputs are cached in a JSONL file keyed by sha256(prompt, model, sampling params incl. the
per-request seed), so a rerun with unchanged inputs makes no call, and changing the model or the
sampling invalidates exactly the rows it touches. The teacher's text is data: it is checked and
stored, never executed or evaluated.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from stages.core.errors import SLMBenchError

REGISTERS = ("email", "chat", "note", "report")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT = "default"

# Measured on 48 v3 rows with the embedded 135M teacher (vLLM, fp32): all-five pass rate 0.17 for
# a plain "keep every value" request at temperature 0.7, 0.35 at 0.3, 0.40 with this wording at 0.3.
REQUEST = (
    "Rewrite the text below as {article} {register}. Copy every name, number, date, code, email "
    "address and ID character for character; never round, reformat, translate or skip a value, "
    "and add no new values. Answer with the rewritten text only.\n\nText:\n{text}"
)


@dataclass(frozen=True)
class Result:
    text: str | None  # None when the call failed
    error: str | None = None  # why it failed: "server unreachable: ...", "timeout after 5s", ...
    tokens: int = 0
    cached: bool = False


def request_prompt(text: str, register: str) -> str:
    return REQUEST.format(article="an" if register[0] in "aeiou" else "a", register=register, text=text)


def stable_unit(*parts: Any) -> float:
    """A number in [0, 1) from the parts, stable across runs (row selection, registers, seeds)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def derived_seed(*parts: Any) -> int:
    return int(stable_unit(*parts) * 2**31)


# ---------------------------------------------------------------------------------------------
# routing


def route(schema_id: str, tier: str, routes: dict[str, str]) -> str:
    """The teacher for a schema: the first route (in params order) whose key is the schema's tier
    or a keyword contained in the schema id (`medical` matches `medical_record`); else `default`."""
    for key, teacher in routes.items():
        if key == tier or key in schema_id:
            return teacher
    return DEFAULT


def check_url(name: str, base_url: str, allow_remote: bool) -> None:
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SLMBenchError(f"params.yaml: teacher {name}: base_url {base_url!r} is not an http(s) URL")
    if parsed.hostname not in LOOPBACK_HOSTS and not allow_remote:
        raise SLMBenchError(f"params.yaml: teacher {name}: base_url {base_url!r} is not loopback; set allow_remote: true to send data to another host")


def check_params(t: Any) -> None:
    """The `teacher` section (a stages.core.params.TeacherParams) against the backends, registers and
    URLs this module implements; the generate stage calls it when it loads params."""
    backends = ("none", "vllm", "openai")
    if t.backend not in backends:
        raise SLMBenchError(f"params.yaml: teacher.backend: expected one of {', '.join(backends)}, got {t.backend!r}")
    for name, m in t.teachers.items():
        if m.backend not in ("vllm", "openai"):
            raise SLMBenchError(f"params.yaml: teacher.teachers.{name}.backend: expected vllm or openai, got {m.backend!r}")
        if m.backend == "openai":
            check_url(name, m.base_url, m.allow_remote)
    for key, name in t.routes.items():
        if name != DEFAULT and name not in t.teachers:
            raise SLMBenchError(f"params.yaml: teacher.routes.{key}: no teacher named {name!r}; define it under teacher.teachers or use default")
    if t.backend == "openai":
        check_url(DEFAULT, t.base_url, t.allow_remote)
    bad = [r for r in t.registers if r not in REGISTERS]
    if bad or not t.registers:
        raise SLMBenchError(f"params.yaml: teacher.registers: expected a non-empty subset of {', '.join(REGISTERS)}, got {t.registers!r}")
    if t.attempts < 1:
        raise SLMBenchError(f"params.yaml: teacher.attempts: expected 1 or more paraphrase tries per row, got {t.attempts}")
    if t.max_tokens < 1:
        raise SLMBenchError(f"params.yaml: teacher.max_tokens: expected a positive token count, got {t.max_tokens}")


# ---------------------------------------------------------------------------------------------
# cache


def cache_key(prompt: str, model: str, sampling: dict[str, Any]) -> str:
    blob = json.dumps({"prompt": prompt, "model": model, "sampling": sampling}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Cache:
    """key -> {"text", "tokens"}; a JSONL file, one entry per line, sorted by key (byte-stable)."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None
        self.entries: dict[str, dict[str, Any]] = {}
        self.hits = self.misses = 0
        if self.path and self.path.is_file():
            for n, line in enumerate(self.path.read_text(encoding="utf-8").split("\n"), 1):
                if not line.strip():
                    continue
                try:
                    e = json.loads(line)
                    self.entries[str(e["key"])] = {"text": str(e["text"]), "tokens": int(e.get("tokens", 0))}
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    raise SLMBenchError(f"{self.path}:{n}: not a teacher cache entry (expected JSON with key and text); delete the file to rebuild it") from None

    def get(self, key: str) -> dict[str, Any] | None:
        e = self.entries.get(key)
        if e is None:
            self.misses += 1
        else:
            self.hits += 1
        return e

    def put(self, key: str, text: str, tokens: int) -> None:
        self.entries[key] = {"text": text, "tokens": tokens}

    def save(self, keep: set[str] | None = None) -> None:
        """Write the cache; with `keep`, only those keys (entries no row uses any more are dropped)."""
        if not self.path:
            return
        from stages.core.records import atomic_open

        keys = sorted(k for k in self.entries if keep is None or k in keep)
        with atomic_open(self.path) as fh:
            for k in keys:
                fh.write(json.dumps({"key": k, **self.entries[k]}, sort_keys=True, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------
# backends


class OpenAIBackend:
    """Chat completions against an OpenAI-compatible server: bounded concurrency, timeout, retries."""

    def __init__(self, name: str, model: str, base_url: str, api_key_env: str, allow_remote: bool, concurrency: int, timeout_s: float, retries: int, backoff_s: float):
        check_url(name, base_url, allow_remote)
        self.name, self.model, self.base_url = name, model, base_url
        key = os.environ.get(api_key_env, "") if api_key_env else ""
        if api_key_env and not key:
            raise SLMBenchError(f"params.yaml: teacher {name}: api_key_env {api_key_env} is not set in the environment")
        self.api_key = key or "none"
        self.concurrency, self.timeout_s, self.retries, self.backoff_s = max(1, concurrency), timeout_s, max(0, retries), backoff_s

    def _one(self, client: Any, prompt: str, sampling: dict[str, Any]) -> Result:
        import openai

        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                resp = client.chat.completions.create(
                    model=self.model,
                    messages=[{"role": "user", "content": prompt}],
                    temperature=sampling["temperature"],
                    top_p=sampling["top_p"],
                    max_tokens=sampling["max_tokens"],
                    seed=sampling["seed"],
                )
                text = resp.choices[0].message.content if resp.choices else None
                if not isinstance(text, str):
                    return Result(None, "empty answer from the server")
                tokens = int(getattr(resp.usage, "completion_tokens", 0) or 0)
                return Result(text, None, tokens)
            except openai.APITimeoutError:
                last = f"timeout after {self.timeout_s:g}s"
            except openai.APIConnectionError as exc:
                last = f"server unreachable at {self.base_url}: {type(exc.__cause__ or exc).__name__}"
            except openai.APIStatusError as exc:
                last = f"server answered HTTP {exc.status_code}"
                if exc.status_code < 500 and exc.status_code != 429:
                    break  # a client error does not get better by retrying
        return Result(None, last)

    def generate(self, prompts: list[str], samplings: list[dict[str, Any]], progress: Callable[[int], None] | None = None) -> list[Result]:
        import openai

        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s, max_retries=0)
        try:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                futures = [pool.submit(self._one, client, p, s) for p, s in zip(prompts, samplings)]
                out = []
                for f in futures:
                    out.append(f.result())
                    if progress:
                        progress(1)
                return out
        finally:
            client.close()


class VLLMBackend:
    """In-process `vllm.LLM`, batched, in the interpreter of the environment that has vLLM.

    `model` is the configured name (it keys the cache); the checkpoint is materialised, and the
    interpreter found, only when a call is needed, so a fully cached run starts no engine.
    """

    def __init__(self, name: str, model: str, work: Path, python: str, dtype: str, max_model_len: int, tensor_parallel_size: int, kv_cache_gib: int, timeout_s: float):
        self.name, self.model, self.work = name, model, work
        self.python_param = python
        self.dtype, self.max_model_len, self.tp, self.kv_cache_gib, self.timeout_s = dtype, max_model_len, tensor_parallel_size, kv_cache_gib, timeout_s

    def generate(self, prompts: list[str], samplings: list[dict[str, Any]], progress: Callable[[int], None] | None = None) -> list[Result]:
        worker = Path(__file__).with_name("teacher_vllm.py")
        python = resolve_python(self.python_param)
        model_path = resolve_model(self.model, self.work)
        with tempfile.TemporaryDirectory(prefix="teacher-") as tmp:
            req, resp = Path(tmp) / "requests.jsonl", Path(tmp) / "responses.jsonl"
            with open(req, "w", encoding="utf-8") as fh:
                for p, s in zip(prompts, samplings):
                    fh.write(json.dumps({"prompt": p, "sampling": s}, ensure_ascii=False) + "\n")
            env = dict(os.environ)
            env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(self.kv_cache_gib))
            env.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
            cmd = [python, str(worker), "--model", model_path, "--dtype", self.dtype, "--max-model-len", str(self.max_model_len),
                   "--tensor-parallel-size", str(self.tp), "--requests", str(req), "--responses", str(resp)]
            lines: list[str] = []
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            timer = threading.Timer(self.timeout_s, proc.kill)
            timer.start()
            try:
                for line in proc.stdout or []:  # the worker prints `progress <n>` after each chunk
                    line = line.rstrip("\n")
                    if line.startswith("progress ") and line[9:].isdigit():
                        if progress and int(line[9:]):
                            progress(int(line[9:]))
                    elif line.strip():
                        lines.append(line)
                proc.wait()
            finally:
                timed_out = not timer.is_alive() and proc.returncode != 0
                timer.cancel()
            if timed_out:
                return [Result(None, f"vllm worker timed out after {self.timeout_s:g}s")] * len(prompts)
            if proc.returncode != 0:
                tail = [ln for ln in lines if "Error" in ln or "Exception" in ln][-1:] or lines[-1:] or ["no output"]
                raise SLMBenchError(f"teacher {self.name}: the vLLM worker failed (exit {proc.returncode}): {tail[0][:300]}")
            summary = [ln for ln in lines if ln.startswith("vllm teacher:")]
            if summary:
                print(summary[-1], file=sys.stderr, flush=True)
            out = []
            for line in resp.read_text(encoding="utf-8").splitlines():
                r = json.loads(line)
                out.append(Result(r.get("text"), r.get("error"), int(r.get("tokens", 0))))
            if len(out) != len(prompts):
                raise SLMBenchError(f"teacher {self.name}: the vLLM worker answered {len(out)} of {len(prompts)} requests")
            return out


def resolve_python(python: str) -> str:
    """The interpreter for the vLLM worker: the param, else `.venv-teacher/bin/python`, else this one."""
    candidates = [python] if python else [str(Path(".venv-teacher") / "bin" / "python"), sys.executable]
    for c in candidates:
        if Path(c).is_file():
            return c
    raise SLMBenchError(f"params.yaml: teacher.vllm.python: {python!r} does not exist; run `bash .ci/teacher.sh` to build the vLLM environment")


def vllm_available(python: str) -> bool:
    try:
        exe = resolve_python(python)
    except SLMBenchError:
        return False
    return subprocess.run([exe, "-c", "import vllm"], capture_output=True, timeout=120).returncode == 0


def resolve_model(model: str, work: Path) -> str:
    """`embedded:<name>` becomes an HF checkpoint under `work` (converted once per run); a local
    directory must exist; anything else is passed on as a hub id or a served model name."""
    if model.startswith("embedded:"):
        from stages.inference.base_source import convert

        out = Path(work) / model.split(":", 1)[1]
        if not (out / "config.json").is_file():
            convert(model, out)
        return str(out)
    return model


def build_backend(name: str, cfg: Any, work: Path) -> Any:
    """A backend for a resolved teacher config (stages.core.params.TeacherModel plus the shared settings).
    Bad settings fail here, before any row is generated; nothing is started yet."""
    if cfg.backend == "openai":
        return OpenAIBackend(name, cfg.model, cfg.base_url, cfg.api_key_env, cfg.allow_remote, cfg.concurrency, cfg.timeout_s, cfg.retries, cfg.backoff_s)
    if cfg.backend == "vllm":
        model = cfg.model
        hub_id = model.count("/") == 1 and not model.startswith((".", "/", "~"))
        if not model.startswith("embedded:") and not Path(model).is_dir() and not hub_id:
            raise SLMBenchError(f"params.yaml: teacher {name}: model {model!r} is not a directory (run `dvc repro base_model`, or give a path, embedded:<name> or a hub id)")
        return VLLMBackend(name, model, work, cfg.python, cfg.dtype, cfg.max_model_len, cfg.tensor_parallel_size, cfg.kv_cache_gib, cfg.worker_timeout_s)
    raise SLMBenchError(f"params.yaml: teacher {name}: unknown backend {cfg.backend!r}; expected vllm, openai or none")


def call_cached(backend: Any, cache: Cache, prompts: list[str], samplings: list[dict[str, Any]], progress: Callable[[int], None] | None = None) -> tuple[list[Result], list[str]]:
    """Results for every prompt, the cached ones without a call; (results, cache keys)."""
    keys = [cache_key(p, backend.model, s) for p, s in zip(prompts, samplings)]
    results: list[Result | None] = []
    todo = []
    for i, k in enumerate(keys):
        hit = cache.get(k)
        results.append(Result(hit["text"], None, hit["tokens"], cached=True) if hit else None)
        if hit is None:
            todo.append(i)
        elif progress:
            progress(1)
    if todo:
        fresh = backend.generate([prompts[i] for i in todo], [samplings[i] for i in todo], progress)
        for i, r in zip(todo, fresh):
            results[i] = r
            if r.text is not None:
                cache.put(keys[i], r.text, r.tokens)
    return [r for r in results if r is not None], keys
