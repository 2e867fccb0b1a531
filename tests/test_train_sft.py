"""End-to-end SFT on a tiny model: loss falls, the checkpoint reloads and generates, resume after a kill
gives the same weights, LoRA adapters save/load/merge, the HF backend batches with stop strings."""
from __future__ import annotations

import csv
import json
import random
import re
import shutil
from pathlib import Path

import pytest
import torch

from mathwright.models.base import GenerationConfig
from mathwright.train.sft import LoraSettings, TrainConfig, merge, train

pytestmark = pytest.mark.slow


def write_add_data(path: Path, n: int = 400, seed: int = 0) -> Path:
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            a, b = rng.randint(0, 99), rng.randint(0, 99)
            f.write(json.dumps({"instruction": f"{a}+{b}", "input": f"{a} + {b}", "output": f"{a} + {b} = {a + b}",
                                "answer": str(a + b)}) + "\n")
    return path


def tiny_cfg(tmp: Path, data: Path, **kw) -> TrainConfig:
    trainer = {"max_steps": 40, "per_device_train_batch_size": 32, "learning_rate": 3e-3, "save_steps": 20,
               "logging_steps": 5, "report_to": [], "disable_tqdm": True, **kw.pop("trainer", {})}
    return TrainConfig(model="tiny-100k", mode="scratch", data=[str(data)], max_length=64, output_dir=str(tmp),
                       trainer=trainer, **kw)


def losses(out: Path) -> list[tuple[int, float]]:
    with open(out / "loss.csv") as f:
        return [(int(r["step"]), float(r["loss"])) for r in csv.DictReader(f) if r["loss"]]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("sft")
    data = write_add_data(tmp / "add.jsonl")
    final = train(tiny_cfg(tmp / "run", data))
    return final, data


def test_loss_falls_and_outputs_written(trained):
    final, _ = trained
    out = final.parent
    rows = losses(out)
    assert [s for s, _ in rows] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert rows[-1][1] < 0.7 * rows[0][1], rows
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["steps"] == 40 and summary["tokens_per_second"] > 0 and summary["world_size"] == 1
    assert (final / "mathwright_train.yaml").exists() and (out / "config.yaml").exists()
    assert "prompt:" in (out / "config.yaml").read_text()


def test_checkpoint_reloads_with_auto_classes_and_generates(trained):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mathwright.models.hf import load

    final, _ = trained
    tok = AutoTokenizer.from_pretrained(final)
    model = AutoModelForCausalLM.from_pretrained(final)
    ids = tok(["12+7\nAnswer: "], return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=8, do_sample=False)
    text = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert re.match(r"\d+ \+ \d", text), text  # it learnt the shape "a + b = c" (40 steps: not the sums)

    m = load(str(final))
    prompts = ["12+7\nAnswer: ", "3+45\nAnswer: ", "99+99\nAnswer: "]
    greedy = m.generate(prompts, GenerationConfig(max_new_tokens=16))
    one_by_one = [m.generate([p], GenerationConfig(max_new_tokens=16))[0] for p in prompts]
    assert greedy == one_by_one  # left padding does not change greedy outputs
    cut = m.generate(prompts, GenerationConfig(max_new_tokens=16, stop=(" =",)))
    assert [c[0] for c in cut] == [g[0].split(" =")[0] for g in greedy]
    n3 = m.generate(prompts, GenerationConfig(max_new_tokens=16, n=3, stop=(" =",)))
    assert all(len(c) == 3 and set(c) == {cut[i][0]} for i, c in enumerate(n3))  # greedy x3, shared prefill
    cfg = GenerationConfig(max_new_tokens=16, n=4, temperature=1.5, seed=7)
    s1, s2 = m.generate(prompts, cfg), m.generate(prompts, cfg)
    assert s1 == s2 and all(len(s) == 4 for s in s1)
    assert len({t for s in s1 for t in s}) > 3  # sampling really samples


def test_stop_criterion_marks_rows_done():
    from mathwright.models.hf import StopOnStrings
    from mathwright.models.tiny import char_tokenizer

    tok = char_tokenizer()
    rows = tok(["P:12 + 7 = 19\n", "P:12 + 7"], add_special_tokens=False, padding=True, return_tensors="pt")["input_ids"]
    done = StopOnStrings(tok, ["\n"], prompt_len=2)(rows, None)
    assert done.tolist() == [True, False]


def test_resume_after_kill_reproduces_uninterrupted_run(trained, tmp_path):
    _, data = trained
    cfg = tiny_cfg(tmp_path / "r", data, trainer={"max_steps": 8, "save_steps": 4, "logging_steps": 2})
    final = train(cfg)
    reference = _weights(final)
    # simulate a kill just after step 4's checkpoint: later work is lost, loss.csv already has rows past 4
    shutil.rmtree(final.parent / "checkpoint-8")
    shutil.rmtree(final)
    final2 = train(cfg)
    summary = json.loads((final2.parent / "train_summary.json").read_text())
    assert summary["resumed_from"].endswith("checkpoint-4") and summary["steps"] == 8
    assert [s for s, _ in losses(final2.parent)] == [2, 4, 6, 8]  # no duplicated steps
    resumed = _weights(final2)
    assert all(torch.allclose(reference[k], resumed[k], atol=1e-6) for k in reference)


def _weights(model_dir: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_lora_adapter_save_load_merge(trained, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base_dir, data = trained
    cfg = TrainConfig(model=str(base_dir), mode="lora", data=[str(data)], max_length=64, output_dir=str(tmp_path / "l"),
                      lora=LoraSettings(r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"]),
                      trainer={"max_steps": 6, "per_device_train_batch_size": 16, "learning_rate": 2e-2,
                               "logging_steps": 2, "report_to": [], "disable_tqdm": True})
    merged_dir = train(cfg)
    adapter = merged_dir.parent / "adapter"
    assert (adapter / "adapter_config.json").exists()
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 4
    x = torch.tensor([[1, 5, 6, 7, 8, 9]])
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    with torch.no_grad():
        base_logits = base(x).logits
        peft_logits = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir), adapter)(x).logits
        merged_logits = AutoModelForCausalLM.from_pretrained(merged_dir)(x).logits
        again = merge(adapter, tmp_path / "m2")
        again_logits = AutoModelForCausalLM.from_pretrained(again)(x).logits
        from mathwright.models.hf import load

        direct_logits = load(str(adapter)).model(x).logits  # an adapter dir loads as base + adapter, merged
    assert not torch.allclose(base_logits, peft_logits, atol=1e-4)  # the adapter learnt something
    assert torch.allclose(peft_logits, merged_logits, atol=1e-4)
    assert torch.allclose(merged_logits, again_logits, atol=1e-5)
    assert torch.allclose(merged_logits, direct_logits, atol=1e-5)
    assert not any("lora" in k for k in _weights(merged_dir))


def test_full_finetune_of_a_saved_checkpoint(trained, tmp_path):
    base_dir, data = trained
    cfg = TrainConfig(model=str(base_dir), mode="full", data=[str(data)], max_length=64, output_dir=str(tmp_path / "f"),
                      trainer={"max_steps": 3, "per_device_train_batch_size": 8, "learning_rate": 1e-2,
                               "logging_steps": 1, "report_to": [], "disable_tqdm": True})
    final = train(cfg)
    before, after = _weights(base_dir), _weights(final)
    assert set(before) == set(after)
    assert any(not torch.equal(before[k], after[k]) for k in before)  # every weight is trainable in full mode
    with pytest.raises(ValueError, match="is a preset"):
        train(TrainConfig(model="tiny-1m", mode="full", data=[str(data)], output_dir=str(tmp_path / "x")))


def test_labelled_positions_loss_equals_the_models_own_loss():
    """The CPU loss projects only labelled positions; it must equal HF's full-logit loss, in value and gradient."""
    from mathwright.models.tiny import build_tiny
    from mathwright.train.sft import labelled_positions_loss

    model, _ = build_tiny("tiny-1m", seed=0)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, 40, (3, 12), generator=g)
    labels = ids.clone()
    labels[0, :5] = -100  # prompt
    labels[1, :9] = -100
    labels[2, :3] = -100
    labels[2, 10:] = -100  # padding
    mask = torch.ones_like(ids)
    mask[2, 10:] = 0
    inputs = {"input_ids": ids, "attention_mask": mask, "labels": labels}

    ref = model(**inputs).loss
    ref.backward()
    ref_grad = model.lm_head.weight.grad.clone()
    model.zero_grad()
    loss, correct, n = labelled_positions_loss(model, inputs)
    loss.backward()
    assert int(n) == (labels[:, 1:] != -100).sum().item() == 7 + 3 + 7
    assert 0 <= int(correct) <= int(n)
    assert torch.allclose(loss, ref, atol=1e-6)
    assert torch.allclose(model.lm_head.weight.grad, ref_grad, atol=1e-6)
    # with a global token count (gradient accumulation), the sum is divided by it instead
    half, _, _ = labelled_positions_loss(model, inputs, num_items_in_batch=2 * int(n))
    assert torch.allclose(half, ref / 2, atol=1e-6)


def test_trainer_losses_agree_with_trls_own(trained, tmp_path):
    """The CPU labelled-positions loss and TRL's fused-head loss train the same model to the same losses."""
    _, data = trained
    runs = {}
    for flag in (True, False):
        out = tmp_path / str(flag)
        train(tiny_cfg(out, data, labelled_loss=flag, trainer={"max_steps": 10, "bf16": False}))
        runs[flag] = losses(out)
    assert [s for s, _ in runs[True]] == [s for s, _ in runs[False]] == [5, 10]
    for (_, a), (_, b) in zip(runs[True], runs[False]):
        assert a == pytest.approx(b, rel=2e-3), runs
