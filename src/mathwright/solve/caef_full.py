"""Training and decoding for a model that executes CAEF's *full* format (every step rewrites the whole state).

- :class:`Mix`: which generator classes the training stream draws from. Records are exactly what
  ``mathwright generate caef --mode full`` writes (:func:`formats.caef_data.make_records`, each checked with
  ``check_record``), drawn afresh for every batch from a seed and the batch index, so the stream never
  repeats and a resumed run sees the same batches it would have seen.
- :func:`train_full`: a hand-written loop (length-bucketed micro-batches, loss on the response only, bf16
  autocast, cosine schedule over a wall-time budget) with atomic checkpoints every few minutes; a rerun
  on the same directory resumes from the last one.
- :class:`DraftVerified`: greedy decoding that checks a draft (the oracle's next step) in one forward pass
  and keeps the model's own argmax tokens: the output is the model's greedy output, token for token (a
  draft token is kept only where it *is* the argmax), at a fraction of token-by-token decoding's cost.
  Where the model departs from the draft, decoding continues token by token with ``model.generate``.

>>> mix = Mix.parse("add:1-3,eq:1-2x1-2")
>>> [(c.op, c.la, c.lb) for c in mix.classes][:2]
[('add', (1, 3), (1, 3)), ('eq', (1, 2), (1, 2))]
>>> pairs = mix.sample(random.Random(0), 5, variant="caef")
>>> len(pairs), pairs[0][0].split(",")[0] in ("ADD", "EQUAL")
(5, True)
"""
from __future__ import annotations

import json
import math
import os
import random
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from mathwright.formats import caef as F
from mathwright.formats.caef_data import OP_MACHINE, check_record, make_records
from mathwright.models.base import GenerationConfig


@dataclass(frozen=True)
class Cls:
    """One generator op with operand-length ranges and a sampling weight."""

    op: str
    la: tuple[int, int]
    lb: tuple[int, int]
    weight: float = 1.0


@dataclass
class Mix:
    classes: list[Cls]

    @staticmethod
    def parse(spec: str) -> "Mix":
        """``op:LA[xLB][@W],...`` with LA/LB ``lo-hi`` or ``n`` (LB defaults to LA), weight W (default 1)."""
        out = []
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            op, _, rest = part.partition(":")
            rest, _, w = rest.partition("@")
            if op not in OP_MACHINE or not rest:
                raise ValueError(f"bad mix entry {part!r}: expected op:LA[xLB][@W] with op in {', '.join(OP_MACHINE)}")
            la, _, lb = rest.partition("x")

            def rng_(s: str) -> tuple[int, int]:
                lo, _, hi = s.partition("-")
                return int(lo), int(hi or lo)

            try:
                out.append(Cls(op, rng_(la), rng_(lb or la), float(w or 1.0)))
            except ValueError:
                raise ValueError(f"bad mix entry {part!r}: lengths must be integers, e.g. add:1-12") from None
        if not out:
            raise ValueError("empty mix")
        return Mix(out)

    def sample(self, rng: random.Random, n: int, variant: str = "both") -> list[tuple[str, str]]:
        """``n`` checked (prompt, response) pairs; ``variant`` caef / fixed / both (composer prompts with the
        reference's stale callee halt lines, with the real ones, or a coin flip per sequence)."""
        weights = [c.weight for c in self.classes]
        out: list[tuple[str, str]] = []
        while len(out) < n:
            c = rng.choices(self.classes, weights)[0]
            la, lb = rng.randint(*c.la), rng.randint(*c.lb)
            compat = variant == "caef" or (variant == "both" and rng.random() < 0.5)
            for r in make_records(c.op, la, lb, rng, mode="full", compat=compat):
                bad = check_record(r)
                if bad is not None:
                    raise RuntimeError(f"generated record failed its check: {bad}")
                out.append((r["instruction"], r["output"]))
        return out[:n]


def command_chars(response: str) -> list[bool]:
    """Per character of ``response``: is it on a command line (``CMD...`` or the halt line)?

    Those lines carry the step's decision (the digit written, the carry, the next state, the callee called);
    the rest of a full-format response is the previous state with the previous command applied, mostly a copy.

    >>> m = command_chars("ADD, q1, |2[HEAD1]\\nCMD: [C] 1, q1\\n")
    >>> "".join("^" if b else "." for b in m)
    '...................^^^^^^^^^^^^^^^'
    """
    out: list[bool] = []
    for line in response.splitlines(keepends=True):
        out += [line.startswith(("CMD", "No command"))] * len(line)
    return out


Seq = tuple[list[int], int, "list[float] | None"]


def caef_words() -> list[str]:
    """The full format's fixed vocabulary, one token each under ``tokenizer="caef"``: the register and head
    markers, moves, machine and state names, the halt line, ``", "``, and ``|d`` (a tape cell), so the digit
    under ``[HEAD1]`` is the very next token. Prompts and targets are unchanged; only their segmentation is.

    >>> from mathwright.models.tiny import char_tokenizer
    >>> tok = char_tokenizer(words=caef_words())
    >>> tok.convert_ids_to_tokens(tok("ADD, q1,  |3[HEAD1]|6", add_special_tokens=False)["input_ids"])
    ['ADD', ', ', 'q1', ', ', ' ', '|3', '[HEAD1]', '|6']
    """
    from mathwright.machines.composers import COMPOSERS
    from mathwright.machines.executors import EXECUTORS

    marks = ["[OUTPUT]", "[HEAD1]", "[HEAD2]", "[HEAD]", "[C]", "[CALL]", "[REM]", "[QD]", "[COUNT]"]
    states = [f"q{i}" for i in range(10)] + ["qH"]
    return ([F.HALT_LINE, "CMD", "RIGHT", "LEFT", "True", "False", ", "] + marks + list(EXECUTORS) + list(COMPOSERS)
            + states + [f"|{d}" for d in range(10)])


def make_tokenizer_words(kind: str) -> list[str]:
    """``char``: one token per character; ``caef``: :func:`caef_words` as whole tokens."""
    if kind not in ("char", "caef"):
        raise ValueError(f"unknown tokenizer {kind!r}: expected char or caef")
    return caef_words() if kind == "caef" else []


def command_tokens(tok, response: str) -> tuple[list[int], list[bool]]:
    """Token ids of ``response`` and, per token, whether it starts on a command line (:func:`command_chars`)."""
    enc = tok(response, add_special_tokens=False, return_offsets_mapping=True)
    chars = command_chars(response)
    return enc["input_ids"], [chars[a] if a < len(chars) else False for a, _ in enc["offset_mapping"]]


def encode(tok, pairs: Sequence[tuple[str, str]], cmd_weight: float = 1.0) -> list[Seq]:
    """(token ids of prompt + response + EOS, prompt length, per-response-token loss weights) per pair.

    With ``cmd_weight`` != 1, response tokens that start on a command line weigh ``cmd_weight`` (the
    tokenizer's offsets say where each token starts); otherwise weights are None (all 1)."""
    out: list[Seq] = []
    for p, r in pairs:
        pi = tok(p)["input_ids"]
        w = None
        if cmd_weight != 1.0:
            ri, cmd = command_tokens(tok, r)
            w = [cmd_weight if c else 1.0 for c in cmd] + [1.0]
        else:
            ri = tok(r, add_special_tokens=False)["input_ids"]
        out.append((pi + ri + [tok.eos_token_id], len(pi), w))
    return out


def micro_batches(seqs: list[Seq], max_tokens: int) -> list[list[Seq]]:
    """Sort by length and cut into groups whose padded size (rows x longest) stays under ``max_tokens``."""
    seqs = sorted(seqs, key=lambda s: len(s[0]))
    groups, cur = [], []
    for s in seqs:
        if cur and (len(cur) + 1) * len(s[0]) > max_tokens:
            groups.append(cur)
            cur = []
        cur.append(s)
    return groups + ([cur] if cur else [])


def _tensors(group, pad: int):
    import torch

    L = max(len(x) for x, _, _ in group)
    X = torch.full((len(group), L), pad, dtype=torch.long)
    Y = torch.full((len(group), L), -100, dtype=torch.long)
    M = torch.zeros((len(group), L), dtype=torch.long)
    W = torch.zeros((len(group), L), dtype=torch.float)
    for i, (x, pl, w) in enumerate(group):
        X[i, :len(x)] = torch.tensor(x)
        Y[i, pl:len(x)] = torch.tensor(x[pl:])
        M[i, :len(x)] = 1
        W[i, pl:len(x)] = torch.tensor(w) if w is not None else 1.0
    return X, Y, M, W


def response_loss(model, X, Y, M, W):
    """Cross-entropy over response tokens (only those positions go through the LM head), weighted by ``W``:
    (weighted mean, plain mean, token count, weight sum). With ``W`` all 1 the two means are equal."""
    import torch.nn.functional as Fn

    keep = (Y[:, 1:] != -100)
    keep = Fn.pad(keep, (0, 1), value=False)
    logits = model(input_ids=X, attention_mask=M, use_cache=False, logits_to_keep=keep).logits
    logits = logits.reshape(-1, logits.size(-1)).float()
    tgt = Y[:, 1:][keep[:, :-1]]
    ce = Fn.cross_entropy(logits, tgt, reduction="none")
    w = W[:, 1:][keep[:, :-1]]
    return (ce * w).sum() / w.sum(), ce.mean().detach(), int(tgt.numel()), float(w.sum())


@dataclass
class TrainState:
    step: int = 0
    tokens: int = 0  # prompt + response tokens seen (no padding)
    target_tokens: int = 0
    padded: int = 0  # tokens including padding
    train_seconds: float = 0.0  # wall time spent training, summed over resumed runs
    cpu_seconds: float = 0.0  # this process's CPU time (user + sys) spent training, summed
    loss: float = float("nan")
    done: bool = False


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _save(out: Path, model, opt, st: TrainState, meta: dict) -> None:
    import torch

    tmp = out / "ckpt.pt.tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": st.__dict__, "meta": meta}, tmp)
    os.replace(tmp, out / "ckpt.pt")


def train_full(mix: Mix, out_dir: str | Path, *, preset: str = "tiny-1m", fields: dict | None = None,
               minutes: float = 40.0, batch_tokens: int = 16_384, micro_tokens: int = 8_192, lr: float = 2e-3,
               warmup: int = 100, seed: int = 0, threads: int = 2, bf16: bool = True, variant: str = "both",
               ckpt_minutes: float = 3.0, max_steps: int | None = None, log_every: int = 10,
               cmd_weight: float = 1.0, tokenizer: str = "char",
               log: Callable[[str], None] = print) -> tuple[Any, Any, TrainState]:
    """Train (or resume) a tiny LLaMA on the full-format stream for ``minutes`` of training wall time.

    ``tokenizer``: ``char`` (one token per character) or ``caef`` (the format's markers as whole tokens,
    :func:`caef_words`).
    ``cmd_weight``: loss weight of command-line tokens (:func:`command_chars`) against 1 for the rest; the
    logged loss is the plain per-token mean either way."""
    import torch

    from mathwright.models.tiny import build_tiny

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(threads)
    fields = dict(fields or {})
    fields.setdefault("max_position_embeddings", 4096)
    model, tok = build_tiny(preset, seed=seed, words=make_tokenizer_words(tokenizer), **fields)
    model.set_attn_implementation("eager")  # CPU bf16 autocast pays only with eager attention (train/sft.py)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    st = TrainState()
    meta = {"preset": preset, "fields": fields, "seed": seed, "lr": lr, "batch_tokens": batch_tokens,
            "variant": variant, "mix": [c.__dict__ for c in mix.classes], "minutes": minutes}
    if cmd_weight != 1.0:  # only when set, so earlier checkpoints' metadata reads the same
        meta["cmd_weight"] = cmd_weight
    if tokenizer != "char":
        meta["tokenizer"] = tokenizer
    if (out / "ckpt.pt").exists():
        ck = torch.load(out / "ckpt.pt", weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        st = TrainState(**ck["state"])
        st.done = False  # the budget of this invocation decides (a rerun may extend it)
        log(f"resumed from {out / 'ckpt.pt'} at step {st.step} ({st.train_seconds / 60:.1f} min trained)")
    params = sum(p.numel() for p in model.parameters())
    budget = minutes * 60
    # the number of pairs per batch that fills batch_tokens, from the mix's mean length
    probe = encode(tok, mix.sample(random.Random(f"{seed}|probe"), 256, variant))
    per = max(1, int(batch_tokens / (sum(len(x) for x, _, _ in probe) / len(probe))))
    model.train()
    t_save = time.time()
    while not st.done:
        t0, c0 = time.time(), _cpu()
        if st.train_seconds >= budget or (max_steps is not None and st.step >= max_steps):
            st.done = True
            break
        frac = st.train_seconds / budget if max_steps is None else st.step / max_steps
        cur_lr = lr * min(1.0, (st.step + 1) / warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))
        for g in opt.param_groups:
            g["lr"] = cur_lr
        rng = random.Random(f"{seed}|batch|{st.step}")  # the batch is a function of (seed, step): resumable
        seqs = encode(tok, mix.sample(rng, per, variant), cmd_weight)
        n_target = sum(len(x) - pl for x, pl, _ in seqs)
        w_target = sum(len(x) - pl if w is None else sum(w) for x, pl, w in seqs)
        opt.zero_grad(set_to_none=True)
        loss_sum = 0.0
        for group in micro_batches(seqs, micro_tokens):
            X, Y, M, W = _tensors(group, tok.pad_token_id)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss, plain, n, wsum = response_loss(model, X, Y, M, W)
            (loss * wsum / w_target).backward()
            loss_sum += float(plain) * n
            st.padded += X.numel()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        st.step += 1
        st.tokens += sum(len(x) for x, _, _ in seqs)
        st.target_tokens += n_target
        st.loss = loss_sum / n_target
        st.train_seconds += time.time() - t0
        st.cpu_seconds += _cpu() - c0
        if st.step % log_every == 0:
            rate = st.tokens / max(st.train_seconds, 1e-9)
            eta = max(0.0, budget - st.train_seconds) if max_steps is None else \
                (max_steps - st.step) * st.train_seconds / st.step
            log(f"step {st.step} loss {st.loss:.4f} lr {cur_lr:.2e} tokens {st.tokens:,} ({rate:,.0f} tok/s, "
                f"padding {1 - st.tokens / max(st.padded, 1):.1%}) trained {st.train_seconds / 60:.1f} min "
                f"ETA {eta / 60:.1f} min")
        if time.time() - t_save > ckpt_minutes * 60:
            _save(out, model, opt, st, meta)
            t_save = time.time()
    _save(out, model, opt, st, meta)
    model.save_pretrained(out / "model")
    tok.save_pretrained(out / "model")
    summary = dict(st.__dict__, params=params, pairs_per_batch=per, **meta)
    (out / "train_summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    model.eval()
    return model, tok, st


class BudgetExceeded(RuntimeError):
    """Raised by :meth:`DraftVerified.generate` past its ``deadline`` (an evaluation's time budget)."""


class DraftVerified:
    """Greedy decoding of a causal LM, sped up by verifying a draft: ``draft(prompt)`` (here the oracle's next
    step) is scored in one forward pass; the response is the draft's longest prefix that equals the model's
    argmax at every position, then the model's own token there, then (unless that token is EOS) token-by-token
    greedy decoding with ``model.generate``. Greedy decoding is a function of the prefix only, so this returns
    the model's greedy output exactly; the draft only decides how much of it one forward pass can confirm.

    With ``fallback_tokens`` a departed row is decoded only that far past its first non-draft token (a
    lock-step checked run stops at that step anyway, and the departure already names the wrong field).

    ``stats``: calls, drafted tokens, tokens confirmed from the draft, rows that needed ``generate``."""

    def __init__(self, model, tok, draft: Callable[[str], str] | None = None, max_tokens: int = 24_576,
                 fallback_tokens: int | None = None, name: str = "draft-verified") -> None:
        self.model, self.tok, self.name = model, tok, name
        self.deadline: float | None = None  # time.time() after which generate raises BudgetExceeded
        self.fallback_tokens = fallback_tokens  # None: decode a departed row to the end; n: n tokens past the departure
        self.draft = draft or _oracle_draft
        self.max_tokens = max_tokens
        self.stats = {"calls": 0, "draft_tokens": 0, "confirmed": 0, "fallback_rows": 0}

    def _verify(self, rows: list[tuple[list[int], list[int]]], cap: int) -> list[tuple[list[int], bool]]:
        """For (prompt ids, draft ids + EOS): (response ids, finished); responses stop at ``cap`` tokens."""
        import torch

        order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]) + len(rows[i][1]))
        res: list[Any] = [None] * len(rows)
        eos = self.tok.eos_token_id
        i = 0
        while i < len(order):
            L = len(rows[order[i]][0]) + len(rows[order[i]][1])
            j = i + 1
            while j < len(order) and (j - i + 1) * (len(rows[order[j]][0]) + len(rows[order[j]][1])) <= self.max_tokens:
                j += 1
            idx = order[i:j]
            L = max(len(rows[k][0]) + len(rows[k][1]) for k in idx)
            X = torch.full((len(idx), L), self.tok.pad_token_id, dtype=torch.long)
            M = torch.zeros((len(idx), L), dtype=torch.long)
            for r, k in enumerate(idx):
                x = rows[k][0] + rows[k][1]
                X[r, :len(x)], M[r, :len(x)] = torch.tensor(x), 1
            with torch.inference_mode():  # right padding: real tokens keep positions 0..len-1
                pred = self.model(input_ids=X, attention_mask=M, use_cache=False).logits.argmax(-1)
            for r, k in enumerate(idx):
                p, d = rows[k]
                got = pred[r, len(p) - 1:len(p) - 1 + len(d)].tolist()
                n = 0
                while n < len(d) and got[n] == d[n]:
                    n += 1
                if n == len(d):
                    res[k] = (d[:-1], True)  # the whole draft and its EOS confirmed
                else:
                    resp = d[:n] + [got[n]]
                    res[k] = (resp[:-1], True) if got[n] == eos else (resp, False)
                if len(res[k][0]) >= cap:
                    res[k] = (res[k][0][:cap], True)
                self.stats["confirmed"] += min(n, len(d))
                self.stats["draft_tokens"] += len(d)
            i = j
        return res

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig) -> list[list[str]]:
        if self.deadline is not None and time.time() > self.deadline:
            raise BudgetExceeded(f"evaluation budget ran out after {self.stats['calls']:,} calls")
        tok = self.tok
        self.stats["calls"] += len(prompts)
        rows = []
        for p in prompts:
            try:
                d = self.draft(p)
            except (ValueError, KeyError, IndexError):
                d = ""
            rows.append((tok(p)["input_ids"], tok(d, add_special_tokens=False)["input_ids"][:cfg.max_new_tokens]
                         + [tok.eos_token_id]))
        res = self._verify(rows, cfg.max_new_tokens)
        texts = [tok.decode(r, skip_special_tokens=True) for r, _ in res]
        todo = [i for i, (r, fin) in enumerate(res) if not fin and len(r) < cfg.max_new_tokens]
        if todo:
            self.stats["fallback_rows"] += len(todo)
            from mathwright.models.hf import HFModel

            hf = HFModel(self.model, tok, name=self.name)
            left = max(cfg.max_new_tokens - min(len(res[i][0]) for i in todo), 1)
            if self.fallback_tokens is not None:
                left = min(left, self.fallback_tokens)
            more = hf.generate([prompts[i] + texts[i] for i in todo],
                               GenerationConfig(max_new_tokens=left, batch_size=cfg.batch_size))
            for i, m in zip(todo, more):
                texts[i] = (texts[i] + m[0])[:cfg.max_new_tokens]
        return [[t] for t in texts]


def _oracle_draft(prompt: str) -> str:
    return F.oracle_response(prompt)
