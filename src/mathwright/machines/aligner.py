"""Rule-based aligners: problem text <-> machine input and machine result -> answer text.

The input aligner picks the machine and its (unsigned, reversed-digit) operands; signs are handled here
by the usual rules (a - b with b > a runs SUB(b, a) and negates; mixed-sign + becomes a subtraction; the
sign of x and / is the xor of the signs; Euclidean remainder for negative dividends). Answers use
:meth:`Problem.answer_text` conventions: ``True``/``False``, ``q R r`` or ``q``.

>>> plan = align(Problem("sub", 37, 52)); plan.machine, plan.a, plan.b
('SUB', '25', '73')
>>> plan.finish("51", None)
'-15'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mathwright.arith.problem import OPERATORS, Problem
from mathwright.machines.executors import rev, val

MACHINE_SETS = ("long", "caef")


@dataclass
class Plan:
    """What to run for a problem, and how to turn the machine's result into the answer."""

    problem: Problem
    machine: str | None  # None: the aligner answered alone (division by zero, sign-decided comparison)
    a: str = ""
    b: str = ""
    finish: Callable[[str, str | None], str] = lambda r, rem: r
    answer: str | None = None  # set when machine is None
    quotient_only: bool = False  # CAEF's DIV discards the remainder


def _num(neg: bool) -> Callable[[str, str | None], str]:
    def f(r: str, rem: str | None) -> str:
        v = val(r) if r not in ("True", "False") else r
        return str(-v if neg else v)

    return f


def align(p: Problem, machines: str = "long") -> Plan:
    """The machine and operands for problem ``p`` (``machines``: 'long' = LMUL/LDIV, 'caef' = MUL/DIV)."""
    if machines not in MACHINE_SETS:
        raise ValueError(f"unknown machine set {machines!r}; valid: {', '.join(MACHINE_SETS)}")
    a, b, op = p.a, p.b, p.op
    A, B = rev(abs(a)), rev(abs(b))
    if op in ("add", "sub"):
        y = b if op == "add" else -b
        if (a >= 0) == (y >= 0) or a == 0 or y == 0:
            return Plan(p, "ADD", A, rev(abs(y)), _num(a < 0 or (a == 0 and y < 0)))
        pos, neg = (a, -y) if a > 0 else (y, -a)
        if pos >= neg:
            return Plan(p, "SUB", rev(pos), rev(neg), _num(False))
        return Plan(p, "SUB", rev(neg), rev(pos), _num(True))
    if op == "mul":
        m = "MUL" if machines == "caef" and b != 0 else "LMUL"
        return Plan(p, m, A, B, _num((a < 0) != (b < 0)))
    if op == "div":
        if b == 0:
            return Plan(p, None, answer="undefined")
        if machines == "caef":
            return Plan(p, "DIV", A, B, _num((a < 0) != (b < 0)), quotient_only=True)

        def fin(r: str, rem: str | None) -> str:
            q, rr = val(r), val(rem or "0")
            if a < 0 and rr:
                q, rr = q + 1, abs(b) - rr  # Euclidean: 0 <= r < |b|
            if (a < 0) != (b < 0):
                q = -q
            return f"{q} R {rr}" if rr else str(q)

        return Plan(p, "LDIV", A, B, fin)
    # comparisons
    if op == "eq":
        if (a < 0) != (b < 0):
            return Plan(p, None, answer="False")
        return Plan(p, "EQUAL", A, B)
    if (a < 0) != (b < 0):
        return Plan(p, None, answer=str(p.answer()))
    flip = a < 0  # both negative: the larger magnitude is the smaller number
    m = OPERATORS[op].machine  # lt or gt
    if flip:
        m = "GREATER_THAN" if m == "LESS_THAN" else "LESS_THAN"
    return Plan(p, m, A, B)


def expected(plan: Plan) -> str:
    """The exact answer text the plan should produce."""
    if plan.quotient_only:
        q, _ = plan.problem.answer()  # type: ignore[misc]
        return str(q)
    return plan.problem.answer_text()
