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

``aligned-scratch`` (:class:`AlignedScratch`; width 16, ``aligned-scratch6``: width 6) keeps the ``aligned``
layout with two scratchpads. Subtraction never needs the sign up front (a small model cannot compare two
16-digit numbers before writing the first digit): it writes ``r = (a - b) mod 10**(W+1)`` LSB-first with
the local borrow rule; when ``a - b < 0`` (``r``'s top digit is then 8 or 9) it continues with ``>-`` and
``|a - b| = 10**(W+1) - r``, again LSB-first. Multiplication is written
as fixed-width long multiplication, everything least-significant digit first: for each digit ``d_j`` of
``b`` (all ``W`` of them, zeros included, so every step sits at a fixed position), the partial product
``|a| * d_j`` in ``W + 1`` digits, then from the second step on ``>`` and the running sum
``S_j = S_{j-1} + |a| * d_j * 10**j`` in ``2W`` digits; the last running sum is ``|a * b|``, and a leading
``-`` marks a negative product. Every digit is then a local function of digits at fixed distances.

>>> ALIGNED_SCRATCH.output(Problem("sub", 12, 150), width=4), ALIGNED_SCRATCH.output(Problem("sub", 150, 12), width=4)
('26899>-83100', '83100')
>>> r = ALIGNED_SCRATCH.render(Problem("mul", 12, 34), width=2); r["instruction"], r["output"]
('21 * 43', '840;630>8040')
>>> ALIGNED_SCRATCH.parse(r["output"]), ALIGNED_SCRATCH.check({**r, "output": "840;630>8041"})
('408', 'step 2: running sum 1408 != 48 + 12 * 3 * 10**1 = 408')
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Optional

from mathwright.arith.problem import Problem, parse_expr
from mathwright.formats import reversed as reversed_format
from mathwright.formats.contract import prompt_text

WIDTH = 16


@dataclass(frozen=True)
class PaddedFormat:
    """The ``padded`` format at a given operand width (the registry entry uses ``WIDTH`` = 16): an
    :class:`~mathwright.formats.contract.ArithFormat`."""

    width: int = WIDTH
    name: str = "padded"
    lsb_operands: bool = False  # ``aligned``: operands too are written least-significant digit first
    stop: tuple[str, ...] = ("\n",)

    def _w(self, p: Problem, width: Optional[int]) -> int:
        return max(width or self.width, len(str(abs(p.a))), len(str(abs(p.b))))

    def instruction(self, p: Problem, width: Optional[int] = None) -> str:
        """``'0012 + 0150'``: the canonical expression with zero-padded operands."""
        w = self._w(p, width)

        def pad(x: int) -> str:
            digits = str(abs(x)).zfill(w)
            return ("-" if x < 0 else "") + (digits[::-1] if self.lsb_operands else digits)

        return f"{pad(p.a)} {p.symbol} {pad(p.b)}"

    def prompt(self, p: Problem, template: Optional[str] = None) -> str:
        """``'0012 + 0150\\nAnswer: '``: the padded instruction in ``template`` (default the shared prompt)."""
        return prompt_text(self.instruction(p), p, template)

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


@dataclass(frozen=True)
class AlignedScratch(PaddedFormat):
    """``aligned`` with a fixed-width long-multiplication scratchpad for ``mul`` (see the module docstring)."""

    name: str = "aligned-scratch"
    lsb_operands: bool = True

    @staticmethod
    def _rev(n: int, width: int) -> str:
        return str(n).zfill(width)[::-1]

    def output(self, p: Problem, width: Optional[int] = None) -> str:
        w = self._w(p, width)
        if p.op == "sub":
            v = p.a - p.b
            r = self._rev(v % 10 ** (w + 1), w + 1)
            return r if v >= 0 else f"{r}>-{self._rev(-v, w + 1)}"
        if p.op != "mul":
            return super().output(p, width)
        steps = []
        for j, (part, total) in enumerate(long_multiplication(abs(p.a), abs(p.b), w)):
            ptxt = self._rev(part, w + 1)
            steps.append(ptxt if j == 0 else f"{ptxt}>{self._rev(total, 2 * w)}")
        return ("-" if p.a * p.b < 0 else "") + ";".join(steps)

    def parse(self, text: str) -> Optional[str]:
        """The product is the last running sum (the text after the last ``>`` or ``;``)."""
        t = text.strip().split("\n")[0].strip()
        if ">-" in t and ";" not in t:  # subtraction with a negative result: the part after ">"
            return super().parse(t.rpartition(">")[2])
        if ";" not in t and ">" not in t:
            return super().parse(t)
        sign = "-" if t.startswith("-") else ""
        return super().parse(sign + re.split(r"[;>]", t.lstrip("-"))[-1])

    def check(self, record: dict) -> Optional[str]:
        """None when every partial product and running sum is exact and the layout canonical, else the first error."""
        try:
            p = parse_expr(record["input"])
        except (KeyError, ValueError) as e:
            return f"input: {e}"
        out = record.get("output", "")
        w = len(record.get("instruction", "").split(" ")[0].lstrip("-")) or None
        if p.op == "sub":
            rtxt, sep, ntxt = out.partition(">-")
            v, mod = p.a - p.b, 10 ** (self._w(p, w) + 1)
            if not rtxt.isdigit() or int(rtxt[::-1]) != v % mod:
                return f"step 1: {rtxt[::-1]!r} != ({p.a} - {p.b}) mod {mod} = {v % mod}"
            if (v < 0) != bool(sep):
                return f"step 2: {'missing' if v < 0 else 'unexpected'} negation of a {'negative' if v < 0 else 'non-negative'} difference"
            if sep and (not ntxt.isdigit() or int(ntxt[::-1]) != -v):
                return f"step 2: {ntxt[::-1]!r} != {mod} - {v % mod} = {-v}"
        if p.op == "mul":
            a, digits, total = abs(p.a), str(abs(p.b)).zfill(self._w(p, w))[::-1], 0
            for j, step in enumerate(out.lstrip("-").split(";")):
                ptxt, _, stxt = step.partition(">")
                d = int(digits[j]) if j < len(digits) else 0
                if not ptxt.isdigit() or int(ptxt[::-1]) != a * d:
                    return f"step {j + 1}: partial product {ptxt[::-1]!r} != {a} * {d} = {a * d}"
                total += a * d * 10**j
                if j and (not stxt.isdigit() or int(stxt[::-1]) != total):
                    return (f"step {j + 1}: running sum {stxt[::-1].lstrip('0') or 0} != {total - a * d * 10**j} + "
                            f"{a} * {d} * 10**{j} = {total}")
        return super().check(record)


def long_multiplication(a: int, b: int, width: int) -> list[tuple[int, int]]:
    """``(a * d_j, running sum up to step j)`` for each of the ``width`` digits ``d_j`` of ``b``, least
    significant first (``a``, ``b`` >= 0): the one definition of the ``aligned-scratch`` steps.

    >>> long_multiplication(12, 34, 2)
    [(48, 48), (36, 408)]
    """
    out, total = [], 0
    for j, ch in enumerate(str(b).zfill(width)[::-1]):
        part = a * int(ch)
        total += part * 10**j
        out.append((part, total))
    return out


ALIGNED_SCRATCH = AlignedScratch()  # width 16: Goat's longest add/sub operands
ALIGNED_SCRATCH6 = AlignedScratch(width=6, name="aligned-scratch6")  # 6D x 6D, Goat's hardest multiplication shape
