"""CAEF training data: balanced operand-length classes, step pairs cut as the reference cuts them.

``make_records(op, la, lb, rng, mode, compat)`` samples one problem of class (la, lb) for ``op`` and
returns its step pairs as Alpaca-style records (``instruction`` = prompt, ``output`` = response), at
most 7 per sequence (first, last, second-to-last and 4 distinct random middle pairs; the reference
draws middle pairs with replacement, which duplicates pairs — caef.md section 10.5).

>>> import random
>>> recs = make_records("add", 3, 2, random.Random(0))
>>> len(recs), recs[0]["machine"], check_record(recs[0])
(5, 'ADD', None)
"""
from __future__ import annotations

import random

from mathwright.arith.problem import OPERATORS
from mathwright.formats import caef as F
from mathwright.formats import local as L
from mathwright.formats.caef import check_record  # noqa: F401  (checks the records made here)

OP_MACHINE = {o: OPERATORS[o].machine for o in ("add", "sub", "mul", "div", "eq", "gt", "lt")} | {
    "reflection": "REFLECTION", "left_mask": "LEFT_MASK", "lmul": "LMUL", "ldiv": "LDIV",
    "muld": "MULD", "subx": "SUBX",
}
KEEP = 7
# Longest operand a record may have: a CAEF state holds both operands, so a record is ~10-30 characters
# per digit (1000 digits: 8k-28k characters, past any model's context here), and one LMUL/LDIV sequence
# of 1000 digits takes ~3-13 s to render and check. The reference trains on up to 100 digits.
MAX_DIGITS = 1000


def _num(rng: random.Random, n: int) -> int:
    return rng.randrange(10 ** (n - 1) if n > 1 else 0, 10**n)


def sample_operands(op: str, la: int, lb: int, rng: random.Random) -> tuple[int, int]:
    """Operands of class (la, lb) for ``op`` (1-digit draws include 0)."""
    a, b = _num(rng, la), _num(rng, lb)
    if op == "eq" and la == lb and rng.random() < 0.5:
        b = a
    elif op in ("sub", "subx"):
        if lb > la or (la == lb and b > a):
            a, b = b, a
    elif op == "reflection":
        a, b = 10 ** max(la, lb) - 1, b if lb <= la else a
    elif op == "left_mask":
        zeros = rng.randrange(la) if rng.random() < 0.5 else 0
        a = int("1" + "0" * zeros + (str(_num(rng, la - zeros)) if la - zeros > 0 else ""))
    elif op == "mul":
        b = rng.randint(1, min(15, 10**lb - 1))
    elif op == "div":
        b = max(1, b)
        a = rng.randint(0, 5) * b + rng.randrange(b)
    elif op == "ldiv":
        b = max(1, b)
    elif op == "muld":
        b = rng.randint(1, 9)
    return a, b


def cut_indices(n: int, rng: random.Random, keep: int = KEEP) -> list[int]:
    """All of ``range(n)`` if n <= keep; else first, second-to-last, last and distinct random middle ones."""
    if n <= keep:
        return list(range(n))
    return [0] + sorted(rng.sample(range(1, n - 2), keep - 3)) + [n - 2, n - 1]


def make_records(op: str, la: int, lb: int, rng: random.Random, mode: str = "full",
                 compat: bool = True, keep: int = KEEP) -> list[dict]:
    """The kept step pairs of one sampled sequence, as records."""
    m = OP_MACHINE[op]
    a, b = sample_operands(op, la, lb, rng)
    sa, sb = str(a), ("" if op == "left_mask" else str(b))
    A, B = sa[::-1], sb[::-1]
    if mode == "full" and m in F.EXECUTORS:  # render only the kept steps (the speed of long traces)
        pairs = F.step_pairs(m, A, B, select=lambda n: cut_indices(n, rng, keep))
    else:
        pairs = F.step_pairs(m, A, B, compat=compat) if mode == "full" else L.local_pairs(m, A, B)
        pairs = [pairs[i] for i in cut_indices(len(pairs), rng, keep)]
    return [{"instruction": p, "input": "", "output": r, "op": op, "machine": m, "mode": mode, "a": sa, "b": sb}
            for p, r in pairs]
