"""Supervised fine-tuning on mathwright JSONL with TRL's ``SFTTrainer`` (prompt masked out of the loss).

``mathwright train CONFIG.yaml [key=value ...]`` loads a :class:`TrainConfig` and calls :func:`train`.

- ``mode: scratch`` builds a tiny LLaMA from a preset (``model: tiny-6m``, ``model_fields`` override its
  shape) with the character tokenizer; ``full`` fine-tunes every weight of a pretrained model; ``lora``
  trains PEFT adapters (Goat: r 64, alpha 64, dropout 0.05 on q, k, v, o).
- ``model`` for full/lora: a directory, a hub id (offline cache), a ``.gguf`` path, or ``gemma3-270m``.
  GGUF bases are loaded dequantised (trainable) and their quantizer cleared before saving.
- Each record becomes ``prompt = prompt.format(**record)`` and ``completion = completion.format(**record)``
  (Goat: ``"{instruction}\\nAnswer: "`` / ``"{output}"``; CAEF/GSM8K/MathInstruct just name their fields).
  TRL appends EOS to the completion and, with ``completion_only_loss``, labels every prompt token -100.
- ``trainer:`` is passed to TRL's ``SFTConfig`` as is (learning_rate, per_device_train_batch_size,
  max_steps, save_steps, ...); unknown keys fail before anything loads.
- On CPU the loss projects only the labelled (completion) positions through the LM head
  (``labelled_loss``); TRL's fused head is kept on GPUs, where it runs compact Triton tiles.
- Resume: a killed run restarts from the newest ``OUT/checkpoint-*`` (``resume: auto``) and, with the
  same seed, ends with the same weights as an uninterrupted run. ``OUT/fingerprint.json`` holds what the
  result depends on (the settings, the data files' and a local base model's sha256): a resume with
  anything different exits 2 naming it; ``fresh=true`` deletes the run's outputs and starts over
  (docs/resume.md).
- ``max_minutes`` stops training cleanly after that much wall time (CPU budgets); the final save still happens.
- Outputs: ``OUT/model`` (final model + tokenizer, or the merged model for LoRA), ``OUT/adapter`` (LoRA
  only), ``OUT/config.yaml`` (resolved config, also copied into ``OUT/model``), ``OUT/loss.csv``,
  TensorBoard events under ``OUT/runs``, ``OUT/train_summary.json`` (tokens seen, wall time, tokens/s).
- Works unchanged under ``accelerate launch`` / ``torchrun``: only the main process writes files.

Example::

    mathwright train configs/quickstart.yaml trainer.max_steps=200 output_dir=runs/q
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathwright.io import DataError, read_jsonl

MODES = ("scratch", "full", "lora")
RESUME = ("auto", "never")


@dataclass
class LoraSettings:
    """PEFT LoRA settings; defaults are Goat's (goat.md §6)."""

    r: int = 64
    alpha: int = 64
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    merge: bool = True  # also write the merged full model to OUT/model (evaluators load it like any model)


@dataclass
class TrainConfig:
    """mathwright's training fields; everything about the optimisation loop lives in ``trainer``."""

    model: str = "tiny-1m"  # tiny preset (scratch) | dir | hub id | file.gguf | gemma3-270m
    mode: str = "scratch"  # scratch | full | lora
    model_fields: dict[str, Any] = field(default_factory=dict)  # scratch: LlamaConfig fields over the preset
    data: list[str] = field(default_factory=list)  # mathwright JSONL file(s)
    eval_data: list[str] = field(default_factory=list)  # optional held-out JSONL (eval loss)
    prompt: str = "{instruction}\nAnswer: "  # Goat's inference prompt; str.format over each record
    completion: str = "{output}"  # EOS is appended by TRL
    limit: int | None = None  # use only the first N records of `data` (quick runs)
    max_length: int = 512  # Goat's cutoff; longer examples are truncated (keep_start)
    seed: int = 0
    output_dir: str = "runs/sft"
    dtype: str = "auto"  # load dtype for pretrained models: auto | float32 | bfloat16
    threads: int | None = None  # torch.set_num_threads per process (None: OMP_NUM_THREADS / torch default)
    resume: str = "auto"  # auto: continue from the newest OUT/checkpoint-*; never; or a checkpoint path
    fresh: bool = False  # start over: delete this run's checkpoints and outputs in output_dir instead of resuming
    max_minutes: float | None = None  # stop (and save) after this much training wall time; None: no limit
    attn_implementation: str | None = None  # None: "eager" on CPU (2x faster than sdpa under bf16), library default on GPU
    labelled_loss: bool = True  # CPU: project only labelled positions (labelled_positions_loss); False: TRL's loss
    trainable: list[str] = field(default_factory=list)  # full: regexes (re.search) of the parameters to train; [] = all
    lora: LoraSettings = field(default_factory=LoraSettings)
    trainer: dict[str, Any] = field(default_factory=dict)  # passed to trl.SFTConfig

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.trainable and self.mode != "full":
            raise ValueError(f"trainable (partial unfreezing) applies to mode full, not {self.mode!r}")


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


def _sft_trainer_class(labelled_loss: bool = True) -> Any:
    """TRL's ``SFTTrainer`` with :func:`labelled_positions_loss` on CPU.

    TRL's fused LM head runs compact Triton tiles on GPUs, but off Triton it scores every position in
    Python-level fp32 tiles and recomputes them in backward: LoRA on Gemma 3 270M trained at ~60 tokens/s
    that way and ~4x faster with this loss (bench/gemma_lora.py). GPUs keep TRL's path. The CPU path logs
    ``mean_token_accuracy`` but not ``entropy`` (a full softmax over the vocabulary per token)."""
    from trl import SFTTrainer

    class MathwrightSFTTrainer(SFTTrainer):
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
            self._metrics[mode]["mean_token_accuracy"].append((correct / n).item() if n > 0 else 0.0)
            if mode == "train":
                self._total_train_tokens += self.accelerator.gather_for_metrics(inputs["attention_mask"].sum()).sum().item()
            self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
            return loss

    return MathwrightSFTTrainer


def load_records(paths: list[str], prompt: str, completion: str, limit: int | None = None) -> dict[str, list[str]]:
    """``{"prompt": [...], "completion": [...]}`` from JSONL files; a record missing a template field
    raises DataError naming the file, line and field.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "g.jsonl")
    >>> _ = open(p, "w").write('{"instruction": "2+3", "output": "2 + 3 = 5"}\\n')
    >>> load_records([p], "{instruction}\\nAnswer: ", "{output}")
    {'prompt': ['2+3\\nAnswer: '], 'completion': ['2 + 3 = 5']}
    """
    out: dict[str, list[str]] = {"prompt": [], "completion": []}
    for path in paths:
        for line, rec in read_jsonl(path):
            try:
                out["prompt"].append(prompt.format(**rec))
                out["completion"].append(completion.format(**rec))
            except KeyError as e:
                raise DataError(path, line, f"record has no field {e.args[0]!r} needed by the prompt/completion "
                                            f"template (fields: {', '.join(rec)})") from None
            if limit is not None and len(out["prompt"]) >= limit:
                return out
    if not out["prompt"]:
        raise DataError(paths[0] if paths else "data", None, "no training records")
    return out


def count_too_long(tok: Any, prompts: list[str], completions: list[str], max_length: int) -> tuple[int, int]:
    """``(records longer than max_length tokens, longest length)``, counting prompt + completion + the EOS TRL
    appends: TRL keeps only the first ``max_length`` tokens of such a record, so it trains on a cut answer."""
    n = longest = 0
    for i in range(0, len(prompts), 2048):
        ids = tok([p + c for p, c in zip(prompts[i:i + 2048], completions[i:i + 2048])])["input_ids"]
        for x in ids:
            length = len(x) + 1
            n += length > max_length
            longest = max(longest, length)
    return n, longest


def build_model(cfg: TrainConfig) -> tuple[Any, Any]:
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


def sft_config(cfg: TrainConfig) -> Any:
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


# Settings that change how a run is logged, saved or paced, never its weights: a resume may change them.
RUN_ONLY = ("output_dir", "resume", "fresh", "threads", "max_minutes")
TRAINER_RUN_ONLY = ("logging_steps", "logging_strategy", "logging_dir", "logging_first_step", "save_steps",
                    "save_strategy", "save_total_limit", "report_to", "disable_tqdm", "dataloader_num_workers",
                    "run_name", "eval_steps", "eval_strategy", "overwrite_output_dir")
# What a run writes into output_dir; fresh=true deletes exactly these (and checkpoint-*).
RUN_OUTPUTS = ("model", "adapter", "loss.csv", "train_summary.json", "config.yaml", "runs")


def run_fingerprint(cfg: TrainConfig, cache_dir: Path | None = None) -> dict:
    """What the trained weights depend on: the settings (minus :data:`RUN_ONLY`), the data files' sha256
    and, for a local base model, its files' sha256 (see :mod:`mathwright.data.fingerprint`)."""
    import dataclasses

    from mathwright.data.fingerprint import files_digest, model_digest

    config = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in RUN_ONLY}
    config["trainer"] = {k: v for k, v in cfg.trainer.items() if k not in TRAINER_RUN_ONLY}
    missing = [p for p in [*cfg.data, *cfg.eval_data] if not Path(p).is_file()]
    if missing:
        raise DataError(missing[0], None, "no such file")
    files = files_digest([*cfg.data, *cfg.eval_data], cache_dir)
    if cfg.mode != "scratch":
        files.update(model_digest(cfg.model, cache_dir))
    return {"kind": "train", "config": config, "files": files}


def _describe_checkpoint(path: str) -> str:
    """``checkpoint-40 (40/100 steps)`` from the checkpoint's trainer_state.json."""
    try:
        state = json.loads((Path(path) / "trainer_state.json").read_text(encoding="utf-8"))
        return f"{Path(path).name} ({state.get('global_step')}/{state.get('max_steps')} steps)"
    except (OSError, ValueError):
        return Path(path).name


def prepare_output_dir(cfg: TrainConfig, main: bool = True) -> str | None:
    """Decide how the run starts: the checkpoint to resume from (None: from scratch).

    A resume is refused (DataError, exit 2) when ``output_dir``'s fingerprint differs from this config's;
    ``fresh=true`` deletes the run's outputs first. Only the ``main`` process deletes or writes.
    """
    import shutil

    from transformers.trainer_utils import get_last_checkpoint

    from mathwright.data.fingerprint import save, check_resume

    out = Path(cfg.output_dir)
    resume = None
    if cfg.resume == "auto":
        resume = get_last_checkpoint(str(out)) if out.is_dir() else None
    elif cfg.resume != "never":
        resume = cfg.resume
        if not Path(resume).is_dir():
            raise DataError(resume, None, "resume: no such checkpoint directory")
    fp = run_fingerprint(cfg, out if main else None)
    if cfg.fresh:
        if main and out.is_dir():
            for p in [*out.glob("checkpoint-*"), *(out / name for name in RUN_OUTPUTS)]:
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
        resume = None  # fresh wins over an explicit resume path too
    else:
        check_resume(out, fp, has_work=resume is not None, fresh_hint="fresh=true")
    if main:
        out.mkdir(parents=True, exist_ok=True)
        save(out, fp)
        if resume is not None:
            import sys

            print(f"resuming {out} from {_describe_checkpoint(resume)}", file=sys.stderr)
    return resume


def train(cfg: TrainConfig, callbacks: list[Any] | None = None) -> Path:
    """Run SFT as configured; returns the final model directory (``OUT/model``).

    ``callbacks``: extra transformers ``TrainerCallback`` objects (e.g. a benchmark's own stopping rule).
    """
    import os

    import torch
    from datasets import Dataset

    from mathwright.models.hf import clear_quantizer
    from mathwright.models.tiny import describe, make_portable
    from mathwright.train.callbacks import LossCSV, Progress, TimeBudget
    from mathwright.train.config import to_yaml

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if not cfg.data:
        raise DataError("config", None, "no training data: set data: [path.jsonl, ...]")
    out = Path(cfg.output_dir)
    args = sft_config(cfg)  # before any model work: a bad trainer value fails fast
    # bad records fail before output_dir is touched
    train_ds = Dataset.from_dict(load_records(cfg.data, cfg.prompt, cfg.completion, cfg.limit))
    eval_ds = Dataset.from_dict(load_records(cfg.eval_data, cfg.prompt, cfg.completion)) if cfg.eval_data else None
    # before config.yaml is written: a refused resume leaves the run directory as it was
    resume = prepare_output_dir(cfg, main=int(os.environ.get("RANK", "0")) == 0)
    model, tok = build_model(cfg)
    ctx = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(ctx, int) and cfg.max_length > ctx:  # positions past the context are not trained
        raise DataError("config", None, f"max_length {cfg.max_length} exceeds the model's context of {ctx} tokens "
                                        f"({cfg.model}: max_position_embeddings)")
    set_training_attention(model, cfg.attn_implementation)
    n_cut, longest = (0, 0) if args.packing else count_too_long(tok, train_ds["prompt"], train_ds["completion"],
                                                                  cfg.max_length)
    if n_cut and int(os.environ.get("RANK", "0")) == 0:  # said once, not per process
        import sys

        print(f"warning: {n_cut} of {len(train_ds)} training records are longer than max_length={cfg.max_length} "
              f"tokens (longest {longest}) and will be cut; set max_length={longest} to keep them whole",
              file=sys.stderr, flush=True)

    peft_config = None
    if cfg.mode == "lora":
        from peft import LoraConfig

        peft_config = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                                 target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM")
    loss_log = LossCSV(out / "loss.csv")
    cbs = [loss_log, Progress(cfg.max_minutes), *(callbacks or [])]
    if cfg.max_minutes:
        cbs.append(TimeBudget(cfg.max_minutes))
    trainer_cls = _sft_trainer_class(cfg.labelled_loss)
    trainer = trainer_cls(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                          processing_class=tok, peft_config=peft_config, callbacks=cbs)
    main = trainer.is_world_process_zero()
    if main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(to_yaml(cfg), encoding="utf-8")

    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=resume)
    wall = time.time() - t0

    final = out / "model"
    model = trainer.model
    clear_quantizer(model)
    if cfg.mode == "lora":
        trainer.save_model(str(out / "adapter"))
        if main:
            tok.save_pretrained(out / "adapter")
            (out / "adapter" / "mathwright_base.json").write_text(
                json.dumps({"model": cfg.model, "dtype": cfg.dtype}) + "\n", encoding="utf-8")
            if cfg.lora.merge:
                merged = model.merge_and_unload()
                clear_quantizer(merged)
                merged.save_pretrained(final)
    else:
        trainer.save_model(str(final))
    if main:
        final.mkdir(parents=True, exist_ok=True)
        if cfg.mode != "lora" or cfg.lora.merge:
            tok.save_pretrained(final)
            make_portable(final)
        (final / "mathwright_train.yaml").write_text(to_yaml(cfg), encoding="utf-8")
        log = trainer.state.log_history
        summary = {
            "model": describe(model) if cfg.mode != "lora" else f"LoRA r={cfg.lora.r} on {cfg.model}",
            "mode": cfg.mode,
            "steps": trainer.state.global_step,
            "resumed_from": resume,
            "truncated_records": n_cut,  # records longer than max_length, cut to it (see the warning)
            "world_size": args.world_size,
            "train_loss": result.training_loss,
            "final_loss": next((h["loss"] for h in reversed(log) if "loss" in h), None),
            "tokens_seen_this_run": loss_log.tokens,  # at the last logging step; prompt + completion, no padding
            "wall_seconds": round(wall, 2),
            "tokens_per_second": round(loss_log.tokens / loss_log.seconds, 1) if loss_log.seconds > 0 else None,
            "train_runtime": result.metrics.get("train_runtime"),
        }
        from mathwright.io import write_json

        write_json(out / "train_summary.json", summary)
    return final


def merge(adapter_dir: str | Path, out_dir: str | Path, base: str | None = None, dtype: str = "auto") -> Path:
    """Merge a saved LoRA adapter into its base and save a plain model + tokenizer to ``out_dir``.

    The base is ``base`` or the spec recorded at training time in ``mathwright_base.json`` (so GGUF bases
    work), else the adapter's ``base_model_name_or_path``.
    """
    from mathwright.models.hf import _load_adapter, clear_quantizer, load_pretrained
    from mathwright.models.tiny import make_portable

    adapter_dir = Path(adapter_dir)
    if base is None:
        merged, tok = _load_adapter(adapter_dir, dtype=dtype)
    else:
        from peft import PeftModel

        model, tok = load_pretrained(base, dtype=dtype, dequantize=True)
        merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
        clear_quantizer(merged)
    out_dir = Path(out_dir)
    merged.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    make_portable(out_dir)
    return out_dir
