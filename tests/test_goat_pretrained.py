"""Goat on a pretrained LM (issue 17): the recipes validate, the bare template, and a 5-step run of the recipe on
a truncated Gemma 3 (the real 270M config cut to one layer, character vocabulary, random weights) trains and,
stopped after step 3 (or killed there) and resumed, reaches the weights of an uninterrupted run; the benchmark's
learning curve keeps its earlier points across the resume, and the progress / step-timer callbacks report."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from mathwright.cli import app

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted((REPO / "configs").glob("goat-gemma3-270m*.yaml"))
runner = CliRunner()


def test_there_are_recipes_and_each_validates():
    assert {p.name for p in RECIPES} >= {"goat-gemma3-270m.yaml", "goat-gemma3-270m-lora.yaml"}
    for recipe in RECIPES:
        r = runner.invoke(app, ["validate", str(recipe)])
        assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["validate", str(REPO / "configs" / "goat-gemma3-270m.yaml"), "mode=lora"])  # trainable needs mode full
    assert r.exit_code == 2 and "trainable" in r.output


def test_bare_template_same_problems_instruction_is_input(tmp_path):
    recs = {}
    for t in ("goat", "bare"):
        out = tmp_path / f"{t}.jsonl"
        r = runner.invoke(app, ["generate", "goat", "--n", "300", "--seed", "4", "--template", t, "--out", str(out),
                                "--no-progress"])
        assert r.exit_code == 0, r.output
        recs[t] = [json.loads(ln) for ln in out.read_text().splitlines()]
        assert runner.invoke(app, ["check", str(out)]).exit_code == 0
    assert [r["output"] for r in recs["bare"]] == [r["output"] for r in recs["goat"]]
    assert all(r["instruction"] == r["input"] for r in recs["bare"])
    assert sum(r["instruction"] != r["input"] for r in recs["goat"]) > 200  # Goat's templates stay the default
    r = runner.invoke(app, ["generate", "goat", "--n", "5", "--template", "short", "--out", str(tmp_path / "x.jsonl")])
    assert r.exit_code == 2 and "unknown goat template" in r.output and not (tmp_path / "x.jsonl").exists()


# ------------------------------------------------------------------------------------ truncated Gemma


def load_bench():
    spec = importlib.util.spec_from_file_location("goat_pretrained_bench", REPO / "bench" / "goat_pretrained.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny_gemma(tmp_path_factory) -> Path:
    """Gemma 3 270M's real config with one layer and the character vocabulary; random weights."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, GenerationConfig

    from mathwright.models.tiny import char_tokenizer, make_portable

    tok = char_tokenizer()
    cfg = Gemma3TextConfig(
        vocab_size=len(tok), hidden_size=640, intermediate_size=2048, num_hidden_layers=1, num_attention_heads=4,
        num_key_value_heads=1, head_dim=256, query_pre_attn_scalar=256, hidden_activation="gelu_pytorch_tanh",
        sliding_window=512, layer_types=["full_attention"], max_position_embeddings=2048, rms_norm_eps=1e-6,
        tie_word_embeddings=True, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    model = Gemma3ForCausalLM(cfg)
    model.generation_config = GenerationConfig(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                               pad_token_id=tok.pad_token_id)
    d = tmp_path_factory.mktemp("gemma1") / "model"
    model.save_pretrained(d)
    tok.save_pretrained(d)
    make_portable(d)
    return d


@pytest.fixture(scope="module")
def goat_data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("goatdata") / "train.jsonl"
    r = runner.invoke(app, ["generate", "goat", "--n", "200", "--seed", "1", "--template", "bare", "--buckets",
                            "add,sub", "--max-digits", "6", "--out", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    return out


def recipe(name: str, model: Path, data: Path, out: Path, *extra: str):
    from mathwright.train.recipe import load_train_config

    return load_train_config(REPO / "configs" / name, [
        f"model={model}", f"data=[{data}]", f"output_dir={out}", "threads=1", "max_length=64", "max_minutes=null",
        "trainer.max_steps=5", "trainer.save_steps=1", "trainer.logging_steps=1", "trainer.warmup_steps=0",
        "trainer.per_device_train_batch_size=4", "trainer.learning_rate=1e-3", "trainer.report_to=[]",
        "trainer.disable_tqdm=true", "trainer.save_total_limit=null", *extra])


def weights(run: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(run / "model" / "model.safetensors"))


class StopAt:
    """Stands in for ``max_minutes`` ending a chunk: stop (and save) after step ``n``."""

    def __new__(cls, n: int):
        from transformers import TrainerCallback

        class _Stop(TrainerCallback):
            def on_step_end(self, args, state, control, **kw):
                if state.global_step >= n:
                    control.should_training_stop = control.should_save = True

        return _Stop()


@pytest.mark.parametrize("name", ["goat-gemma3-270m.yaml", "goat-gemma3-270m-lora.yaml"])
def test_truncated_gemma_trains_and_resumes_to_the_same_weights(name, tiny_gemma, goat_data, tmp_path):
    from mathwright.models.hf import load_pretrained
    from mathwright.train.sft import train

    base = load_pretrained(str(tiny_gemma))[0].state_dict()
    train(recipe(name, tiny_gemma, goat_data, tmp_path / "full"))
    reference = weights(tmp_path / "full")
    summary = json.loads((tmp_path / "full" / "train_summary.json").read_text())
    assert summary["steps"] == 5 and summary["tokens_per_second"] > 0
    moved = [k for k in reference if not torch.allclose(reference[k], base[k], atol=1e-4)]
    assert moved, "training changed no weight"
    if name == "goat-gemma3-270m.yaml":  # full fine-tuning of the layers; the tied embedding stays frozen
        assert torch.equal(reference["model.embed_tokens.weight"], base["model.embed_tokens.weight"])
        assert any(".layers.0.mlp." in k for k in moved)

    # stopped after step 3 (a chunk's time budget), then rerun: resumes from checkpoint-3
    bench = load_bench()
    tasks = bench.buckets("add:2x2")
    run = tmp_path / "chunked"
    curve = bench.curve_callback(run, tasks, n=1, seed=0, batch_size=1)
    train(recipe(name, tiny_gemma, goat_data, run / "train"), callbacks=[StopAt(3), curve])
    points = bench.read_curve(run / "curve.jsonl")
    assert [p["step"] for p in points] == [0, 1, 2, 3]
    assert points[0]["tokens"] == 0 < points[1]["tokens"] < points[3]["tokens"]
    first = points[:4]
    train(recipe(name, tiny_gemma, goat_data, run / "train"),
          callbacks=[bench.curve_callback(run, tasks, n=1, seed=0, batch_size=1)])
    s2 = json.loads((run / "train" / "train_summary.json").read_text())
    assert s2["resumed_from"].endswith("checkpoint-3") and s2["steps"] == 5
    points = bench.read_curve(run / "curve.jsonl")
    assert [p["step"] for p in points] == [0, 1, 2, 3, 4, 5] and points[:4] == first  # earlier points kept
    assert points[5]["train_cpu_seconds"] >= points[3]["train_cpu_seconds"]
    resumed = weights(run / "train")
    assert reference.keys() == resumed.keys()
    assert all(torch.allclose(reference[k], resumed[k], atol=1e-5) for k in reference)

    # killed after step 3: later checkpoints and the final model are lost
    killed = tmp_path / "killed"
    shutil.copytree(tmp_path / "full", killed)
    for d in ("checkpoint-4", "checkpoint-5", "model"):
        shutil.rmtree(killed / d)
    train(recipe(name, tiny_gemma, goat_data, killed))
    again = weights(killed)
    assert all(torch.allclose(reference[k], again[k], atol=1e-5) for k in reference)


def test_progress_and_step_timer_report(tiny_gemma, goat_data, tmp_path):
    from mathwright.train.callbacks import Progress, StepTimer
    from mathwright.train.sft import train

    lines: list[str] = []
    timer = StepTimer()
    train(recipe("goat-gemma3-270m.yaml", tiny_gemma, goat_data, tmp_path / "p", "trainer.max_steps=4",
                 "trainer.save_steps=1000"), callbacks=[Progress(minutes=30, printer=lines.append), timer])
    assert len(lines) == 4 and lines[-1].startswith("step 4/4 loss ") and "tok/s" in lines[0] and "ETA" in lines[0]
    s = timer.summary(skip=1)
    assert s["steps"] == 3 and s["seconds_per_step"] > 0
    assert set(s["phases"]) == {"data", "forward", "backward", "optimizer", "other"}
    assert s["phases"]["forward"]["seconds"] > 0 and s["phases"]["backward"]["seconds"] > 0
    assert abs(sum(p["share"] for p in s["phases"].values()) - 1) < 1e-3
