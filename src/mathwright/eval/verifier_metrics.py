"""Metrics for N samples per problem (verifiers.md §3): test@N, verifier@N, vote@N, top-k vote, curves,
and the scorer for OpenAI's released ``example_model_solutions.jsonl``.

Definitions (per problem, averaged over problems; N <= the samples drawn, n):

- **test@N**: the problem counts as solved at N if at least one of N samples is correct (coverage, the
  verifier's ceiling). Computed exactly over all N-subsets of the n samples (the unbiased pass@k
  estimator): ``1 - C(n-c, N) / C(n, N)``; test@1 is the mean single-sample accuracy.
- **verifier@N**: the answer of the top-scored of N samples is correct. Exact expectation over
  N-subsets: the sample ranked r-th of n is the subset's best with probability ``C(n-1-r, N-1)/C(n, N)``.
- **vote@N**: plain majority vote over N samples' final answers; **topk_vote@N**: majority vote over
  the k best-ranked of N samples; **weighted_vote@N**: the answer with the largest sum of scores. These
  are averaged over ``draws`` seeded random N-subsets (exact at N = n).

>>> round(coverage_at(4, 1, 2), 4), round(verifier_at([True, False, False, False], [0.1, 0.9, 0.5, 0.2], 2), 4)
(0.5, 0.0)
"""
from __future__ import annotations

import math
import os
import random
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Sequence

from mathwright.solve.rerank import majority_vote, top_k_vote, weighted_vote

PUBLISHED = {"6b_finetuning": 0.217, "6b_verification": 0.390, "175b_finetuning": 0.347, "175b_verification": 0.563}


def coverage_at(n: int, c: int, k: int) -> float:
    """Probability that a random k-subset of n samples (c correct) holds a correct one."""
    if k > n:
        raise ValueError(f"k={k} > n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def verifier_at(correct: Sequence[bool], scores: Sequence[float], k: int) -> float:
    """Exact expected correctness of best-of-k (by score) over random k-subsets (ties: earlier sample wins)."""
    n = len(correct)
    order = sorted(range(n), key=lambda j: (-scores[j], j))
    tot = math.comb(n, k)
    return sum(math.comb(n - 1 - r, k - 1) for r, j in enumerate(order) if correct[j]) / tot


def _answer_right(preds: Sequence[str | None], correct: Sequence[bool]) -> dict[str, bool]:
    # a final answer is right iff the samples that gave it were labelled correct
    right: dict[str, bool] = {}
    for p, c in zip(preds, correct):
        if p is not None:
            right[p] = right.get(p, False) or bool(c)
    return right


def subset_metric(preds: Sequence[str | None], correct: Sequence[bool], scores: Sequence[float] | None, k: int,
                  select: Callable[[list, list], str | None], draws: int, rng: random.Random) -> float:
    """Mean correctness of ``select(preds_subset, scores_subset)`` over random k-subsets (one draw if k = n)."""
    n = len(preds)
    right = _answer_right(preds, correct)
    idx_sets = [list(range(n))] if k >= n else [rng.sample(range(n), k) for _ in range(draws)]
    hits = 0
    for idx in idx_sets:
        a = select([preds[j] for j in idx], [scores[j] for j in idx] if scores is not None else [0.0] * len(idx))
        hits += bool(a is not None and right.get(a, False))
    return hits / len(idx_sets)


def evaluate(problems: Sequence[dict], scores: dict[str, Sequence[float]] | None = None,
             ns: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 100), topk: Sequence[int] = (1, 3, 5, 10, 25, 50, 100),
             topk_frac: float = 0.1, draws: int = 32, seed: int = 0) -> dict:
    """All metrics for per-problem sample records (``preds``, ``correct``); ``scores[id]`` per sample.

    Returns ``{"n_problems", "n_samples", "curves": {metric: {N: value}}, "topk_at_max": {k: value}}``.
    """
    rng = random.Random(seed)
    n = min(len(p["correct"]) for p in problems)
    ns = [k for k in ns if k <= n]
    curves: dict[str, dict[int, float]] = {m: {} for m in ("test", "vote")}
    if scores is not None:
        for m in ("verifier", "topk_vote", "weighted_vote"):
            curves[m] = {}
    P = len(problems)
    for k in ns:
        acc = {m: 0.0 for m in curves}
        for p in problems:
            pr, co = p["preds"][:n], p["correct"][:n]
            acc["test"] += coverage_at(n, sum(map(bool, co)), k)
            acc["vote"] += subset_metric(pr, co, None, k, lambda a, s: majority_vote(a), draws, rng)
            if scores is not None:
                sc = list(scores[p["id"]])[:n]
                acc["verifier"] += verifier_at(co, sc, k)
                kk = max(1, math.ceil(k * topk_frac))
                acc["topk_vote"] += subset_metric(pr, co, sc, k, lambda a, s, kk=kk: top_k_vote(a, s, kk), draws, rng)
                acc["weighted_vote"] += subset_metric(pr, co, sc, k, weighted_vote, draws, rng)
        for m in curves:
            curves[m][k] = acc[m] / P
    res: dict = {"n_problems": P, "n_samples": n, "curves": curves, "topk_frac": topk_frac}
    if scores is not None:
        res["topk_at_max"] = {}
        for kk in [k for k in topk if k <= n]:
            s = sum(subset_metric(p["preds"][:n], p["correct"][:n], list(scores[p["id"]])[:n], n,
                                  lambda a, sc, kk=kk: top_k_vote(a, sc, kk), 1, rng) for p in problems)
            res["topk_at_max"][kk] = s / P
    return res


def plot_curves(curves: dict[str, dict[int, float]], out: str | os.PathLike, title: str = "") -> Path:
    """Accuracy vs N (log x axis) for each metric; PNG via matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, c in curves.items():
        xs = sorted(c)
        ax.plot(xs, [100 * c[x] for x in xs], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (samples per problem)")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# --------------------------------------------------------------- OpenAI's released example solutions
def _num(text: str | None) -> Fraction | None:
    from mathwright.formats.gsm import to_number

    return None if text is None else to_number(text)


def score_example_solutions(path: str | os.PathLike) -> dict[str, dict]:
    """Score every system in ``example_model_solutions.jsonl`` (verifiers.md, "Layout of the released
    example model solutions"): each record has ``question``, ``ground_truth`` (ending ``A: N``) and one
    object ``{"is_correct", "solution"}`` per system. A solution is correct iff its final ``A: N`` (or
    ``#### N``) equals the ground truth's by value. Returns per system: correct, total, accuracy, the
    number of records whose grade agrees with the released ``is_correct`` flag, and the published figure.
    """
    from mathwright.io import DataError, read_records
    from mathwright.formats.gsm import parse

    out: dict[str, dict] = {}
    for ln, rec in read_records(path):
        if "ground_truth" not in rec:
            raise DataError(path, ln, "missing 'ground_truth' (expected the example_model_solutions layout)")
        gold = _num(parse(rec["ground_truth"]))
        if gold is None:
            raise DataError(path, ln, "ground_truth has no final 'A: N' / '#### N' line")
        systems = {k: v for k, v in rec.items() if isinstance(v, dict) and "solution" in v}
        if not systems:
            raise DataError(path, ln, "no system objects with a 'solution' field")
        for name, v in systems.items():
            pred = _num(parse(str(v["solution"])))
            ok = pred is not None and pred == gold
            s = out.setdefault(name, {"correct": 0, "total": 0, "agree_with_flag": 0, "flagged": 0})
            s["correct"] += ok
            s["total"] += 1
            if "is_correct" in v:
                s["flagged"] += 1
                s["agree_with_flag"] += ok == bool(v["is_correct"])
    for name, s in out.items():
        s["accuracy"] = s["correct"] / s["total"]
        s["published"] = PUBLISHED.get(name)
    return out
