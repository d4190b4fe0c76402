"""`precision: auto`: bf16 where the device has native bf16, fp32 elsewhere; an explicit setting wins.

The decision is a pure function of what torch reports (`choose_precision`), tested here with the
values torch gives on real machines, plus the real probe on this one, checked against the CPU
flags the kernel lists, and one real training run under `auto`.
"""

from __future__ import annotations

import dataclasses
import platform
from pathlib import Path

import pytest
import yaml

from stages.core.errors import SLMBenchError
from stages.train.train import choose_precision, cpu_capability, cpu_has_native_bf16

KEY = "models.smollm2-135m-lora.precision"


def test_auto_follows_native_bf16_and_explicit_settings_win() -> None:
    # torch's capability names on real CPUs: AVX512 (AVX512-BF16/AMX or not), AVX2, DEFAULT (no AVX2), SVE256 on Arm
    assert choose_precision("auto", "AVX512", True, "cpu", KEY)[0] == "bf16"
    assert choose_precision("auto", "AVX512", False, "cpu", KEY)[0] == "fp32"  # e.g. Skylake-X: AVX512 without BF16
    assert choose_precision("auto", "AVX2", False, "cpu", KEY)[0] == "fp32"
    assert choose_precision("auto", "DEFAULT", False, "cpu", KEY)[0] == "fp32"
    assert choose_precision("auto", "SVE256", True, "cpu", KEY)[0] == "bf16"
    precision, reason = choose_precision("auto", "AVX2", False, "cpu", KEY)
    assert "AVX2" in reason and "no native bf16" in reason, reason
    for explicit in ("bf16", "fp32"):
        for capability, native in (("AVX512", True), ("AVX2", False), ("", False)):
            assert choose_precision(explicit, capability, native, "cpu", KEY) == (explicit, f"{KEY} is {explicit}")
    assert choose_precision("auto", "", True, "cuda", KEY)[0] == "bf16"
    assert choose_precision("auto", "", False, "cuda", KEY)[0] == "fp32"


def test_auto_without_a_cpu_capability_is_a_one_line_error() -> None:
    # cpu_capability() gives "" where torch reports nothing (None, or no get_cpu_capability at all)
    with pytest.raises(SLMBenchError) as err:
        choose_precision("auto", "", True, "cpu", KEY)
    msg = str(err.value)
    assert msg.count("\n") == 0 and KEY in msg and "bf16 or fp32" in msg, msg


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(SLMBenchError, match=KEY):
        choose_precision("fp16", "AVX512", True, "cpu", KEY)


def test_probe_on_this_machine_matches_its_cpu_flags() -> None:
    import torch

    capability = cpu_capability()
    assert capability and capability == torch.backends.cpu.get_cpu_capability()
    native = cpu_has_native_bf16()
    if platform.machine().lower() in ("x86_64", "amd64") and Path("/proc/cpuinfo").is_file():
        flags = set(next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")).split(":", 1)[1].split())
        assert native == bool(flags & {"avx512_bf16", "amx_bf16"}), (capability, sorted(flags & {"avx512_bf16", "amx_bf16", "amx_tile", "avx512f"}))
    assert choose_precision("auto", capability, native, "cpu", KEY)[0] == ("bf16" if native else "fp32")


@pytest.mark.slow
def test_train_under_auto_records_the_choice(tiny_model_dir: Path, repo_root: Path, real_params, tmp_path: Path) -> None:
    """One real optimizer step under `auto`: train.json holds the choice as numbers, train_live/params.yaml in words."""
    from stages.core.catalog import load_catalog
    from stages.tasks.edgejson.generate import run as generate
    from stages.tasks.edgejson.model import answer, prompt, with_schemas
    from stages.train.train import run as train_run

    catalog = load_catalog(repo_root / "schemas")
    rows = generate("v3", dataclasses.replace(real_params.datasets["v3"], rows_per_schema=1), catalog, progress=False)
    rows = [r for r in rows if r["complexity"] == "simple"][:2]
    tiny = dict(r=4, alpha=8, max_steps=1, batch_size=2, grad_accum=1, warmup_steps=0, threads=1)
    cfg = dataclasses.replace(real_params.models["smollm2-135m-lora"], precision="auto", **tiny)
    chats = [(prompt(r), answer(r)) for r in with_schemas(rows, catalog)]
    m = train_run("tiny", cfg, tiny_model_dir, chats, tmp_path / "adapter", tmp_path / "checkpoint", tmp_path / "live")
    native = cpu_has_native_bf16()
    assert (m["bf16"], m["native_bf16"], m["precision_auto"]) == (int(native), int(native), 1)
    logged = yaml.safe_load((tmp_path / "live" / "params.yaml").read_text())
    assert logged["precision_setting"] == "auto" and logged["precision"] == ("bf16" if native else "fp32")
    assert logged["precision_reason"].startswith("auto: the CPU (") and cpu_capability() in logged["precision_reason"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("cosine_warm", "unknown learning-rate schedule 'cosine_warm'; transformers knows linear, cosine"),
        ("reduce_lr_on_plateau", "needs settings beyond warmup and total steps"),
    ],
)
def test_a_schedule_the_loop_cannot_run_is_a_one_line_error(name: str, message: str, tiny_model_dir: Path, real_params, tmp_path: Path) -> None:
    from stages.train.train import run as train_run

    cfg = dataclasses.replace(real_params.models["smollm2-135m-lora"], scheduler=name)
    with pytest.raises(SLMBenchError, match=f"models.tiny.scheduler: .*{message}"):
        train_run("tiny", cfg, tiny_model_dir, [], tmp_path / "a", tmp_path / "m", tmp_path / "l")
    assert not (tmp_path / "a").exists() and not (tmp_path / "l").exists()
