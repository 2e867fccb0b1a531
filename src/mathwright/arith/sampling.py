"""Seeded operand sampling by digit-length specs.

A spec names an op and two inclusive length ranges: ``add:1-100x1-100`` (1 to 100 digits each),
``mul:6x6``, ``div:12x6``. ``uniform`` draws each operand's length independently; ``balanced``
(CAEF-style) cycles through every length pair in a shuffled order, so all shapes get equal counts.

>>> import random
>>> spec = parse_spec("add:3x2")
>>> [p.expr() for p in sample_problems(spec, random.Random(0), 2)]
['964 + 59', '876 + 63']
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Iterator

from mathwright.arith.problem import OPS, Problem

_RANGE = r"(\d+)(?:-(\d+))?"
_SPEC = re.compile(rf"^([a-z]+):{_RANGE}x{_RANGE}$")
BALANCE_MODES = ("balanced", "uniform")


def sample_with_digits(rng: random.Random, n: int) -> int:
    """A uniform integer with exactly ``n`` digits; 1-digit draws are 1..9 (zero gets explicit buckets)."""
    if n < 1:
        raise ValueError(f"digit length must be >= 1, got {n}")
    return rng.randrange(10 ** (n - 1), 10**n)


@dataclass(frozen=True)
class LengthSpec:
    """An op and inclusive digit-length ranges for the two operands."""

    op: str
    a_min: int
    a_max: int
    b_min: int
    b_max: int
    balance: str = "balanced"

    def pairs(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.a_min, self.a_max + 1) for j in range(self.b_min, self.b_max + 1)]

    def __str__(self) -> str:
        def rng(lo: int, hi: int) -> str:
            return str(lo) if lo == hi else f"{lo}-{hi}"

        return f"{self.op}:{rng(self.a_min, self.a_max)}x{rng(self.b_min, self.b_max)}"


def parse_spec(text: str, balance: str = "balanced") -> LengthSpec:
    """Parse ``'add:1-100x1-100'``; a bad spec raises ValueError naming the valid forms."""
    m = _SPEC.match(text.strip())
    if not m:
        raise ValueError(f"bad length spec {text!r}: expected OP:A[-A2]xB[-B2], e.g. 'add:1-100x1-100' or 'mul:6x6'")
    op, a1, a2, b1, b2 = m.groups()
    if op not in OPS:
        raise ValueError(f"bad length spec {text!r}: unknown op {op!r}; valid ops: {', '.join(OPS)}")
    if balance not in BALANCE_MODES:
        raise ValueError(f"unknown balance {balance!r}; valid: {', '.join(BALANCE_MODES)}")
    lo_a, hi_a = int(a1), int(a2 or a1)
    lo_b, hi_b = int(b1), int(b2 or b1)
    if min(lo_a, lo_b) < 1 or lo_a > hi_a or lo_b > hi_b:
        raise ValueError(f"bad length spec {text!r}: ranges must be 1 <= lo <= hi")
    return LengthSpec(op, lo_a, hi_a, lo_b, hi_b, balance)


def sample_problems(spec: LengthSpec, rng: random.Random, n: int) -> Iterator[Problem]:
    """``n`` problems for ``spec``; ``balanced`` cycles through shuffled length pairs, ``uniform`` draws each length."""
    pairs = spec.pairs()
    order: list[tuple[int, int]] = []
    for k in range(n):
        if spec.balance == "balanced":
            if not order:
                order = pairs[:]
                rng.shuffle(order)
            la, lb = order.pop()
        else:
            la, lb = rng.randint(spec.a_min, spec.a_max), rng.randint(spec.b_min, spec.b_max)
        yield Problem(spec.op, sample_with_digits(rng, la), sample_with_digits(rng, lb))
