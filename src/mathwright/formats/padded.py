"""``padded``: fixed-width operands and reversed, fixed-width answers, so digit places line up by position.

With every operand zero-padded to the same width ``W`` (16, Goat's longest operand), the ``k``-th answer
digit always sits at the same distance from the ``k``-th digits of both operands, whatever their real
lengths. A small from-scratch transformer can then learn addition and subtraction as one positional
rule instead of searching for the place of each digit (cf. the padding of Shen et al. 2023 and the
index hints of Zhou et al. 2024, anchors.md §1).

- instruction: ``a + b`` with both operands zero-padded to ``W`` digits (longer operands are not cut:
  the width grows to the longer one);
- ``add``/``sub``/``mul``: ``[-]`` then the digits of ``|answer|`` least-significant first, zero-padded to
  ``W + 1`` (+, -) or ``2W`` (*) digits;
- ``div``: ``q R r`` written normally (long division is most-significant first), ``undefined`` for ``/ 0``.

>>> from mathwright.arith.problem import Problem
>>> r = FORMAT.render(Problem("sub", 12, 150), width=4); r["instruction"], r["output"]
('0012 - 0150', '-83100')
>>> FORMAT.parse("-83100"), FORMAT.check(r), FORMAT.check({**r, "output": "-83000"})
('-138', None, "answer: '-83000', expected '-83100'")
>>> ALIGNED.render(Problem("add", 12, 150), width=4)["instruction"]
'2100 + 0510'
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

from mathwright.arith.problem import Problem, parse_expr
from mathwright.formats import reversed as reversed_format

WIDTH = 16


@dataclass(frozen=True)
class PaddedFormat:
    """The ``padded`` format at a given operand width (the registry entry uses ``WIDTH`` = 16)."""

    width: int = WIDTH
    name: str = "padded"
    lsb_operands: bool = False  # ``aligned``: operands too are written least-significant digit first
    STOP: tuple[str, ...] = ("\n",)

    def _w(self, p: Problem, width: Optional[int]) -> int:
        return max(width or self.width, len(str(abs(p.a))), len(str(abs(p.b))))

    def instruction(self, p: Problem, width: Optional[int] = None) -> str:
        """``'0012 + 0150'``: the canonical expression with zero-padded operands."""
        w = self._w(p, width)

        def pad(x: int) -> str:
            digits = str(abs(x)).zfill(w)
            return ("-" if x < 0 else "") + (digits[::-1] if self.lsb_operands else digits)

        return f"{pad(p.a)} {p.symbol} {pad(p.b)}"

    def output(self, p: Problem, width: Optional[int] = None) -> str:
        if p.op == "div":
            ans = p.answer()
            return "undefined" if ans is None else f"{ans[0]} R {ans[1]}"  # type: ignore[index]
        if p.op not in ("add", "sub", "mul"):
            raise ValueError(f"format {self.name!r} covers add, sub, mul, div; got {p.op!r}")
        w = self._w(p, width)
        v = int(p.answer())  # type: ignore[arg-type]
        return ("-" if v < 0 else "") + str(abs(v)).zfill(2 * w if p.op == "mul" else w + 1)[::-1]

    def render(self, p: Problem, rng: random.Random | None = None, width: Optional[int] = None) -> dict:
        """A training record ``{instruction, input, output, answer, op}`` (``rng`` unused: no noise)."""
        return {"instruction": self.instruction(p, width), "input": p.expr(), "output": self.output(p, width),
                "answer": p.answer_text(), "op": p.op}

    def parse(self, text: str) -> Optional[str]:
        """Canonical answer from a model output, or None when unreadable (the answer is written as in ``reversed``)."""
        return reversed_format.parse(text)

    def check(self, record: dict) -> Optional[str]:
        """None when the record's instruction and output are exactly this format's rendering of its input."""
        try:
            p = parse_expr(record["input"])
        except (KeyError, ValueError) as e:
            return f"input: {e}"
        w = len(record.get("instruction", "").split(" ")[0].lstrip("-")) or None
        want = self.render(p, width=w)
        if record.get("instruction") != want["instruction"]:
            return f"instruction: {record.get('instruction')!r}, expected {want['instruction']!r}"
        if record.get("output") != want["output"]:
            return f"answer: {record.get('output')!r}, expected {want['output']!r}"
        return None


FORMAT = PaddedFormat()
FORMAT8 = PaddedFormat(width=8, name="padded8")  # a shorter width: fewer tokens per example
# ``aligned``: operands and answer all least-significant digit first, so answer digit k depends only on
# operand digits k (and the carry) at a fixed distance: the easiest layout for a small model to learn.
ALIGNED = PaddedFormat(width=WIDTH, name="aligned", lsb_operands=True)
ALIGNED8 = PaddedFormat(width=8, name="aligned8", lsb_operands=True)  # the quickstart's format
