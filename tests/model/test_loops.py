"""The repetition guard (stages/inference/loops.py): it stops loops, and no expected answer of the release
data ends in one, so it cannot cut a correct answer of this benchmark."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from stages.inference.loops import MAX_PERIOD, SPAN, looping


def test_a_repeated_block_is_a_loop_and_varied_text_is_not() -> None:
    assert looping([7] * SPAN)  # one token over and over (a string that never closes)
    item = [11, 12, 13, 14, 15]  # an array item repeated
    assert looping([1, 2, 3] + item * (SPAN // len(item) + 1))
    assert not looping([1, 2, 3] + item * (SPAN // len(item) - 1))  # not yet SPAN tokens of it
    long_block = list(range(100, 100 + MAX_PERIOD))  # a long block must repeat three times
    assert not looping(long_block * 2)
    assert looping(long_block * 3)
    assert not looping(list(range(1000)))
    assert not looping([5] * (SPAN - 1))


def test_no_expected_answer_of_the_release_split_is_cut(real_params, catalog, repo_root: Path) -> None:
    """Every expected answer of generated v3 rows, tokenized as the model writes it, never trips
    the guard at any point along the way."""
    from transformers import AutoTokenizer

    from stages.inference.prompt import answer_text, embedded_gguf
    from stages.tasks.edgejson import generate

    gguf = embedded_gguf("smollm2-135m-instruct")
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    rows = generate.run("v3", dataclasses.replace(real_params.datasets["v3"], rows_per_schema=8), catalog, progress=False)
    checked = 0
    for row in rows:
        ids = tok(answer_text(row["expected_output"], catalog[row["schema_id"]].schema), add_special_tokens=False)["input_ids"]
        for end in range(SPAN, len(ids) + 1):
            assert not looping(ids[:end]), (row["id"], tok.decode(ids[max(0, end - SPAN) : end]))
        checked += 1
    assert checked == 8 * len(catalog)


@pytest.mark.parametrize("runtime", ["hf", "gguf_one", "gguf_parallel"])
def test_each_runtime_stops_a_loop_with_finish_repeat(runtime: str, tiny_model_dir: Path, tmp_path: Path) -> None:
    """A tiny model that always predicts one token loops at once; every runtime ends it after SPAN
    tokens with finish "repeat", not at the cap."""
    import torch
    from transformers import AutoConfig, LlamaForCausalLM

    from stages.inference.gguf import GGUFRunner
    from stages.inference.hf import HFRunner

    # Layers that add nothing (o_proj and down_proj zero), so the last hidden state is the input
    # token's embedding; every embedding points along dimension 0, and only token 42's LM-head row
    # reads it: whatever the prompt, token 42 wins, again and again.
    cfg = AutoConfig.from_pretrained(tiny_model_dir)
    cfg.tie_word_embeddings = False
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.embed_tokens.weight.zero_()
        model.model.embed_tokens.weight[:, 0] = 1.0
        model.lm_head.weight.zero_()
        model.lm_head.weight[42, 0] = 1.0
    looped = tmp_path / "looped"
    model.save_pretrained(looped, safe_serialization=True)
    for f in tiny_model_dir.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "chat_template", "vocab", "merges")):
            (looped / f.name).write_bytes(f.read_bytes())
    prompt = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"
    if runtime == "hf":
        (g,) = HFRunner(looped, 1).generate([prompt], 200, batch_size=1)
    else:
        from stages.tasks.edgejson.quantize import to_f16

        to_f16(looped, tmp_path / "looped.gguf")
        r = GGUFRunner(tmp_path / "looped.gguf", 1, n_ctx=512)
        g = r.generate_one(prompt, 200) if runtime == "gguf_one" else next(iter(r.generate_parallel([prompt], [[None]], 200, 2)))[2]
    assert g.finish == "repeat" and g.tokens <= SPAN + 1, (g.finish, g.tokens, g.text[:80])
