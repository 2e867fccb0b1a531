"""``scratchpad``: compact step-by-step outputs that small from-scratch models learn quickly.

- ``add``/``sub``: the reversed direct answer (see :mod:`mathwright.formats.reversed`): ``[-]`` + LSB-first digits.
- ``mul``: a partial-product scratchpad, LSB-first throughout. Let ``m`` be the shorter operand (the
  multiplier) and ``t`` the other. For each digit ``d_j`` of ``|m|`` from the least significant, write
  the shifted partial product ``P_j = |t|*d_j*10^j`` and, from the second step on, the running sum
  ``S_j = S_{j-1} + P_j``, both reversed: ``P_0;P_1>S_1;P_2>S_2;...``. The last running sum (or ``P_0``
  for a 1-digit multiplier) is the answer; a leading ``-`` marks a negative product. The ``j`` zeros
  that start ``P_j`` keep place values aligned, so each step is a local reversed addition.
  Example ``1234 * 56``: ``P_0 = 7404`` -> ``4047``; ``P_1 = 61700`` -> ``00716``; ``S_1 = 69104`` ->
  ``40196``; output ``4047;00716>40196``.
- ``div``: long division, most-significant first. Starting from the shortest prefix of ``a`` that is
  ``>= b``, each step brings down one digit and writes ``c:r`` (quotient digit, new remainder), steps
  joined by ``;``, then ``=q R r``. ``a < b`` gives ``0 R a``; a zero divisor gives ``undefined``;
  negative operands get the direct ``q R r``.

Cost for 6x6 multiplication: about 6 x (2 x 9) ~ 110 characters (anchors.md §2: O(n^2)).

>>> from mathwright.arith.problem import Problem
>>> render(Problem("mul", 1234, 56))["output"]
'4047;00716>40196'
>>> render(Problem("div", 5697, 47))["output"]
'1:9;2:5;1:10=121 R 10'
>>> parse('4047;00716>40196'), parse('1:9;2:5;1:10=121 R 10')
('69104', '121 R 10')
>>> check({"input": "1234 * 56", "output": "4047;00716>40197"})
'step 2: running sum 79104 != 7404 + 61700 = 69104'
"""
from __future__ import annotations

import random
import re
from typing import Optional

from mathwright.arith.problem import Problem, euclid_divmod, parse_expr
from mathwright.formats.contract import ArithText
from mathwright.formats.reversed import read_rev, rev_int

NAME = "scratchpad"
STOP: tuple[str, ...] = ("\n",)


def instruction(p: Problem) -> str:
    """The prompt text (before ``\\nAnswer: ``): the canonical expression."""
    return p.expr()


def _mul_parts(a: int, b: int) -> tuple[int, int, list[int]]:
    """(other operand, multiplier, its digits LSB-first), multiplier = the shorter of |a|, |b|."""
    t, m = abs(a), abs(b)
    if len(str(m)) > len(str(t)):
        t, m = m, t
    return t, m, [int(c) for c in reversed(str(m))]


def _mul_output(a: int, b: int) -> str:
    t, _, digits = _mul_parts(a, b)
    steps, total = [], 0
    for j, d in enumerate(digits):
        part = t * d * 10**j
        total += part
        ptxt = "0" * j + str(t * d)[::-1]
        steps.append(ptxt if j == 0 else f"{ptxt}>{str(total)[::-1]}")
    return ("-" if a * b < 0 else "") + ";".join(steps)


def _div_steps(a: int, b: int) -> list[tuple[int, int, int]]:
    """Long-division steps ``(dividend so far, quotient digit, remainder)`` from the first prefix >= b."""
    digits, cur, started, out = str(a), 0, False, []
    for ch in digits:
        cur = cur * 10 + int(ch)
        if not started and cur < b:
            continue
        started = True
        c, r = divmod(cur, b)
        out.append((cur, c, r))
        cur = r
    return out


def _div_output(a: int, b: int) -> str:
    if b == 0:
        return "undefined"
    q, r = euclid_divmod(a, b)
    if a < 0 or b < 0 or a < b:
        return f"{q} R {r}"
    steps = _div_steps(a, b)
    return ";".join(f"{c}:{rr}" for _, c, rr in steps) + f"={q} R {r}"


def output_for(p: Problem) -> str:
    """The output text for ``p``."""
    if p.op in ("add", "sub"):
        return rev_int(p.answer())  # type: ignore[arg-type]
    if p.op == "mul":
        return _mul_output(p.a, p.b)
    if p.op == "div":
        return _div_output(p.a, p.b)
    raise ValueError(f"format {NAME!r} covers add, sub, mul, div; got {p.op!r}")


def render(p: Problem, rng: random.Random | None = None) -> dict:
    """A training record ``{instruction, input, output, answer, op}`` (``rng`` unused: no noise)."""
    return {"instruction": instruction(p), "input": p.expr(), "output": output_for(p), "answer": p.answer_text(),
            "op": p.op}


def parse(text: str) -> Optional[str]:
    """Canonical answer from a model output (the part after the last ``=``, ``>`` or ``;``), or None.

    >>> parse("-4047"), parse("0 R 12"), parse("3:0=3 R 0"), parse("garbage")
    ('-7404', '0 R 12', '3', None)
    """
    t = text.strip().split("\n")[0].strip()
    if t == "undefined":
        return t
    m = re.search(r"(?:^|=)(-?\d+) R (\d+)$", t)
    if m:
        q, r = int(m.group(1)), int(m.group(2))
        return f"{q} R {r}" if r else str(q)
    sign = "-" if t.startswith("-") else ""
    last = re.split(r"[;>]", t.lstrip("-"))[-1]
    v = read_rev(last)
    return None if v is None else str(-v if sign else v)


def _check_mul(p: Problem, out: str) -> Optional[str]:
    neg = out.startswith("-")
    if neg != (p.a * p.b < 0):
        return "sign of the product is wrong"
    t, _, digits = _mul_parts(p.a, p.b)
    steps = out.lstrip("-").split(";")
    if len(steps) != len(digits):
        return f"expected {len(digits)} steps (one per multiplier digit), got {len(steps)}"
    total = 0
    for j, (step, d) in enumerate(zip(steps, digits), 1):
        ptxt, _, stxt = step.partition(">")
        part = read_rev(ptxt)
        if part is None or ptxt.startswith("-") or (j > 1) != bool(stxt):
            return f"step {j}: malformed {step!r}"
        if part != t * d * 10 ** (j - 1) or not ptxt.startswith("0" * (j - 1)):
            return f"step {j}: partial product {part} != {t} * {d * 10 ** (j - 1)} = {t * d * 10 ** (j - 1)}"
        if j > 1:
            s = read_rev(stxt)
            if s != total + part:
                return f"step {j}: running sum {s} != {total} + {part} = {total + part}"
        total += part
    return None


def _check_div(p: Problem, out: str) -> Optional[str]:
    head, eq, final = out.rpartition("=")
    a, b = p.a, p.b
    if eq:
        steps = [s.split(":") for s in head.split(";")]
        want = _div_steps(a, b) if b > 0 and a >= b else []
        if len(steps) != len(want):
            return f"expected {len(want)} long-division steps, got {len(steps)}"
        r_prev = None
        for k, (st, (cur, _, _)) in enumerate(zip(steps, want), 1):
            if len(st) != 2 or not all(x.isdigit() for x in st):
                return f"step {k}: malformed {':'.join(st)!r}"
            c, r = int(st[0]), int(st[1])
            if r_prev is not None and cur != r_prev * 10 + int(str(a)[len(str(a)) - len(want) + k - 1]):
                return f"step {k}: wrong digit brought down"
            if not (0 <= c <= 9 and 0 <= r < b and c * b + r == cur):
                return f"step {k}: {cur} = {b} * {c} + {r} is false (expected {cur // b} R {cur % b})"
            r_prev = r
    want_final = p.answer_text()
    got = parse(final if eq else out)
    return None if got == want_final else f"answer: {final or out!r}, expected {want_final!r}"


def check(record: dict) -> Optional[str]:
    """None when every step of ``record['output']`` is exact and the layout is canonical, else the first error."""
    try:
        p = parse_expr(record["input"])
    except (KeyError, ValueError) as e:
        return f"input: {e}"
    out = record.get("output", "")
    if p.op == "mul":
        err = _check_mul(p, out)
    elif p.op == "div":
        err = _check_div(p, out)
    else:
        v = read_rev(out)
        err = None if v == p.answer() else f"answer: {out!r} reads as {v}, expected {p.answer()}"
    if err is None and out != output_for(p):
        err = f"output is not in canonical layout: {out!r}, expected {output_for(p)!r}"
    return err


FORMAT = ArithText(NAME, render=render, parse=parse, check=check, stop=STOP, instruction=instruction)  # the registry entry
