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
- ``format`` names the data's format (``goat``, ``aligned8``, ...); left out, it is what the data's
  ``.meta.json`` (written by ``mathwright generate``) names. It and the ``prompt`` are recorded in
  ``OUT/model/mathwright_train.yaml``, so ``mathwright eval arith --model OUT/model`` asks the model the way it
  was trained and needs no ``--format`` (:mod:`mathwright.train.record`).
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
  only), ``OUT/config.yaml`` (resolved config, also copied into ``OUT/model`` as ``mathwright_train.yaml``), ``OUT/loss.csv``,
  TensorBoard events under ``OUT/runs``, ``OUT/train_summary.json`` (tokens seen, wall time, tokens/s).
- Works unchanged under ``accelerate launch`` / ``torchrun``: only the main process writes files.

Records become prompt/completion pairs in :mod:`mathwright.train.sft_data`; the model, TRL's ``SFTConfig``
and the trainer with its CPU loss are built in :mod:`mathwright.train.sft_trainer`.

Example::

    mathwright train configs/quickstart.yaml trainer.max_steps=200 output_dir=runs/q
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathwright.formats.contract import PROMPT
from mathwright.io import DataError
from mathwright.train.record import TRAIN_RECORD
from mathwright.train.sft_data import count_too_long, data_format, load_records  # noqa: F401 (re-exported)
from mathwright.train.sft_trainer import (TRAINER_DEFAULTS, build_model, cpu_has_bf16, default_bf16,  # noqa: F401
                                          freeze_except, labelled_positions_loss, set_training_attention, sft_config,
                                          _sft_trainer_class)

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
    format: str | None = None  # the data's format (registry name); None: what the data's .meta.json names
    prompt: str = PROMPT  # Goat's inference prompt "{instruction}\nAnswer: "; str.format over each record
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


# Settings that change how a run is logged, saved or paced, never its weights: a resume may change them.
# (``format`` names what the data files, fingerprinted by content, already are.)
RUN_ONLY = ("output_dir", "resume", "fresh", "threads", "max_minutes", "format")
TRAINER_RUN_ONLY = ("logging_steps", "logging_strategy", "logging_dir", "logging_first_step", "save_steps",
                    "save_strategy", "save_total_limit", "report_to", "disable_tqdm", "dataloader_num_workers",
                    "run_name", "eval_steps", "eval_strategy", "overwrite_output_dir")
# What a run writes into output_dir; fresh=true deletes exactly these (and checkpoint-*).
RUN_OUTPUTS = ("model", "adapter", "loss.csv", "train_summary.json", "config.yaml", "runs")


def run_fingerprint(cfg: TrainConfig, cache_dir: Path | None = None) -> dict:
    """What the trained weights depend on: the settings (minus :data:`RUN_ONLY`), the data files' sha256
    and, for a local base model, its files' sha256 (see :mod:`mathwright.data.fingerprint`)."""
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


def with_format(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` with ``format`` taken from the training data's metadata when the recipe sets none; a name the
    format registries do not know is not recorded."""
    if cfg.format:
        return cfg
    from mathwright.formats.registry import FORMATS

    name = data_format(cfg.data)
    return dataclasses.replace(cfg, format=name if name in FORMATS else None)


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
    cfg = with_format(cfg)
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
        (final / TRAIN_RECORD).write_text(to_yaml(cfg), encoding="utf-8")  # read by eval: format, prompt
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
