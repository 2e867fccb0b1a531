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
from typing import Any

from mathwright.arith.decompose import digit_places as _digit_places
from mathwright.arith.decompose import is_round
from mathwright.arith.problem import SYMBOLS, Problem, euclid_divmod
from mathwright.formats.contract import ArithText
from mathwright.formats.goat_check import FIELDS, _diagnose, check, op_of  # noqa: F401 (re-exported)
from mathwright.formats.goat_check import answer_text as _answer_text

GOAT_OPS = ("add", "sub", "mul", "div")

# ---------------------------------------------------------------------------------------------- output


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


def render(problem: Problem, rng: random.Random | None = None) -> dict:
    """Goat record ``{instruction, input, output, answer, op}`` for ``problem`` (ops + - * /); the
    instruction template is drawn from ``rng`` (default ``random.Random(0)``)."""
    if problem.op not in GOAT_OPS:
        raise ValueError(f"the goat format has no op {problem.op!r}; valid ops: {', '.join(GOAT_OPS)}")
    return render_fields(problem.op, problem.a, problem.b, rng or random.Random(0))


def render_mix(mix: Any, shard: Any) -> list[dict]:
    """The Goat records at ``shard``'s positions of ``mix`` (a :class:`~mathwright.arith.goat_mix.GoatMix`):
    the ``make_shard`` of :func:`mathwright.data.generate.write_dataset`. Problems and instructions are drawn
    in turn from ``shard.rng()``."""
    rng = shard.rng()
    recs = [render_fields(op, a, b, rng) for op, a, b in mix.shard_draws(shard, rng)]
    if mix.config.template == "bare":  # the instruction is still drawn, so a seed gives the same problems
        for r in recs:
            r["instruction"] = r["input"]
    return recs


def encode(rec: dict) -> str:
    """One JSON line for a rendered record, byte-identical to ``mathwright.io.dumps(rec) + "\\n"`` but ~5x faster.
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


# The registry entry. Its prompt is the canonical expression in Goat's prompt (docs/goat.md §5), what
# ``eval arith`` asks; training data carries the noised instruction templates instead (``--template bare``:
# the canonical expression too). No stop string: Goat models end with EOS.
FORMAT = ArithText("goat", render=render, parse=parse, check=check, op_of=op_of)
