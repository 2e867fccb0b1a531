"""The trainer side of SFT: the model to train, TRL's ``SFTConfig`` and the ``SFTTrainer`` subclass with
mathwright's CPU loss (:func:`labelled_positions_loss`). :mod:`mathwright.train.sft` runs them.

``cfg`` arguments are :class:`~mathwright.train.sft.TrainConfig` objects (only their fields are read here).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

# Our defaults for SFTConfig; the recipe's `trainer:` block overrides any of them.
TRAINER_DEFAULTS: dict[str, Any] = dict(
    per_device_train_batch_size=16,
    learning_rate=1e-3,
    lr_scheduler_type="cosine",
    warmup_steps=0,
    num_train_epochs=1,
    logging_steps=10,
    save_steps=200,
    save_total_limit=2,
    report_to=["tensorboard"],
    completion_only_loss=True,
    dataloader_num_workers=0,
    gradient_checkpointing=False,  # TRL turns it on to save GPU memory; on CPU/tiny models it only costs time
    ddp_find_unused_parameters=False,  # every parameter is used; True costs an extra autograd traversal
)


def cpu_has_bf16() -> bool:
    """True when the CPU has native bf16 arithmetic (AVX512-BF16 or AMX), where CPU autocast pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_bf16() -> bool:
    """The trainers' bf16 default: on GPUs, and on CPUs with native bf16 (emulated bf16 is slower than fp32)."""
    import torch

    return torch.cuda.is_available() or cpu_has_bf16()


def set_training_attention(model: Any, attn: str | None = None) -> None:
    """Use ``attn``, or on CPU eager attention: measured here (tiny-1m, batch 64 x 60, one thread), sdpa takes
    421 ms/step in fp32 and 438 ms under bf16 autocast, eager 414 ms and 235 ms, so CPU bf16 only pays with eager."""
    import torch

    attn = attn or (None if torch.cuda.is_available() else "eager")
    if attn:
        model.set_attn_implementation(attn)


def labelled_positions_loss(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> tuple[Any, Any, Any]:
    """``(loss, n_correct, n_labelled)``: next-token cross-entropy that projects through the LM head only the
    positions whose next token carries a label (``logits_to_keep`` as a boolean mask), so prompt and padding
    positions never meet the vocabulary. Gemma's 262k-token head made full-sequence logits the dominant cost."""
    import torch
    import torch.nn.functional as F

    labels = inputs["labels"]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != -100
    targets = labels[:, 1:][keep[:, :-1]]
    kw = {k: v for k, v in inputs.items() if k != "labels"}
    logits = model(**kw, use_cache=False, logits_to_keep=keep).logits
    logits = logits.reshape(-1, logits.size(-1)).float()
    n = targets.numel() if num_items_in_batch is None else num_items_in_batch
    loss = F.cross_entropy(logits, targets, reduction="sum") / torch.as_tensor(n).clamp(min=1)
    with torch.no_grad():
        correct = (logits.argmax(-1) == targets).sum()
    return loss, correct, torch.as_tensor(targets.numel())


class TokenStats:
    """Next-token accuracy and tokens seen, counted by the CPU loss and merged into each log entry.

    TRL's own loss reports these through its private ``_metrics``; ours keeps them here and hands them to
    :meth:`SFTTrainer.log`, the public hook: ``mean_token_accuracy`` is the mean over the loss calls since the
    last log, ``num_tokens`` the running total of training tokens (``eval_`` prefixed while evaluating)."""

    def __init__(self) -> None:
        self.accuracy: dict[str, list[float]] = {"train": [], "eval": []}
        self.tokens = 0.0
        self.counted: set[str] = set()  # modes the CPU loss ran in since the last log

    def add(self, mode: str, accuracy: float, tokens: float = 0.0) -> None:
        self.accuracy[mode].append(accuracy)
        self.tokens += tokens
        self.counted.add(mode)

    def pop(self, mode: str) -> dict[str, float]:
        """The fields for a log entry in ``mode`` (none when the CPU loss did not run), then reset the mean."""
        if mode not in self.counted:
            return {}
        acc = self.accuracy[mode]
        fields = {"mean_token_accuracy": sum(acc) / len(acc), "num_tokens": self.tokens} if acc else {}
        acc.clear()
        self.counted.discard(mode)
        return {f"eval_{k}" if mode == "eval" else k: v for k, v in fields.items()}


def _sft_trainer_class(labelled_loss: bool = True) -> Any:
    """TRL's ``SFTTrainer`` with :func:`labelled_positions_loss` on CPU.

    TRL's fused LM head runs compact Triton tiles on GPUs, but off Triton it scores every position in
    Python-level fp32 tiles and recomputes them in backward: LoRA on Gemma 3 270M trained at ~60 tokens/s
    that way and ~4x faster with this loss (bench/gemma_lora.py). GPUs keep TRL's path. The CPU path logs
    ``mean_token_accuracy`` and ``num_tokens`` (:class:`TokenStats`) but not ``entropy`` (a full softmax over
    the vocabulary per token)."""
    from trl import SFTTrainer

    class MathwrightSFTTrainer(SFTTrainer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.token_stats = TokenStats()

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[override]
            if (not labelled_loss or return_outputs or self.aux_loss_enabled
                    or self.accelerator.device.type != "cpu" or "attention_mask" not in inputs):  # padding-free: TRL's
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            mode = "train" if self.model.training else "eval"
            loss, correct, n = labelled_positions_loss(model, inputs, num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes  # DDP averages gradients across ranks
            correct = self.accelerator.gather_for_metrics(correct).sum()
            n = self.accelerator.gather_for_metrics(n).sum()
            tokens = (self.accelerator.gather_for_metrics(inputs["attention_mask"].sum()).sum().item()
                      if mode == "train" else 0.0)
            self.token_stats.add(mode, (correct / n).item() if n > 0 else 0.0, tokens)
            return loss

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            logs.update(self.token_stats.pop("train" if self.model.training else "eval"))
            super().log(logs, start_time)

    return MathwrightSFTTrainer


def build_model(cfg: Any) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for the config's mode (see module docstring)."""
    from mathwright.models.hf import load_pretrained
    from mathwright.models.tiny import build_tiny, is_preset

    if cfg.mode == "scratch":
        if not is_preset(cfg.model):
            raise ValueError(f"mode scratch needs a tiny preset as model (e.g. tiny-6m), got {cfg.model!r}")
        return build_tiny(cfg.model, seed=cfg.seed, **cfg.model_fields)
    if is_preset(cfg.model):
        raise ValueError(f"mode {cfg.mode} fine-tunes a pretrained model; {cfg.model!r} is a preset (use mode scratch)")
    model, tok = load_pretrained(cfg.model, dtype=cfg.dtype, dequantize=True)  # GGUF: dense, trainable weights
    model.train()
    if cfg.trainable:
        freeze_except(model, cfg.trainable)
    return model, tok


def freeze_except(model: Any, patterns: list[str]) -> int:
    """Train only the parameters whose names match one of ``patterns`` (``re.search``); returns how many
    tensors stay trainable. Names are the model's own, e.g. ``model.layers.17.mlp.down_proj.weight``."""
    import re

    keep = 0
    for name, p in model.named_parameters():
        p.requires_grad_(any(re.search(pat, name) for pat in patterns))
        keep += p.requires_grad
    if not keep:
        raise ValueError(f"trainable {patterns}: no parameter name matches (e.g. {next(iter(dict(model.named_parameters())))!r})")
    return keep


def sft_config(cfg: Any) -> Any:
    """TRL ``SFTConfig`` from our defaults, the recipe's ``trainer`` block and our own fields."""
    import torch
    from trl import SFTConfig

    kw = {**TRAINER_DEFAULTS, **cfg.trainer}
    kw.setdefault("bf16", default_bf16())  # TRL's default (bf16) is rejected by, or slow on, most CPUs
    # Without use_cpu, a CPU-only torchrun/accelerate launch leaves each process training alone (world size
    # 1); with it, accelerate builds a gloo process group and the Trainer wraps the model in DDP.
    kw.setdefault("use_cpu", not torch.cuda.is_available())
    kw.update(output_dir=cfg.output_dir, max_length=cfg.max_length, seed=cfg.seed)
    kw.setdefault("data_seed", cfg.seed)
    if cfg.eval_data:
        kw.setdefault("eval_strategy", "steps")
        kw.setdefault("eval_steps", kw.get("save_steps", 200))
    return SFTConfig(**kw)
