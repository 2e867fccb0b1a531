"""Selecting one answer from N samples: best-of-N by verifier score, majority vote, majority vote over
the top-k ranked samples, and score-weighted vote.

Samples whose final answer could not be read (``None``) never win a vote; best-of-N still returns the
top-scored sample's answer (which may be ``None``: a wrong answer, as the paper scores it).

>>> preds = ["5", "7", "7", "5", "5", None]
>>> scores = [0.9, 0.8, 0.7, 0.1, 0.2, 0.95]
>>> best_of_n(preds, scores), majority_vote(preds), top_k_vote(preds, scores, 4), weighted_vote(preds, scores)
(None, '5', '7', '7')
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence


def best_of_n(preds: Sequence[str | None], scores: Sequence[float]) -> str | None:
    """The answer of the highest-scoring sample (ties: the earliest sample)."""
    if not preds:
        return None
    i = max(range(len(preds)), key=lambda j: (scores[j], -j))
    return preds[i]


def majority_vote(preds: Sequence[str | None], scores: Sequence[float] | None = None) -> str | None:
    """The most frequent readable answer: the one majority vote of mathwright (self-consistency in
    ``solve/strategies.py``, vote@N and the verifier's top-k vote here).

    Tie rule (one, lexicographic): most votes; then, only when ``scores`` are given (the top-k vote), the
    higher total verifier score; then the answer that appeared first in ``preds``. Without scores this is
    self-consistency as MAmmoTH's ``run_open_sc.py`` computes it (``Counter.most_common``: first seen wins)
    over the readable answers; Cobbe et al. (2021) leave the top-k tie open, and the verifier's scores
    break it. ``None`` (unreadable) never votes.

    >>> majority_vote(["3", "4", "4", "3"]), majority_vote(["3", "4", "4", "3"], [0.1, 0.2, 0.3, 0.1])
    ('3', '4')
    """
    count: dict[str, int] = defaultdict(int)
    total: dict[str, float] = defaultdict(float)
    first: dict[str, int] = {}
    for j, p in enumerate(preds):
        if p is None:
            continue
        count[p] += 1
        total[p] += scores[j] if scores is not None else 0.0
        first.setdefault(p, j)
    if not count:
        return None
    return max(count, key=lambda a: (count[a], total[a], -first[a]))


def top_k_vote(preds: Sequence[str | None], scores: Sequence[float], k: int) -> str | None:
    """Majority vote over the ``k`` highest-scoring samples (k=1: best-of-N when readable; k=N: plain vote)."""
    order = sorted(range(len(preds)), key=lambda j: (-scores[j], j))[: max(1, k)]
    return majority_vote([preds[j] for j in order], [scores[j] for j in order])


def weighted_vote(preds: Sequence[str | None], scores: Sequence[float]) -> str | None:
    """The answer with the largest sum of verifier scores."""
    total: dict[str, float] = defaultdict(float)
    first: dict[str, int] = {}
    for j, p in enumerate(preds):
        if p is not None:
            total[p] += scores[j]
            first.setdefault(p, j)
    if not total:
        return None
    return max(total, key=lambda a: (total[a], -first[a]))
