"""Verification of Goat records: every equation of the output against exact integer arithmetic,
naming the first wrong step (used by ``mathwright check`` and before every generated record is written).

>>> check({"instruction": "7/2", "input": "7 / 2", "output": "7 / 2 = 3 R 2", "answer": "3 R 2"})
"step 1 '7 / 2 = 3 R 2' is false (exact: 3 R 1)"
"""
from __future__ import annotations

import re

from mathwright.arith.decompose import digit_places as _digit_places
from mathwright.arith.decompose import is_round, place_values
from mathwright.arith.problem import OP_OF_SYMBOL as _OP_OF
from mathwright.arith.problem import euclid_divmod

FIELDS = ("instruction", "input", "output", "answer")


def answer_text(op: str, a: int, b: int) -> str:
    """The exact Goat answer text: ``'12'``, ``'-3'``, ``'3 R 1'``, ``'undefined'``."""
    if op == "add":
        return str(a + b)
    if op == "sub":
        return str(a - b)
    if op == "mul":
        return str(a * b)
    if b == 0:
        return "undefined"
    q, r = euclid_divmod(a, b)
    return f"{q} R {r}" if r else str(q)


_NUM = r"-?(?:0|[1-9]\d*)"
_INPUT = re.compile(rf"({_NUM}) ([-+*/]) ({_NUM})")
_SUM = re.compile(rf"{_NUM}(?: \+ {_NUM})*")
_SPLIT = re.compile(rf"({_NUM}) \* \(({_NUM}(?: \+ {_NUM})*)\)")
_DIVLINE = re.compile(rf"({_NUM}) - ({_NUM}) \* ({_NUM}) = ({_NUM}) - ({_NUM}) = ({_NUM})")


def _numbers(part: str) -> list[int] | None:
    """``'12 + -3 + 40'`` -> ``[12, -3, 40]``; None unless a ``+``-joined list of canonical integers."""
    if _SUM.fullmatch(part) is None:
        return None
    return [int(x) for x in part.split(" + ")]


def _check_mul_chain(parts: list[str], a: int, b: int, truth: str) -> str | None:
    """Every ``=`` of ``Q = L * (t1 + ...) = L * t1 + ... = p1 + ... = s2 + ... = total``: the split uses
    the smaller factor's non-zero place values, each ``L * t = p`` holds, each add step replaces the
    first two terms by their sum and copies the rest."""
    def step(i: int) -> str:
        return f"step {i} '{parts[i - 1]} = {parts[i]}'"

    m = _SPLIT.fullmatch(parts[1])
    if m is None:
        return f"{step(1)}: expected the split 'L * (t1 + ... + tk)'"
    big, terms = int(m.group(1)), [int(t) for t in m.group(2).split(" + ")]
    small = sum(terms)
    if big * small != a * b:
        return f"{step(1)} is false ({a * b} != {big * small})"
    if sorted((big, small)) != sorted((a, b)) or abs(big) < abs(small) or terms != place_values(small):
        return (f"{step(1)}: the split must be the larger factor times the non-zero place values of the "
                f"smaller ({' + '.join(map(str, place_values(min(a, b, key=abs))))})")
    want = " + ".join(f"{big} * {t}" for t in terms)
    if len(parts) < 4 or parts[2] != want:
        return f"{step(2) if len(parts) > 2 else 'output'}: the expansion should read {want!r}"
    prev = _numbers(parts[3])
    if prev is None or len(prev) != len(terms):
        return f"{step(3)}: expected {len(terms)} products joined by ' + '"
    for t, p in zip(terms, prev):
        if p != big * t:
            return f"{step(3)}: '{big} * {t} = {p}' is false (exact: {big * t})"
    for i in range(4, len(parts)):
        cur = _numbers(parts[i])
        if cur is None or len(cur) != len(prev) - 1:
            return f"{step(i)}: expected {len(prev) - 1} numbers joined by ' + ' (add the first two terms)"
        if cur[0] != prev[0] + prev[1]:
            return f"{step(i)}: '{prev[0]} + {prev[1]} = {cur[0]}' is false (exact: {prev[0] + prev[1]})"
        if cur[1:] != prev[2:]:
            return f"{step(i)}: the terms after the sum must be copied unchanged"
        prev = cur
    if len(prev) != 1:
        return f"output stops with {len(prev)} terms left to add"
    if parts[-1] != truth:
        return f"final result {parts[-1]!r} is not the exact product {truth}"
    return None


def _check_div_cot(out: str, inp: str, a: int, b: int, truth: str) -> str | None:
    lines = out.split("\n")
    q, r = euclid_divmod(a, b)
    expected_terms = place_values(q)
    left = a
    for i, line in enumerate(lines[:-1], 1):
        m = _DIVLINE.fullmatch(line)
        if m is None:
            return f"line {i} {line!r}: expected 'left - b * t = left - p = new_left'"
        x, d, t, x2, p, new = map(int, m.groups())
        if x != left:
            return f"line {i} {line!r}: starts from {x}, but the running remainder is {left}"
        if d != b:
            return f"line {i} {line!r}: divides by {d}, not the divisor {b}"
        if x2 != x:
            return f"line {i} {line!r}: restates {x} as {x2}"
        if p != d * t:
            return f"line {i} {line!r}: '{d} * {t} = {p}' is false (exact: {d * t})"
        if new != x - p:
            return f"line {i} {line!r}: '{x} - {p} = {new}' is false (exact: {x - p})"
        if i > len(expected_terms) or t != expected_terms[i - 1]:
            nxt = expected_terms[i - 1] if i <= len(expected_terms) else "none (quotient done)"
            return f"line {i} {line!r}: multiplier {t} is not the next quotient digit term {nxt}"
        left = new
    if len(lines) - 1 != len(expected_terms):
        return f"the division stops after {len(lines) - 1} steps; quotient {q} needs {len(expected_terms)}"
    last = lines[-1]
    restated, _, ans = last.removeprefix("Therefore, ").rpartition(" = ")
    if not last.startswith("Therefore, ") or not restated:
        return f"last line {last!r}: expected 'Therefore, {inp} = {truth}'"
    if restated != inp:
        return f"last line {last!r}: restates {restated!r} but the input is {inp!r}"
    if left != r:
        return f"last line: remainder {left} left over, but {inp} has remainder {r}"
    if ans != truth:
        return f"last line {last!r} is false (exact: {truth})"
    return None


def _expected(op: str, a: int, b: int, inp: str, truth: str) -> str | None:
    """The canonical Goat output, built here from exact arithmetic: every equation in it is true by
    construction (each product, sum and difference is computed here; ``d * 10**k`` is written as the
    digit and k zeros), and the decompositions are verified to rebuild the operand / quotient and the
    final sum / remainder. None if that verification fails."""
    if op == "mul":
        if is_round(a) or is_round(b):
            return f"{inp} = {truth}"
        big, small = (b, a) if abs(b) > abs(a) else (a, b)
        bs = str(big)
        terms, prods, vals, tsum = [], [], [], 0
        for d, ds, z, p in _digit_places(small):
            tsum += d * p
            bd = big * d
            terms.append(ds + z)
            prods.append(f"{bd}{z}")
            vals.append(bd * p)
        if tsum != small:
            return None
        plus = " + ".join(prods)
        chain = [inp, f"{bs} * ({' + '.join(terms)})", f"{bs} * " + f" + {bs} * ".join(terms), plus]
        acc, end = vals[0], len(prods[0])
        for v, p in zip(vals[1:], prods[1:]):
            acc += v
            end += 3 + len(p)
            chain.append(f"{acc}{plus[end:]}")
        return " = ".join(chain) if acc == a * b else None
    if op == "div":
        if b == 0:
            return f"{inp} is undefined"
        q, r = euclid_divmod(a, b)
        if q == 0 or a == b or -10 <= b <= 10:
            return f"{inp} = {truth}"
        lines, left, ls, bs, qsum = [], a, str(a), str(b), 0
        for d, ds, z, p in _digit_places(q):
            qsum += d * p
            bd = b * d
            left -= bd * p
            ns = str(left)
            lines.append(f"{ls} - {bs} * {ds}{z} = {ls} - {bd}{z} = {ns}")
            ls = ns
        if qsum != q or left != r:
            return None
        lines.append(f"Therefore, {inp} = {truth}")
        return "\n".join(lines)
    return f"{inp} = {truth}"


def check(record: dict) -> str | None:
    """``None`` when every equation of the record holds, else a message naming the first wrong step.

    Checks: the canonical ``input``; ``answer`` equals the exact full answer (quotient and remainder,
    sign, ``undefined``); ``op`` (if present) matches; the instruction mentions both operands; the
    output restates the input; every CoT step (split, expand, add; each division line). Fast path:
    the output equals the canonical output built from exact arithmetic in :func:`_expected`; anything
    else is read step by step to name the first wrong step (or accepted if every step holds).
    """
    try:
        inp, out, answer, instr = record["input"], record["output"], record["answer"], record["instruction"]
    except KeyError as e:
        return f"field {e.args[0]!r} is missing"
    if not (type(inp) is str and type(out) is str and type(answer) is str and type(instr) is str):
        return "fields instruction, input, output and answer must be strings"
    m = _INPUT.fullmatch(inp)
    if m is None:
        return f"input {inp!r} is not a canonical 'A op B' expression (op one of + - * /, single spaces)"
    sa, sym, sb = m.groups()
    a, b, op = int(sa), int(sb), _OP_OF[sym]
    rop = record.get("op")
    if rop is not None and rop != op:
        return f"op {rop!r} does not match the input {inp!r} ({op})"
    truth = answer_text(op, a, b)
    if sa.lstrip("-") not in instr or sb.lstrip("-") not in instr:
        return f"instruction {instr!r} does not mention both operands of {inp!r}"
    if out != _expected(op, a, b, inp, truth):
        problem = _diagnose(out, op, a, b, inp, truth, answer)
        if problem:
            return problem
    if answer != truth:
        return f"answer {answer!r} is wrong: {inp} = {truth}"
    return None


def _diagnose(out: str, op: str, a: int, b: int, inp: str, truth: str, answer: str) -> str | None:
    """Read a non-canonical output step by step; the first false step, or None if all hold."""
    if op == "div" and b == 0:
        return None if out == f"{inp} is undefined" else f"output {out!r} should be '{inp} is undefined'"
    if op == "div" and not out.startswith(inp + " = "):
        return _check_div_cot(out, inp, a, b, truth)
    parts = out.split(" = ")
    if parts[0] != inp:
        return f"output restates {parts[0]!r} but the input is {inp!r}"
    if len(parts) < 2:
        return f"output {out!r} has no '= <answer>'"
    if op == "mul" and len(parts) > 2:
        return _check_mul_chain(parts, a, b, truth)
    if len(parts) != 2 or parts[1] != truth:
        claim = f"step 1 '{inp} = {parts[1]}'" if len(parts) == 2 else f"output {out!r}"
        pre = f"answer {answer!r} is right but " if answer == truth else ""
        return f"{pre}{claim} is false (exact: {truth})"
    return None


def op_of(record: dict) -> str:
    """The op of a record: its ``op`` field, else read from the input (``'?'`` when unreadable)."""
    if isinstance(record.get("op"), str):
        return record["op"]
    m = _INPUT.fullmatch(str(record.get("input", "")))
    return _OP_OF[m.group(2)] if m else "?"
