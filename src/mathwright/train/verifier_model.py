"""The verifier's model: a causal LM with a scalar value head (:class:`ValueHeadModel`), the residual-dropout
hooks and likelihood features it trains with, how a (prompt, completion) becomes its input (:func:`encode`),
and its saved layout (:func:`save_verifier`, :func:`load_verifier`).

Saved layout (HF): the base model via ``save_pretrained`` (LoRA merged in), the tokenizer,
``value_head.safetensors`` and ``verifier_config.json``. Training lives in :mod:`mathwright.train.verifier`,
scoring in :mod:`mathwright.train.verifier_score`.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mathwright.io import DataError, write_json


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



def save_verifier(model: ValueHeadModel, tok: Any, out: str | os.PathLike, cfg: Any = None) -> None:
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
