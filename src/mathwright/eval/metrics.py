"""Arithmetic answer metrics: canonical answers, exact match and digit match (1 - character error rate).

Goat (App. C) scores two numbers per problem: exact string match, and *digit match* = 1 - CER, where
CER is the Levenshtein distance between the characters of the predicted and the gold answer string,
divided by the gold length. We clip at 0 (a very long wrong answer cannot score below zero) and score
a missing prediction as 0.

**Division answers.** Every answer is compared in full after canonicalisation: sign, quotient *and*
remainder (Goat's own checks compared only the last whitespace token, i.e. only the remainder).
Rule for ``Q R r`` against remainder-free references (BIG-bench columns divide exactly):

- ``q R 0`` is the same answer as ``q`` (both canonicalise to ``q``);
- a reference without ``R`` means the division is exact, so a prediction ``q R r`` with ``r > 0`` is
  wrong even when ``q`` matches;
- ``remainder="quotient"`` is an explicit opt-in for references that *truncate* (drop a non-zero
  remainder): then only the quotients are compared, and digit match is computed on the quotients.

>>> canonical_answer(" +007 R 0 ")
'7'
>>> exact_match("12 R 3", "12 R 3"), exact_match("12 R 4", "12 R 3"), exact_match("12 R 0", "12")
(True, False, True)
>>> exact_match("12 R 3", "12"), exact_match("12 R 3", "12", remainder="quotient")
(False, True)
>>> round(digit_match("1235", "1234"), 3), digit_match(None, "1234"), digit_match("99999999", "1")
(0.75, 0.0, 0.0)
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

REMAINDER_RULES = ("full", "quotient")
_NUM = re.compile(r"^[+-]?\d+$")


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions) between two strings.

    >>> levenshtein("kitten", "sitting")
    3
    """
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _canon_int(tok: str) -> str:
    sign = "-" if tok.startswith("-") else ""
    digits = tok.lstrip("+-").lstrip("0") or "0"
    return ("" if digits == "0" else sign) + digits


def canonical_answer(text: Optional[str]) -> Optional[str]:
    """Normalise an answer string: spaces collapsed, ``+`` and leading zeros dropped, ``q R 0`` -> ``q``.

    Non-numeric answers (``undefined``, ``True``) are returned stripped; ``None`` stays ``None``.

    >>> canonical_answer("-0012"), canonical_answer("5 r 2"), canonical_answer("undefined")
    ('-12', '5 R 2', 'undefined')
    """
    if text is None:
        return None
    t = " ".join(text.strip().split())
    m = re.fullmatch(r"([+-]?\d+)\s*[Rr]\s*(\d+)", t)
    if m:
        q, r = _canon_int(m.group(1)), _canon_int(m.group(2))
        return q if r == "0" else f"{q} R {r}"
    if _NUM.match(t):
        return _canon_int(t)
    return t


def _quotient(ans: Optional[str]) -> Optional[str]:
    return None if ans is None else ans.split(" R ")[0]


def _prepare(pred: Optional[str], gold: str, remainder: str) -> tuple[Optional[str], str]:
    if remainder not in REMAINDER_RULES:
        raise ValueError(f"unknown remainder rule {remainder!r}; valid: {', '.join(REMAINDER_RULES)}")
    p, g = canonical_answer(pred), canonical_answer(gold) or ""
    if remainder == "quotient":
        p, g = _quotient(p), _quotient(g) or ""
    return p, g


def exact_match(pred: Optional[str], gold: str, remainder: str = "full") -> bool:
    """Full-answer equality after :func:`canonical_answer` (see the module docstring for division)."""
    p, g = _prepare(pred, gold, remainder)
    return p is not None and p == g


def digit_match(pred: Optional[str], gold: str, remainder: str = "full") -> float:
    """``max(0, 1 - levenshtein(pred, gold) / len(gold))`` on canonical answers; 0 for no prediction."""
    p, g = _prepare(pred, gold, remainder)
    if p is None or not g:
        return 0.0
    return max(0.0, 1.0 - levenshtein(p, g) / len(g))


def mean(xs: Iterable[float]) -> float:
    """Mean of ``xs``; 0.0 for an empty sequence (so empty buckets never crash a report)."""
    xs = list(xs)
    return sum(xs) / len(xs) if xs else 0.0


def summarize(records: list[dict], group_by: str = "bucket") -> dict:
    """Micro-averaged ``exact_match`` / ``digit_match`` over ``records`` and per value of ``group_by``.

    Each record needs ``correct`` (bool) and ``digit_match`` (float).

    >>> recs = [{"bucket": "a", "correct": True, "digit_match": 1.0}, {"bucket": "b", "correct": False, "digit_match": 0.5}]
    >>> s = summarize(recs); s["exact_match"], s["digit_match"], s["groups"]["b"]["n"]
    (0.5, 0.75, 1)
    """
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(str(r[group_by]), []).append(r)

    def fig(rs: list[dict]) -> dict:
        return {"n": len(rs), "exact_match": mean(float(bool(r["correct"])) for r in rs),
                "digit_match": mean(float(r["digit_match"]) for r in rs)}

    out = fig(records)
    out["groups"] = {k: fig(v) for k, v in groups.items()}
    return out
