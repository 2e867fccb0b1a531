"""Outcome verifiers (Cobbe et al. 2021): a causal LM with a scalar value head that predicts whether a
sampled solution's final answer is correct.

- ``level: token``: the correctness label is the target at **every** solution token (a value function);
  ``level: solution``: only at the last token. Either way the score of a solution is the head's
  probability at its last token (the appended EOS).
- ``lm_coef > 0`` adds the language-modelling loss on the solution tokens (the paper's joint objective).
- ``residual_dropout``: dropout on the output of every attention and MLP block before it joins the
  residual stream (hooks, so it works for any LLaMA/Gemma/Qwen-style model).
- LoRA (peft) or full fine-tuning; trained with transformers' ``Trainer`` and a custom collator.

Saved layout (HF): the base model via ``save_pretrained`` (LoRA merged in), the tokenizer,
``value_head.safetensors`` and ``verifier_config.json``; :func:`load_verifier` restores it.

Training data: JSON Lines of samples, either flat rows ``{prompt, completion, correct}`` (or ``question``
instead of ``prompt``) or per-problem records from ``solve/sampling.py`` (``samples`` + ``correct`` lists).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from mathwright.io import DataError, read_records, write_json

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

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, overrides: Sequence[str] = ()) -> "VerifierConfig":
        """Read a YAML recipe and apply ``key=value`` overrides (values parsed as YAML scalars)."""
        import yaml

        p = Path(path)
        if not p.exists():
            raise DataError(p, None, "no such config file")
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            line = getattr(getattr(e, "problem_mark", None), "line", None)
            raise DataError(p, None if line is None else line + 1, f"invalid YAML: {e}") from None
        if not isinstance(raw, dict):
            raise DataError(p, None, "expected a mapping of config keys")
        for ov in overrides:
            if "=" not in ov:
                raise DataError(p, None, f"override {ov!r} is not key=value")
            k, v = ov.split("=", 1)
            raw[k.strip()] = yaml.safe_load(v)
        return cls.from_dict(raw, where=str(p))

    @classmethod
    def from_dict(cls, raw: dict, where: str = "config") -> "VerifierConfig":
        known = {f.name for f in fields(cls)}
        bad = sorted(set(raw) - known)
        if bad:
            import difflib

            hints = [f"{b} (did you mean {difflib.get_close_matches(b, known, 1)[0]}?)" if difflib.get_close_matches(b, known, 1) else b for b in bad]
            raise DataError(where, None, f"unknown config key(s): {', '.join(hints)}")
        types = {f.name: f.type for f in fields(cls)}
        for k, v in list(raw.items()):
            want = types[k] if isinstance(types[k], str) else getattr(types[k], "__name__", "")
            if want in ("float", "int") and isinstance(v, str):  # YAML 1.1 reads 1e-4 as a string
                try:
                    raw[k] = float(v) if want == "float" else int(v)
                except ValueError:
                    raise DataError(where, None, f"{k} must be a number, got {v!r}") from None
            elif want == "float" and isinstance(v, int) and not isinstance(v, bool):
                raw[k] = float(v)
        cfg = cls(**raw)
        if cfg.level not in ("token", "solution"):
            raise DataError(where, None, f"level must be 'token' or 'solution', got {cfg.level!r}")
        if cfg.value_loss not in ("bce", "mse"):
            raise DataError(where, None, f"value_loss must be 'bce' or 'mse', got {cfg.value_loss!r}")
        return cfg


# ----------------------------------------------------------------------------------------------- model
def add_residual_dropout(model: nn.Module, p: float) -> list[Any]:
    """Dropout (active in train mode only) on each attention/MLP block output, i.e. on what is added to
    the residual stream. Returns the hook handles."""
    if p <= 0:
        return []
    drop = nn.Dropout(p)
    handles = []

    def hook(module: nn.Module, args: Any, output: Any) -> Any:
        if not module.training:
            return output
        if isinstance(output, tuple):
            return (drop(output[0]),) + tuple(output[1:])
        return drop(output)

    for name, mod in model.named_modules():
        if name.endswith(".self_attn") or name.endswith(".mlp"):
            handles.append(mod.register_forward_hook(hook))
    return handles


def likelihood_features(logits: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor | None,
                        solution_start: torch.Tensor) -> torch.Tensor:
    """``[B, L, 3]``: after each solution token, the model's log-prob of that token and the mean and the minimum
    log-prob of the solution's tokens so far (0 before the solution starts). Detached: the value loss does not
    reshape the language model, only learns how to read it.

    Why: a value read off one hidden state has to re-derive, at the last token, whether any earlier token was a
    slip; the model's own surprise at each token is that evidence in a number, and with a small model it is the
    evidence the plain value head fails to use (docs/RESULTS.md, "Verifier: likelihood features")."""
    L = input_ids.shape[1]
    lp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, input_ids[:, 1:, None])[..., 0]
    lp = nn.functional.pad(lp, (1, 0))  # position t: log-prob of token t given the tokens before it
    pos = torch.arange(L, device=input_ids.device)
    sol = pos[None] >= solution_start.to(input_ids.device)[:, None]
    if attention_mask is not None:
        sol = sol & attention_mask.bool()
    lp = torch.where(sol, lp, torch.zeros_like(lp)).detach()
    mean = lp.cumsum(1) / sol.cumsum(1).clamp_min(1)
    return torch.stack([lp, mean, lp.cummin(1).values], -1)


class ValueHeadModel(nn.Module):
    """``base`` causal LM + ``head`` (hidden -> 1). ``forward`` returns ``{"loss", "values", ...}``;
    ``values`` are logits (apply a sigmoid for a probability of correctness). With ``likelihood_features``, a
    second linear map of :func:`likelihood_features` is added to the value (``solution_start`` is then needed)."""

    def __init__(self, base: nn.Module, level: str = "token", value_coef: float = 1.0, lm_coef: float = 0.0,
                 value_loss: str = "bce", likelihood_features: bool = False) -> None:
        super().__init__()
        self.base = base
        hidden = base.config.get_text_config().hidden_size if hasattr(base.config, "get_text_config") else base.config.hidden_size
        self.head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.likelihood = nn.Linear(3, 1) if likelihood_features else None
        if self.likelihood is not None:
            nn.init.zeros_(self.likelihood.weight)
            nn.init.zeros_(self.likelihood.bias)
        self.level, self.value_coef, self.lm_coef, self.value_loss = level, value_coef, lm_coef, value_loss
        self.config = base.config  # Trainer looks at model.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                value_labels: torch.Tensor | None = None, value_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, solution_start: torch.Tensor | None = None,
                **_: Any) -> dict[str, torch.Tensor]:
        need_lm = labels is not None and self.lm_coef > 0
        if self.likelihood is not None and solution_start is None:
            raise ValueError("a verifier with likelihood features needs solution_start (the prompt length per row)")
        full = need_lm or self.likelihood is not None
        out = self.base(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True,
                        use_cache=False, **({} if full else {"logits_to_keep": 1}))
        h = out.hidden_states[-1]
        values = self.head(h.to(self.head.weight.dtype)).squeeze(-1)  # [B, L]
        if self.likelihood is not None:
            feats = likelihood_features(out.logits, input_ids, attention_mask, solution_start)
            values = values + self.likelihood(feats.to(self.likelihood.weight.dtype)).squeeze(-1)
        res: dict[str, torch.Tensor] = {"values": values}
        loss = values.new_zeros(())
        if value_labels is not None and value_mask is not None and self.value_coef > 0:
            m = value_mask.to(values.dtype)
            tgt = value_labels.to(values.dtype).unsqueeze(-1).expand_as(values)
            if self.value_loss == "bce":
                per = nn.functional.binary_cross_entropy_with_logits(values, tgt, reduction="none")
            else:
                per = (torch.sigmoid(values) - tgt) ** 2
            vloss = (per * m).sum() / m.sum().clamp_min(1)
            res["value_loss"] = vloss.detach()
            loss = loss + self.value_coef * vloss
        if need_lm:
            logits = out.logits[:, :-1].float()
            lm = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                                             ignore_index=-100)
            res["lm_loss"] = lm.detach()
            loss = loss + self.lm_coef * lm
        res["loss"] = loss
        return res


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


def encode(tok: Any, prompt: str, completion: str, max_length: int) -> tuple[list[int], int]:
    """Token ids of prompt + completion + EOS (BOS as the tokenizer adds it) and the prompt length.
    Over-long examples lose the start of the prompt, so the solution and its last token are kept."""
    p = tok(prompt)["input_ids"]
    c = tok(completion, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    c = c[: max_length - 1]
    ids = p + c
    if len(ids) > max_length:
        ids = ids[len(ids) - max_length:]
    return ids, len(ids) - len(c)


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


def save_verifier(model: ValueHeadModel, tok: Any, out: str | os.PathLike, cfg: VerifierConfig | None = None) -> None:
    """HF layout: base (LoRA merged) + tokenizer + ``value_head.safetensors`` + ``verifier_config.json``."""
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    base = model.base
    if hasattr(base, "merge_and_unload"):
        base = base.merge_and_unload()
    for attr in ("hf_quantizer", "quantization_config"):  # GGUF-loaded bases cannot save otherwise
        if getattr(base, attr, None) is not None:
            setattr(base, attr, None)
    base.save_pretrained(out)
    tok.save_pretrained(out)
    heads = dict(model.head.state_dict())
    if model.likelihood is not None:
        heads.update({f"likelihood.{k}": v for k, v in model.likelihood.state_dict().items()})
    save_file({k: v.detach().contiguous().cpu() for k, v in heads.items()}, str(out / "value_head.safetensors"))
    meta = {"format": "mathwright-verifier-v1", "level": model.level, "score": "sigmoid(value at last token)",
            "hidden_size": model.head.in_features, "likelihood_features": model.likelihood is not None,
            "config": asdict(cfg) if cfg else None}
    write_json(out / "verifier_config.json", meta)


def load_verifier(path: str | os.PathLike) -> tuple[ValueHeadModel, Any]:
    """Reload a saved verifier (eval mode)."""
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    meta_p = path / "verifier_config.json"
    if not meta_p.exists():
        raise DataError(path, None, "not a verifier directory (no verifier_config.json)")
    meta = json.loads(meta_p.read_text(encoding="utf-8"))
    base = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    model = ValueHeadModel(base, meta.get("level", "token"), likelihood_features=bool(meta.get("likelihood_features")))
    heads = load_file(str(path / "value_head.safetensors"))
    model.head.load_state_dict({k: v for k, v in heads.items() if "." not in k})
    if model.likelihood is not None:
        model.likelihood.load_state_dict({k.split(".", 1)[1]: v for k, v in heads.items() if k.startswith("likelihood.")})
    model.eval()
    return model, tok


AGGREGATES = ("last", "min")


def aggregate_values(values: Sequence[float], how: str) -> float:
    """One score from a sample's per-token values (:func:`token_values`): ``"last"``, the value at the last token
    (EOS), the paper's score; ``"min"``, the lowest value after any completion token, the process-reward-model
    reading of a token-level value function (one slip anywhere sinks the solution)."""
    if how not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {how!r}")
    return values[-1] if how == "last" else min(values)


def _batches(tok: Any, prompts: Sequence[str], completions: Sequence[str], batch_size: int, max_length: int):
    """Right-padded batches of encoded (prompt, completion + EOS), shortest first (less padding). Yields
    ``(indices, input_ids, attention_mask, solution_start, lengths)``."""
    feats = [encode(tok, p, c, max_length) for p, c in zip(prompts, completions)]
    order = sorted(range(len(feats)), key=lambda i: len(feats[i][0]))
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        L = max(len(feats[i][0]) for i in idx)
        ids = torch.full((len(idx), L), pad, dtype=torch.long)
        att = torch.zeros((len(idx), L), dtype=torch.long)
        for r, i in enumerate(idx):
            n = len(feats[i][0])
            ids[r, :n] = torch.tensor(feats[i][0])
            att[r, :n] = 1
        yield idx, ids, att, torch.tensor([feats[i][1] for i in idx]), [len(feats[i][0]) for i in idx]


@torch.inference_mode()
def token_values(model: ValueHeadModel, tok: Any, prompts: Sequence[str], completions: Sequence[str],
                 batch_size: int = 32, max_length: int = 512) -> list[list[float]]:
    """Probability of correctness after each completion token of each (prompt, completion); the last entry is
    the value at the appended EOS."""
    model.eval()
    out: list[list[float]] = [[] for _ in prompts]
    for idx, ids, att, start, lens in _batches(tok, prompts, completions, batch_size, max_length):
        vals = torch.sigmoid(model(input_ids=ids, attention_mask=att, solution_start=start)["values"].float())
        for r, i in enumerate(idx):
            out[i] = vals[r, start[r] : lens[r]].tolist()
    return out


@torch.inference_mode()
def token_logprobs(lm: nn.Module, tok: Any, prompts: Sequence[str], completions: Sequence[str],
                   batch_size: int = 32, max_length: int = 512) -> list[list[float]]:
    """A causal LM's log-prob of each completion token (and of the appended EOS) given everything before it:
    the no-verifier baseline of ranking samples by the generator's own likelihood."""
    lm.eval()
    out: list[list[float]] = [[] for _ in prompts]
    for idx, ids, att, start, lens in _batches(tok, prompts, completions, batch_size, max_length):
        lp = likelihood_features(lm(input_ids=ids, attention_mask=att).logits, ids, att, start)[..., 0]
        for r, i in enumerate(idx):
            out[i] = lp[r, start[r] : lens[r]].tolist()
    return out


def score(model: ValueHeadModel, tok: Any, prompts: Sequence[str], completions: Sequence[str],
          batch_size: int = 32, max_length: int = 512, aggregate: str = "last") -> list[float]:
    """Probability of correctness of each (prompt, completion), aggregated over its tokens as
    :func:`aggregate_values` says. ``"min"`` only means something for a token-level verifier: a solution-level
    one is trained at the last token only."""
    if aggregate not in AGGREGATES:  # before any work
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    vals = token_values(model, tok, prompts, completions, batch_size, max_length)
    return [aggregate_values(v, aggregate) for v in vals]
