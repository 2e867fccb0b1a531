"""Outcome verifiers (Cobbe et al. 2021): a causal LM with a scalar value head that predicts whether a
sampled solution's final answer is correct.

- ``level: token``: the correctness label is the target at **every** solution token (a value function);
  ``level: solution``: only at the last token. Either way the score of a solution is the head's
  probability at its last token (the appended EOS).
- ``lm_coef > 0`` adds the language-modelling loss on the solution tokens (the paper's joint objective).
- ``residual_dropout``: dropout on the output of every attention and MLP block before it joins the
  residual stream (hooks, so it works for any LLaMA/Gemma/Qwen-style model).
- LoRA (peft) or full fine-tuning; trained with transformers' ``Trainer`` and a custom collator.

This module is the recipe (:class:`VerifierConfig`), the training data and the training job. The model, its
input encoding and its saved layout are in :mod:`mathwright.train.verifier_model`; scoring samples with a saved
verifier in :mod:`mathwright.train.verifier_score`. Both are re-exported here.

Training data: JSON Lines of samples, either flat rows ``{prompt, completion, correct}`` (or ``question``
instead of ``prompt``) or per-problem records from ``solve/sampling.py`` (``samples`` + ``correct`` lists).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from mathwright.io import DataError, read_records
from mathwright.train.verifier_model import (ValueHeadModel, add_residual_dropout, encode, likelihood_features,
                                             load_verifier, save_verifier)
from mathwright.train.verifier_score import AGGREGATES, aggregate_values, score, token_logprobs, token_values

__all__ = ["PROMPT", "VerifierConfig", "load_rows", "Collator", "build", "train_verifier", "ValueHeadModel",
           "add_residual_dropout", "encode", "likelihood_features", "load_verifier", "save_verifier", "AGGREGATES",
           "aggregate_values", "score", "token_logprobs", "token_values"]

PROMPT = "Question: {question}\nAnswer: "


@dataclass
class VerifierConfig:
    """Recipe of ``mathwright train-verifier CONFIG.yaml [key=value ...]``."""

    data: str = ""                 # samples JSONL (flat rows or per-problem records)
    base: str = "tiny-1m"          # model dir, hub id (offline), .gguf, or tiny preset
    out: str = "runs/verifier"
    level: str = "token"           # token | solution
    value_coef: float = 1.0
    lm_coef: float = 0.0           # joint LM loss weight (0 = off)
    value_loss: str = "bce"        # bce | mse (mse on the sigmoid output)
    residual_dropout: float = 0.2
    likelihood_features: bool = False  # the value head also reads the model's own log-probs of the solution so far
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    epochs: float = 1.0
    max_steps: int = -1
    lr: float = 3e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    batch_size: int = 16
    grad_accum: int = 1
    max_length: int = 512
    prompt: str = PROMPT
    seed: int = 0
    logging_steps: int = 10
    progress: bool = True
    threads: int = 0               # torch threads (0 = leave as is)
    bf16: bool | None = None       # None: on GPUs and on CPUs with native bf16 (with eager attention, as train/sft.py)

    def __post_init__(self) -> None:  # the choices; types, unknown keys and bounds are load_config's
        if self.level not in ("token", "solution"):
            raise ValueError(f"level must be 'token' or 'solution', got {self.level!r}")
        if self.value_loss not in ("bce", "mse"):
            raise ValueError(f"value_loss must be 'bce' or 'mse', got {self.value_loss!r}")

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, overrides: Sequence[str] = ()) -> "VerifierConfig":
        """Read a verifier recipe with ``key=value`` overrides through
        :func:`~mathwright.train.recipe.load_recipe`, the loader every command uses (so every check
        ``mathwright validate`` makes, nothing loaded). Bad input raises :class:`~mathwright.io.DataError`."""
        from mathwright.train.recipe import load_recipe

        return load_recipe(Path(path), list(overrides), kind="verifier")[1]


# ------------------------------------------------------------------------------------------------ data
def load_rows(path: str | os.PathLike, prompt: str = PROMPT) -> list[dict]:
    """Flat ``{prompt, completion, correct}`` rows from a samples file (see module docstring)."""
    rows: list[dict] = []
    for ln, rec in read_records(path):
        if "samples" in rec:
            if "correct" not in rec or len(rec["correct"]) != len(rec["samples"]):
                raise DataError(path, ln, "per-problem record needs 'correct' with one label per sample")
            p = prompt.format(question=rec["question"])
            rows += [{"prompt": p, "completion": s, "correct": bool(c)} for s, c in zip(rec["samples"], rec["correct"])]
            continue
        if "completion" not in rec or "correct" not in rec or not ("prompt" in rec or "question" in rec):
            raise DataError(path, ln, "expected fields 'prompt' (or 'question'), 'completion' and 'correct'")
        if not isinstance(rec["correct"], (bool, int, float)):
            raise DataError(path, ln, f"'correct' must be a boolean, got {rec['correct']!r}")
        p = rec.get("prompt") or prompt.format(question=rec["question"])
        rows.append({"prompt": p, "completion": rec["completion"], "correct": bool(rec["correct"])})
    if not rows:
        raise DataError(path, None, "no samples")
    return rows


class Collator:
    """Pads (right) and builds ``value_labels``, ``value_mask`` (token- or solution-level) and LM ``labels``."""

    def __init__(self, pad_id: int, level: str) -> None:
        self.pad_id, self.level = pad_id, level

    def __call__(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        L = max(len(f["input_ids"]) for f in feats)
        B = len(feats)
        ids = torch.full((B, L), self.pad_id, dtype=torch.long)
        att = torch.zeros((B, L), dtype=torch.long)
        vmask = torch.zeros((B, L), dtype=torch.long)
        lm = torch.full((B, L), -100, dtype=torch.long)
        for i, f in enumerate(feats):
            n, pl = len(f["input_ids"]), f["prompt_len"]
            ids[i, :n] = torch.tensor(f["input_ids"])
            att[i, :n] = 1
            if self.level == "token":
                vmask[i, pl:n] = 1  # the value after each solution token
            else:
                vmask[i, n - 1] = 1  # the last token only
            lm[i, pl:n] = ids[i, pl:n]
        vl = torch.tensor([float(f["correct"]) for f in feats])
        start = torch.tensor([f["prompt_len"] for f in feats])
        return {"input_ids": ids, "attention_mask": att, "value_mask": vmask, "value_labels": vl, "labels": lm,
                "solution_start": start}


class _Rows(torch.utils.data.Dataset):
    def __init__(self, feats: list[dict]) -> None:
        self.feats = feats

    def __len__(self) -> int:
        return len(self.feats)

    def __getitem__(self, i: int) -> dict:
        return self.feats[i]


# ------------------------------------------------------------------------------------------- training
def build(cfg: VerifierConfig) -> tuple[ValueHeadModel, Any]:
    """Base model (+ LoRA) + zero-initialised head, with residual dropout hooks."""
    from mathwright.models.hf import load_pretrained
    from mathwright.train.sft import set_training_attention

    base, tok = load_pretrained(cfg.base, dtype="float32")
    base.train()
    set_training_attention(base)
    if cfg.lora:
        from peft import LoraConfig, get_peft_model

        base = get_peft_model(base, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                               target_modules=list(cfg.lora_targets), task_type="CAUSAL_LM"))
    add_residual_dropout(base, cfg.residual_dropout)
    model = ValueHeadModel(base, cfg.level, cfg.value_coef, cfg.lm_coef, cfg.value_loss, cfg.likelihood_features)
    return model, tok


def train_verifier(cfg: VerifierConfig, rows: list[dict] | None = None) -> Path:
    """Train and save a verifier; returns the output directory. ``rows`` overrides ``cfg.data``."""
    from transformers import Trainer, TrainingArguments, set_seed

    from mathwright.train.sft import default_bf16

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    set_seed(cfg.seed)
    rows = rows if rows is not None else load_rows(cfg.data, cfg.prompt)
    model, tok = build(cfg)
    feats = []
    for r in rows:
        ids, pl = encode(tok, r["prompt"], r["completion"], cfg.max_length)
        feats.append({"input_ids": ids, "prompt_len": pl, "correct": r["correct"]})
    out = Path(cfg.out)
    args = TrainingArguments(
        output_dir=str(out / "trainer"), num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr, weight_decay=cfg.weight_decay, warmup_steps=float(cfg.warmup_ratio),
        lr_scheduler_type="cosine", logging_steps=cfg.logging_steps, save_strategy="no", report_to=[],
        seed=cfg.seed, data_seed=cfg.seed, use_cpu=not torch.cuda.is_available(), remove_unused_columns=False,
        dataloader_num_workers=0, disable_tqdm=not cfg.progress, label_names=["value_labels"],
        bf16=cfg.bf16 if cfg.bf16 is not None else default_bf16(),
    )
    trainer = Trainer(model=model, args=args, train_dataset=_Rows(feats), data_collator=Collator(tok.pad_token_id, cfg.level))
    trainer.train()
    save_verifier(model, tok, out, cfg)
    losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
    with open(out / "train_log.csv", "w", encoding="utf-8") as f:
        f.write("step,loss\n" + "".join(f"{s},{l}\n" for s, l in losses))
    return out
