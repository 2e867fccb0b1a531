"""The Goat record format (Liu & Low 2023; spec: docs/goat.md): render, parse and check.

A record is ``{instruction, input, output, answer, op}``. Addition, subtraction, n x 1 products and
n / 1 divisions are answered directly; other products use the split-expand-sum chain of thought,
other divisions Goat's slow division. Special cases: ``x / 0 is undefined``, ``a / b = 0 R a``,
``a / a = 1`` and products with a round factor (one non-zero digit) answered directly.

>>> from mathwright.arith.problem import Problem
>>> goat_output(Problem("mul", 57281347, 93))
'57281347 * 93 = 57281347 * (90 + 3) = 57281347 * 90 + 57281347 * 3 = 5155321230 + 171844041 = 5327165271'
>>> print(goat_output(Problem("div", 970, 97)))
970 - 97 * 10 = 970 - 970 = 0
Therefore, 970 / 97 = 10
>>> check({"instruction": "1+1", "input": "1 + 1", "output": "1 + 1 = 3", "answer": "2"})
"answer '2' is right but step 1 '1 + 1 = 3' is false (exact: 2)"
>>> parse("Answer: 5697 - 47 * 100 = 5697 - 4700 = 997\\nTherefore, 5697 / 47 = 121 R 10")
'121 R 10'
"""
from __future__ import annotations

import json
import random
import re
from importlib import resources
from types import SimpleNamespace
from typing import Iterator

from mathwright.arith.decompose import is_round, place_values
from mathwright.arith.problem import SYMBOLS, Problem, euclid_divmod

GOAT_OPS = ("add", "sub", "mul", "div")
FIELDS = ("instruction", "input", "output", "answer")
_OP_OF = {"+": "add", "-": "sub", "*": "mul", "/": "div"}

# ---------------------------------------------------------------------------------------------- output


def _answer_text(op: str, a: int, b: int) -> str:
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


_ZEROS = ["0" * k for k in range(128)]
_POW10 = [10**k for k in range(128)]


_DIGIT = {str(d): d for d in range(10)}


def _digit_places(n: int) -> list[tuple[int, str, str, int]]:
    """``(signed digit d, its text, k zeros, 10**k)`` for each non-zero digit of ``n``, most
    significant first: the split of :func:`mathwright.arith.decompose.place_digits`, in the form the
    hot path needs (``d * 10**k`` is written as the digit's text followed by k zeros)."""
    s = str(n)
    neg = s[0] == "-"
    if neg:
        s = s[1:]
    top = len(s) - 1
    zeros, pows = (_ZEROS, _POW10) if top < 128 else (["0" * k for k in range(top + 1)], [10**k for k in range(top + 1)])
    if neg:
        return [(-_DIGIT[c], "-" + c, zeros[top - i], pows[top - i]) for i, c in enumerate(s) if c != "0"]
    return [(_DIGIT[c], c, zeros[top - i], pows[top - i]) for i, c in enumerate(s) if c != "0"]


def _output(op: str, a: int, b: int, q_text: str, ans: str) -> str:
    # Hot path of the generator: a place value d * 10**k is written as str(d) + k zeros and a product
    # L * d * 10**k as str(L * d) + k zeros, so only small or new numbers are converted to text.
    if op == "mul":
        if is_round(a) or is_round(b):
            return f"{q_text} = {ans}"
        big, small = (b, a) if abs(b) > abs(a) else (a, b)  # the larger number goes first
        bs = str(big)
        terms, prods, vals = [], [], []
        for d, ds, z, p in _digit_places(small):
            bd = big * d
            terms.append(ds + z)
            prods.append(f"{bd}{z}")
            vals.append(bd * p)
        plus = " + ".join(prods)
        parts = [q_text, f"{bs} * ({' + '.join(terms)})", f"{bs} * " + f" + {bs} * ".join(terms), plus]
        acc, end = vals[0], len(prods[0])
        for v, p in zip(vals[1:], prods[1:]):  # add term by term: the first two terms become their sum
            acc += v
            end += 3 + len(p)
            parts.append(f"{acc}{plus[end:]}")  # the sum, then the untouched " + p_next + ..." tail
        return " = ".join(parts)
    if op == "div":
        if b == 0:
            return f"{q_text} is undefined"
        q, _ = euclid_divmod(a, b)
        if q == 0 or a == b or abs(b) <= 10:  # direct: quotient 0, a / a, and n / 1 divisions
            return f"{q_text} = {ans}"
        lines = []
        bs, left, ls = str(b), a, str(a)
        for d, ds, z, p in _digit_places(q):  # Goat's slow division: one line per non-zero quotient digit
            bd = b * d
            left -= bd * p
            ns = str(left)
            lines.append(f"{ls} - {bs} * {ds}{z} = {ls} - {bd}{z} = {ns}")
            ls = ns
        lines.append(f"Therefore, {q_text} = {ans}")
        return "\n".join(lines)
    return f"{q_text} = {ans}"


def goat_output(problem: Problem) -> str:
    """The ``output`` field: the canonical expression restated plus the answer, directly or after a CoT."""
    if problem.op not in GOAT_OPS:
        raise ValueError(f"the goat format has no op {problem.op!r}; valid ops: {', '.join(GOAT_OPS)}")
    return _output(problem.op, problem.a, problem.b, problem.expr(), _answer_text(problem.op, problem.a, problem.b))


# ------------------------------------------------------------------------------------ instructions

_PHRASE = {"+": "the sum of", "-": "the difference of", "*": "the product of", "/": "the quotient and remainder of"}
_WORD = {"+": "plus", "-": "minus", "*": "multiplied by", "x": "times", "/": "divided by"}
_UNSAFE = re.compile(r'["\\\x00-\x1f]')


def _load_templates() -> tuple[list[tuple[str, str]], dict]:
    """Expand the weighted template file into equally likely slots of (prefix, suffix)."""
    doc = json.loads(resources.files("mathwright.formats").joinpath("goat_templates.json").read_text("utf-8"))
    ph = doc["placeholder"]
    slots: list[tuple[str, str]] = []
    for t in doc["templates"]:
        text, w = t["text"], t["weight"]
        # One placeholder, and nothing JSON would escape: the fast encoder below relies on it.
        if text.count(ph) != 1 or _UNSAFE.search(text) or not isinstance(w, int) or w < 1:
            raise ValueError(f"goat_templates.json: bad template {t!r} (need one {ph}, weight >= 1, no quotes/backslashes)")
        pre, _, suf = text.partition(ph)
        slots.extend([(pre, suf)] * w)
    return slots, doc


TEMPLATE_SLOTS, TEMPLATES = _load_templates()


def noisy_expr(a: int, sym: str, b: int, rng: random.Random) -> str:
    """docs/goat.md §4 steps 1-4, in order: phrase form (0.05), ``*``->``x`` (0.5), operator words
    (0.1), all spaces removed when an operator symbol is left (0.5)."""
    r = rng.random
    if r() < 0.05:
        return f"{_PHRASE[sym]} {a} and {b}"
    if sym == "*" and r() < 0.5:
        sym = "x"
    if r() < 0.1:
        return f"{a} {_WORD[sym]} {b}"
    if r() < 0.5:
        return f"{a}{sym}{b}"
    return f"{a} {sym} {b}"


def instruction(a: int, sym: str, b: int, rng: random.Random) -> str:
    """A noised expression inside a weighted template (§4 step 5)."""
    s = noisy_expr(a, sym, b, rng)
    pre, suf = TEMPLATE_SLOTS[int(rng.random() * len(TEMPLATE_SLOTS))]
    return f"{pre}{s}{suf}"


def render_fields(op: str, a: int, b: int, rng: random.Random) -> dict:
    """:func:`render` without building a Problem (the generator's hot path)."""
    sym = SYMBOLS[op]
    q_text = f"{a} {sym} {b}"
    ans = _answer_text(op, a, b)
    return {"instruction": instruction(a, sym, b, rng), "input": q_text,
            "output": _output(op, a, b, q_text, ans), "answer": ans, "op": op}


def render(problem: Problem, rng: random.Random) -> dict:
    """Goat record ``{instruction, input, output, answer, op}`` for ``problem`` (ops + - * /)."""
    if problem.op not in GOAT_OPS:
        raise ValueError(f"the goat format has no op {problem.op!r}; valid ops: {', '.join(GOAT_OPS)}")
    return render_fields(problem.op, problem.a, problem.b, rng)


def encode(rec: dict) -> str:
    """One JSON line for a rendered record, byte-identical to ``data.io.dumps(rec) + "\\n"`` but ~5x faster.
    Safe because templates are validated above and every other field holds only digits, spaces,
    operator symbols and words, and newlines (escaped here)."""
    return ('{"instruction": "%s", "input": "%s", "output": "%s", "answer": "%s", "op": "%s"}\n'
            % (rec["instruction"], rec["input"], rec["output"].replace("\n", "\\n"), rec["answer"], rec["op"]))


# -------------------------------------------------------------------------------------------- parse

_RESULT = re.compile(r"(-?\d[\d,]*)(?:\s*R\s*(-?\d[\d,]*))?\s*\.?\s*$")
_LAST_INT = re.compile(r"-?\d[\d,]*")


def parse(text: str) -> str:
    """The final answer of a model output: ``'123'``, ``'-5'``, ``'3 R 2'``, ``'undefined'``, or ``''``.

    Reads the text after the last ``Answer:`` (if any), then the last line's text after its last
    ``=`` (Goat CoT ``Therefore, ... = q R r`` and direct ``... = N``); ``q R 0`` is read as ``q``.

    >>> parse("12 * 3 = 36"), parse("Answer: 19 / 0 is undefined"), parse("7 / 2 = 3 R 1."), parse("no idea")
    ('36', 'undefined', '3 R 1', '')
    """
    if "Answer:" in text:
        text = text.rsplit("Answer:", 1)[1]
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[-1]
    if "undefined" in line.lower():
        return "undefined"
    tail = line.rsplit("=", 1)[-1]
    m = _RESULT.search(tail)
    if m is None:
        ints = _LAST_INT.findall(tail)
        if not ints:
            return ""
        return str(int(ints[-1].replace(",", "")))
    q = int(m.group(1).replace(",", ""))
    r = int(m.group(2).replace(",", "")) if m.group(2) else 0
    return f"{q} R {r}" if r else str(q)


# -------------------------------------------------------------------------------------------- check

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
    truth = _answer_text(op, a, b)
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


def prompt(instruction: str) -> str:
    """The Goat prompt (docs/goat.md §5): train on ``prompt + output + EOS`` with the prompt masked.

    >>> prompt("What is 2+2?")
    'What is 2+2?\\nAnswer: '
    """
    return f"{instruction}\nAnswer: "


FORMAT = SimpleNamespace(name="goat", render=render, parse=parse, check=check, encode=encode, output=goat_output,
                         op_of=op_of, prompt=prompt)
