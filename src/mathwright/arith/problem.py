"""One problem type for + - * / (quotient and remainder) and the comparisons == < >.

Ground truth comes from Python integers, so operands may have any length and sign.

>>> p = parse_expr("45+67"); p.answer_text()
'112'
>>> Problem("div", 17, 5).answer_text(), Problem("div", 3, 0).answer_text()
('3 R 2', 'undefined')
>>> Problem("lt", -3, 2).answer_text()
'True'
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Operator:
    """One row of the operator table: the op's name and how each format spells it.

    ``symbol`` is the canonical spelling (Goat's ``input`` field, :meth:`Problem.expr`), ``label`` the
    spelling in report column names (``6Dx6D``), ``caef`` the CAEF aligner's (``12//5=``), ``machine``
    the CAEF machine that computes it and ``aliases`` further spellings :func:`parse_expr` accepts.

    >>> OPERATORS["mul"].symbol, OPERATORS["mul"].label, OPERATORS["div"].caef, OPERATORS["lt"].machine
    ('*', 'x', '//', 'LESS_THAN')
    >>> OP_OF_SYMBOL["*"], OP_OF_SYMBOL["x"], OP_OF_SYMBOL["÷"]
    ('mul', 'mul', 'div')
    """

    name: str
    symbol: str
    label: str
    caef: str
    machine: str
    aliases: tuple[str, ...] = ()


OPERATORS: dict[str, Operator] = {o.name: o for o in (
    Operator("add", "+", "+", "+", "ADD"),
    Operator("sub", "-", "-", "-", "SUB"),
    Operator("mul", "*", "x", "*", "MUL", ("x", "×")),
    Operator("div", "/", "/", "//", "DIV", ("÷",)),
    Operator("eq", "==", "==", "==", "EQUAL"),
    Operator("lt", "<", "<", "<", "LESS_THAN"),
    Operator("gt", ">", ">", ">", "GREATER_THAN"),
)}
# The one operator table (op name -> Operator): every op <-> symbol map in the package is read from it
# (tests/test_operator_table.py fails on a copy defined elsewhere).
OPS: tuple[str, ...] = tuple(OPERATORS)
SYMBOLS: dict[str, str] = {o.name: o.symbol for o in OPERATORS.values()}
LABELS: dict[str, str] = {o.name: o.label for o in OPERATORS.values()}
OP_OF_SYMBOL: dict[str, str] = {o.symbol: o.name for o in OPERATORS.values()} | {
    a: o.name for o in OPERATORS.values() for a in o.aliases}
_EXPR = re.compile(r"^\s*(-?\d+)\s*(==|<|>|\+|-|\*|x|×|/|÷)\s*(-?\d+)\s*=?\s*$")


def euclid_divmod(a: int, b: int) -> tuple[int, int]:
    """Quotient and remainder with 0 <= r < |b| (the least non-negative remainder, as Goat writes it)."""
    q, r = divmod(a, b)
    if r < 0:  # Python floors towards -inf; for b < 0 that leaves r <= 0
        q, r = q + 1, r - b
    return q, r


@dataclass(frozen=True, slots=True)
class Problem:
    """``a <op> b`` for op in :data:`OPS`."""

    op: str
    a: int
    b: int

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown op {self.op!r}; valid ops: {', '.join(OPS)}")

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.op]

    def expr(self, spaced: bool = True) -> str:
        """Canonical expression, e.g. ``'45 + 67'`` (Goat's ``input`` field)."""
        sep = " " if spaced else ""
        return f"{self.a}{sep}{self.symbol}{sep}{self.b}"

    def answer(self) -> int | bool | tuple[int, int] | None:
        """Exact answer: int for + - *, (q, r) for /, None for division by zero, bool for comparisons."""
        a, b = self.a, self.b
        match self.op:
            case "add":
                return a + b
            case "sub":
                return a - b
            case "mul":
                return a * b
            case "div":
                return None if b == 0 else euclid_divmod(a, b)
            case "eq":
                return a == b
            case "lt":
                return a < b
            case "gt":
                return a > b
        raise AssertionError(self.op)

    def answer_text(self) -> str:
        """Canonical answer string: ``'112'``, ``'3 R 2'``, ``'3'`` (exact division), ``'undefined'``, ``'True'``."""
        ans = self.answer()
        if self.op == "div":
            if ans is None:
                return "undefined"
            q, r = ans  # type: ignore[misc]
            return f"{q} R {r}" if r else str(q)
        return str(ans)

    def digits(self) -> tuple[int, int]:
        """Operand lengths in decimal digits (sign excluded)."""
        return len(str(abs(self.a))), len(str(abs(self.b)))


def parse_expr(text: str) -> Problem:
    """Parse ``'45+67'``, ``'12 x 3'``, ``'7 / 2'``, ``'3<5'`` into a Problem; raise ValueError otherwise."""
    m = _EXPR.match(text)
    if not m:
        raise ValueError(f"not an arithmetic expression: {text!r} (expected e.g. '45+67', '12*3', '7/2', '3<5')")
    a, sym, b = m.groups()
    return Problem(OP_OF_SYMBOL[sym], int(a), int(b))
