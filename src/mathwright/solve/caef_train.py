"""Train a tiny model from scratch on CAEF steps (local view or full text), on CPU.

The local-view step table is finite and independent of operand length (about 1.6k distinct
prompt -> command pairs for all machines), so a tiny LLaMA that has learned the table executes
100-digit problems exactly. :func:`train_steps` trains until every distinct training pair is reproduced
exactly under teacher forcing (which implies greedy decoding reproduces it) or the time budget runs out.

>>> from collections import Counter
>>> table = local_table(["add"], digits=(1, 3), n=50, seed=0)
>>> all(k[0].startswith(("ADD ", "SUB ")) for k in table)
True
"""
from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from mathwright.arith.problem import Problem


def _problems(ops: Sequence[str], digits: tuple[int, int], n: int, rng: random.Random) -> list[Problem]:
    out = []
    for op in ops:
        for _ in range(n):
            la, lb = rng.randint(*digits), rng.randint(*digits)
            a = rng.randrange(10 ** (la - 1) if la > 1 else 0, 10**la)
            b = rng.randrange(10 ** (lb - 1) if lb > 1 else 0, 10**lb)
            if op in ("eq", "lt", "gt") and rng.random() < 0.3:
                b = a if rng.random() < 0.5 else int(str(a)[:-1] + str(rng.randrange(10)))
            if op == "div" and b == 0:
                b = 1
            out.append(Problem(op, a, b))
    return out


def local_table(ops: Sequence[str], digits: tuple[int, int] = (1, 8), n: int = 300, seed: int = 0,
                machines: str = "long") -> Counter:
    """Counter of distinct (prompt, response) local-view steps met solving random problems of ``ops``."""
    from mathwright.solve.caef import OracleModel, solve_problems

    rng = random.Random(seed)
    runs = solve_problems(_problems(ops, digits, n, rng), OracleModel(), mode="local", machines=machines,
                          keep_trace=True)
    table: Counter = Counter()
    for r in runs:
        for line in r.trace:
            p, resp = line.split("= ", 1)
            table[(p + "=", resp)] += 1
    return table


@dataclass
class TrainReport:
    out_dir: str
    params: int
    steps: int
    seconds: float
    distinct: int
    exact: float  # fraction of distinct pairs reproduced exactly (teacher forcing) at the end
    loss: float


def _encode(tok, pairs, max_len: int | None = None):
    import torch

    ids, labels = [], []
    for p, r in pairs:
        pi = tok(p)["input_ids"]
        ri = tok(r, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        x = (pi + ri)[: max_len or None]
        ids.append(x)
        labels.append(([-100] * len(pi) + ri)[: len(x)])
    L = max(len(x) for x in ids)
    pad = tok.pad_token_id
    X = torch.full((len(ids), L), pad, dtype=torch.long)
    Y = torch.full((len(ids), L), -100, dtype=torch.long)
    M = torch.zeros((len(ids), L), dtype=torch.long)
    for i, (x, y) in enumerate(zip(ids, labels)):
        X[i, : len(x)] = torch.tensor(x)
        Y[i, : len(y)] = torch.tensor(y)
        M[i, : len(x)] = 1
    return X, Y, M


def exact_fraction(model, tok, pairs, batch: int = 256) -> float:
    """Fraction of pairs whose every response token is the argmax under teacher forcing."""
    import torch

    good = 0
    model.eval()
    with torch.inference_mode():
        for s in range(0, len(pairs), batch):
            X, Y, M = _encode(tok, pairs[s:s + batch])
            logits = model(input_ids=X, attention_mask=M).logits[:, :-1]
            pred, tgt = logits.argmax(-1), Y[:, 1:]
            ok = ((pred == tgt) | (tgt == -100)).all(-1)
            good += int(ok.sum())
    model.train()
    return good / max(len(pairs), 1)


def train_steps(pairs: Sequence[tuple[str, str]], out_dir: str | Path, *, preset: str = "tiny-1m",
                minutes: float = 5.0, batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
                eval_every: int = 200, threads: int = 1, max_steps: int | None = None,
                weights: Sequence[float] | None = None, init_from: str | Path | None = None,
                **fields) -> TrainReport:
    """Train a fresh tiny model on (prompt, response) pairs until all are exact or time is up; save it."""
    import torch

    from mathwright.models.tiny import build_tiny

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    if init_from is not None:  # continue training a saved model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model, tok = AutoModelForCausalLM.from_pretrained(init_from), AutoTokenizer.from_pretrained(init_from)
    else:
        model, tok = build_tiny(preset, seed=seed, **fields)
    pairs = list(pairs)
    XA, YA, MA = _encode(tok, pairs)  # encoded once; batches are row samples
    # exactness is measured on every pair of a small table, on a fixed sample of a large one
    probe = pairs if len(pairs) <= 4096 else random.Random(seed + 1).sample(pairs, 1024)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    t0, step, loss_v, exact = time.time(), 0, float("nan"), 0.0
    budget = minutes * 60
    model.train()
    while True:
        elapsed = time.time() - t0
        if elapsed > budget or (max_steps is not None and step >= max_steps):
            break
        frac = min(elapsed / budget, 1.0) if max_steps is None else step / max_steps
        for g in opt.param_groups:  # warm up, then cosine by elapsed fraction of the budget
            g["lr"] = lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        idx = torch.tensor(rng.choices(range(len(pairs)), weights=weights, k=batch_size))
        M = MA[idx]
        width = int(M.sum(1).max())
        out = model(input_ids=XA[idx, :width], attention_mask=M[:, :width], labels=YA[idx, :width])
        opt.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss_v = float(out.loss.detach())
        step += 1
        if step % eval_every == 0:
            exact = exact_fraction(model, tok, probe)
            if exact == 1.0:
                break
    exact = exact_fraction(model, tok, probe)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return TrainReport(str(out_dir), sum(p.numel() for p in model.parameters()), step, time.time() - t0,
                       len(pairs), exact, loss_v)
