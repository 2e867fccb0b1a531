"""Scoring samples with a trained verifier: per-token values (:func:`token_values`), one score per sample
(:func:`score`, aggregated by :func:`aggregate_values`) and the no-verifier baseline of the generator's own
token log-probs (:func:`token_logprobs`). The model itself is in :mod:`mathwright.train.verifier_model`.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from mathwright.train.verifier_model import ValueHeadModel, encode, likelihood_features

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
