"""``reversed``: direct answers written least-significant digit first, for small from-scratch models.

A left-to-right model writing ``a + b`` most-significant digit first must resolve every carry before
its first token; written LSB-first, each answer digit depends only on the digits at that place and one
carry, so the task becomes local (Lee et al. 2023, McLeish et al. 2024; anchors.md §1).

- ``add``/``sub``/``mul``: ``[-]`` then the digits of ``|answer|`` reversed. The sign comes first
  because every digit of a difference depends on it (``12 - 15 = -3`` is written ``-3``;
  ``1234 + 5678 = 6912`` is written ``2196``).
- ``div``: long division produces quotient digits most-significant first, so the answer is written
  normally as ``q R r``, with ``R 0`` kept for exact division so that a bare digit string always
  means a reversed number; ``undefined`` for a zero divisor.

The instruction is the canonical expression (``a + b``); the trainer/eval prompt is
``"{instruction}\\nAnswer: "`` as for Goat.

>>> from mathwright.arith.problem import Problem
>>> render(Problem("add", 1234, 5678))["output"]
'2196'
>>> render(Problem("sub", 12, 150))["output"], parse("831-"), parse("-831")
('-831', None, '-138')
>>> check({"input": "12 - 150", "output": "-831"}) is None
True
>>> check({"input": "12 - 150", "output": "-832"})
"answer: '-832' reads as -238, expected -138"
"""
from __future__ import annotations

import random
import re
from typing import Optional

from mathwright.arith.problem import Problem, parse_expr
from mathwright.formats.contract import ArithText

NAME = "reversed"
STOP: tuple[str, ...] = ("\n",)  # answers are one line; stop early if the model rambles
_REV = re.compile(r"^(-?)(\d+)$")


def instruction(p: Problem) -> str:
    """The prompt text (before ``\\nAnswer: ``): the canonical expression."""
    return p.expr()


def rev_int(n: int) -> str:
    """``-120`` -> ``'-021'``: sign first, then the digits of ``|n|`` least-significant first."""
    return ("-" if n < 0 else "") + str(abs(n))[::-1]


def read_rev(text: str) -> Optional[int]:
    """Inverse of :func:`rev_int`; None when ``text`` is not ``[-]digits``."""
    m = _REV.match(text.strip())
    if not m:
        return None
    v = int(m.group(2)[::-1])
    return -v if m.group(1) else v


def answer_output(p: Problem) -> str:
    """The output text for ``p``'s answer (see the module docstring)."""
    if p.op == "div":
        ans = p.answer()
        return "undefined" if ans is None else f"{ans[0]} R {ans[1]}"  # type: ignore[index]
    if p.op not in ("add", "sub", "mul"):
        raise ValueError(f"format {NAME!r} covers add, sub, mul, div; got {p.op!r}")
    return rev_int(p.answer())  # type: ignore[arg-type]


def render(p: Problem, rng: random.Random | None = None) -> dict:
    """A training record ``{instruction, input, output, answer, op}`` (``rng`` unused: no noise)."""
    return {"instruction": instruction(p), "input": p.expr(), "output": answer_output(p), "answer": p.answer_text(),
            "op": p.op}


def parse(text: str) -> Optional[str]:
    """Canonical answer (``'-138'``, ``'3 R 2'``, ``'3'`` for ``3 R 0``) from a model output, or None.

    >>> parse("0021"), parse("14 R 0"), parse("undefined"), parse("12x")
    ('1200', '14', 'undefined', None)
    """
    t = text.strip().split("\n")[0].strip()
    if t == "undefined":
        return t
    m = re.fullmatch(r"(-?\d+) R (\d+)", t)
    if m:
        q, r = int(m.group(1)), int(m.group(2))
        return f"{q} R {r}" if r else str(q)
    v = read_rev(t)
    return None if v is None else str(v)


def check(record: dict) -> Optional[str]:
    """None when ``record['output']`` is the exact answer of ``record['input']``, else what is wrong."""
    try:
        p = parse_expr(record["input"])
    except (KeyError, ValueError) as e:
        return f"input: {e}"
    want = answer_output(p)
    got = record.get("output", "")
    if got == want:
        return None
    if p.op == "div":
        return f"answer: {got!r}, expected {want!r}"
    v = read_rev(got)
    shown = "unreadable" if v is None else f"reads as {v}"
    return f"answer: {got!r} {shown}, expected {p.answer()}"


FORMAT = ArithText(NAME, render=render, parse=parse, check=check, stop=STOP, instruction=instruction)  # the registry entry
