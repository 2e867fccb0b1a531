"""Grading: turn a model's text into an answer and compare it with the gold answer by value.

Fixes MAmmoTH's defects (mammoth.md §4.1): choice letters are read with anchored, case-sensitive
patterns (the article "a" is never choice A); the number taken from a multi-number answer span follows
an explicit per-benchmark policy (``last`` by default, ``first`` for SimulEq whose gold is the first
unknown); numbers compare by exact value with a small relative tolerance (so ``7.0`` == ``7``,
``$1,234.50`` == ``1234.5``, ``50%`` == ``0.5``); lists compare element-wise; expressions go through
``math-verify``.

>>> grade("The answer is $1,234.50.", "1234.5", "number").correct
True
>>> grade(r"so \\boxed{\\frac{1}{2}}", "0.5", "expression").correct
True
>>> grade("The speed is a constant so we pick the option with 50 km", "A", "choice",
...       choices=("50 km", "60 km")).pred
'A'
>>> grade("The speed is a constant so we pick 60 km", "A", "choice", choices=("50 km", "60 km")).pred
'B'
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from mathwright.eval.extract import CHAINS, NUMBER_TOKEN, Chain, choice_letter

REL_TOL = 1e-6  # numbers within this relative distance are equal (1/3 vs 0.3333333)
MATH_VERIFY_TIMEOUT = 5  # seconds per parse / verify call (math-verify's default; sympy can hang)


# ---------------------------------------------------------------- numbers
def parse_number(token: str) -> tuple[Fraction, bool] | None:
    """``(value, is_percent)`` of one number token, or None.

    >>> parse_number("$1,234.50"), parse_number("3/4"), parse_number(r"\\frac{-1}{2}")
    ((Fraction(2469, 2), False), (Fraction(3, 4), False), (Fraction(-1, 2), False))
    >>> parse_number("12.5%"), parse_number("1e16")[0] == 10**16, parse_number("abc")
    ((Fraction(25, 2), True), True, None)
    """
    t = token.strip().rstrip(".")
    pct = t.endswith("%")
    t = t.rstrip("%").strip().replace("$", "").replace(",", "").replace(" ", "")
    m = re.fullmatch(r"\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}", t)
    if m:
        t = f"{m.group(1)}/{m.group(2)}"
    try:
        if "/" in t:
            num, den = t.split("/", 1)
            v = Fraction(Fraction(num), Fraction(den))
        else:
            v = Fraction(t)
    except (ValueError, ZeroDivisionError):
        return None
    return v, pct


def numbers_in(span: str) -> list[tuple[Fraction, bool]]:
    """Every number in ``span``; in a part with ``=``, only what follows the last ``=`` counts.

    >>> [str(v) for v, _ in numbers_in("x = 4 and y = 6")], [str(v) for v, _ in numbers_in("2 + 3 = 5")]
    (['4', '6'], ['5'])
    """
    out: list[tuple[Fraction, bool]] = []
    for part in re.split(r",\s+|;|\band\b", span.replace("\u2212", "-")):
        if "=" in part:
            part = part.rsplit("=", 1)[1]
        for m in NUMBER_TOKEN.finditer(part):
            if _EXPONENT_BEFORE.search(part, 0, m.start()):  # the 2 of "cm^2" is not a number of the answer
                continue
            v = parse_number(m.group())
            if v is not None:
                out.append(v)
    return out


_EXPONENT_BEFORE = re.compile(r"(?:\^\{?|\*\*)\s*$")
_EXAMPLE = re.compile(r"\b(?:e\.g\.|for example|for instance)", re.I)
_ASIDE = re.compile(r"\([^()]*\)")


def answer_part(span: str) -> str:
    """The part of an answer span that states the answer: an example after "e.g." / "for example" and a
    parenthetical aside are dropped when a number stands outside them (``36 (3 boxes of 12)`` -> ``36``).

    >>> answer_part("36 eggs (3 boxes of 12)"), answer_part("36, e.g. 3 boxes of 12"), answer_part("(36)")
    ('36 eggs  ', '36, ', '(36)')
    """
    m = _EXAMPLE.search(span)
    if m and numbers_in(span[:m.start()]):
        span = span[:m.start()]
    outside = _ASIDE.sub(" ", span)
    return outside if outside != span and numbers_in(outside) else span


def close(a: Fraction, b: Fraction, rel: float = REL_TOL) -> bool:
    """Equal, or within ``rel`` of each other relative to the gold ``b`` (absolute 1e-9 near zero)."""
    return a == b or abs(a - b) <= max(rel * abs(b), Fraction(1, 10**9))


def number_key(v: Fraction) -> str:
    """Canonical text of a value: ``18``, ``1234.5``, or ``1/3`` when not a short decimal."""
    if v.denominator == 1:
        return str(v.numerator)
    d = v.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:  # terminating decimal
        return format(float(v), ".15g") if abs(v) < 10**15 else str(v)
    return f"{v.numerator}/{v.denominator}"


# ---------------------------------------------------------------- expressions
def norm_expr(s: str) -> str:
    r"""Light string normalisation for expression answers (``\dfrac``, ``\left``, ``$``, spaces, ``\text{}``).

    >>> norm_expr(r"$\dfrac{1}{2}$."), norm_expr(r"\left( 3, \frac12 \right)"), norm_expr(r"\text{August}")
    ('\\frac{1}{2}', '(3,\\frac{1}{2})', 'august')
    """
    s = s.strip().rstrip(".").strip().strip("$").strip()
    s = re.sub(r"\\text\{\s*([^{}]*?)\s*\}", r"\1", s)
    s = re.sub(r"\\mbox\{\s*([^{}]*?)\s*\}", r"\1", s)
    s = s.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("\\,", "").replace("\\;", "")
    s = s.replace("dfrac", "frac").replace("tfrac", "frac").replace("\\$", "").replace("\\%", "%")
    s = s.replace("^\\circ", "").replace("^{\\circ}", "").replace("°", "")
    s = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\{([^{}]*)\}(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\sqrt(\d+)", r"\\sqrt{\1}", s)
    s = re.sub(r"^[a-zA-Z]\s*=\s*", "", s)  # "x = 5" -> "5"
    s = re.sub(r"\s+", "", s).rstrip(".")
    return s.lower() if re.fullmatch(r"[A-Za-z]+", s) else s


def split_list(s: str) -> list[str] | None:
    """Elements of a list/tuple answer (``[3, 5]``, ``(1,-2)``, ``12 3 0``, ``3 and 5``), else None.

    >>> split_list("[3, 5]"), split_list("12 3 0"), split_list("7")
    (['3', '5'], ['12', '3', '0'], None)
    """
    t = s.strip().strip("$").strip()
    if re.fullmatch(r"-?\d+(?:\.\d+)?(?:\s+-?\d+(?:\.\d+)?)+", t):
        return t.split()
    inner = t[1:-1] if len(t) >= 2 and t[0] in "[(" and t[-1] in "])" else t
    parts = [p.strip() for p in re.split(r",(?!\d{3}\b)|\band\b", inner) if p.strip()]
    if len(parts) > 1 or (inner is not t and len(parts) == 1 and t[0] == "["):
        return parts
    return None


def _mv_equal(gold: str, pred: str, timeouts: bool) -> bool:
    from math_verify import parse, verify

    t = MATH_VERIFY_TIMEOUT if timeouts else None
    g = parse(f"${gold}$", parsing_timeout=t)  # type: ignore[arg-type]
    p = parse(f"${pred}$", parsing_timeout=t)  # type: ignore[arg-type]
    if not g or not p:
        return False
    return bool(verify(g, p, timeout_seconds=t))


def _mv_child(gold: str, pred: str, q: "object") -> None:
    q.put(_mv_equal(gold, pred, True))  # type: ignore[attr-defined]


def math_verify_equal(gold: str, pred: str) -> bool:
    """Symbolic equivalence through math-verify. Its timeouts use SIGALRM, which only works in the main
    thread; elsewhere the check runs in a spawned child process that is killed after the timeout."""
    try:
        if threading.current_thread() is threading.main_thread():
            return _mv_equal(gold, pred, True)
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        proc = ctx.Process(target=_mv_child, args=(gold, pred, q), daemon=True)
        proc.start()
        proc.join(4 * MATH_VERIFY_TIMEOUT)
        if proc.is_alive():
            proc.kill()
            proc.join()
            return False
        return bool(q.get(timeout=1)) if not q.empty() else False
    except Exception:  # noqa: BLE001 - an unparseable answer is simply not equal
        return False


def expressions_equal(pred: str, gold: str) -> bool:
    """String, numeric, element-wise, then symbolic comparison of two expression answers."""
    if norm_expr(pred) == norm_expr(gold):
        return True
    pv, gv = parse_number(norm_expr(pred)), parse_number(norm_expr(gold))
    if pv is not None and gv is not None:
        return numbers_match(pv, gv[0])
    gl = split_list(gold)
    if gl is not None:
        pl = split_list(pred) or [pred]
        return len(pl) == len(gl) and all(expressions_equal(p, g) for p, g in zip(pl, gl))
    return math_verify_equal(gold, pred)


def numbers_match(pred: tuple[Fraction, bool], gold: Fraction) -> bool:
    """Value equality; a percent prediction also matches its value / 100 (``50%`` == ``0.5``)."""
    v, pct = pred
    return close(v, gold) or (pct and close(v / 100, gold))


# ---------------------------------------------------------------- answers
@dataclass(frozen=True)
class Grade:
    """``pred``: the canonical predicted answer (also the self-consistency vote key), or None."""

    pred: str | None
    correct: bool
    extractor: str | None = None
    span: str | None = None


def interpret(span: str, answer_type: str, choices: Sequence[str] = (), policy: str = "last") -> str | None:
    """The canonical answer a span denotes for ``answer_type``, or None when it denotes none."""
    if answer_type == "number":
        nums = numbers_in(answer_part(span))
        if not nums:
            return None
        v, pct = nums[0] if policy == "first" else nums[-1]
        return number_key(v) + ("%" if pct else "")
    if answer_type == "choice":
        letter = choice_letter(span)
        if letter is not None and (not choices or "ABCDE".index(letter) < len(choices)):
            return letter
        return match_option(span, choices)
    s = span.strip()
    return s or None


def match_option(span: str, choices: Sequence[str]) -> str | None:
    """The letter of the option the span states (same text, or the same single number)."""
    ns = norm_expr(span)
    for i, c in enumerate(choices):
        if ns and ns == norm_expr(c):
            return "ABCDE"[i]
    nums = numbers_in(span)
    if nums:
        v = nums[-1][0]
        hits = [i for i, c in enumerate(choices) if len(cn := numbers_in(c)) == 1 and close(v, cn[0][0])]
        if len(hits) == 1:
            return "ABCDE"[hits[0]]
    return None


def extract(text: str, answer_type: str, choices: Sequence[str] = (), policy: str = "last",
            chain: Chain | None = None) -> tuple[str | None, str | None, str | None]:
    """``(answer, extractor name, span)``: the first span of the chain that denotes an answer."""
    for name, span in (chain or CHAINS[answer_type]).spans(text):
        ans = interpret(span, answer_type, choices, policy)
        if ans is not None:
            return ans, name, span
    return None, None, None


def answers_equal(pred: str | None, gold: str, answer_type: str) -> bool:
    """Is a canonical prediction (from :func:`extract`) equal to the gold answer?"""
    if pred is None:
        return False
    if answer_type == "choice":
        return pred == gold.strip().strip("()").upper()
    if answer_type == "number":
        g = parse_number(gold)
        p = parse_number(pred)
        if g is None:  # a non-numeric gold under a number type: compare as expressions
            return expressions_equal(pred, gold)
        return p is not None and numbers_match(p, g[0])
    return expressions_equal(pred, gold)


def grade(text: str, gold: str, answer_type: str, choices: Sequence[str] = (), policy: str = "last",
          chain: Chain | None = None) -> Grade:
    """Extract an answer from ``text`` and compare it with ``gold`` (see the module docstring)."""
    pred, name, span = extract(text, answer_type, choices, policy, chain)
    return Grade(pred, answers_equal(pred, gold, answer_type), name, span)


def program_answer(stdout: str, answer_var: str | None, answer_type: str, choices: Sequence[str] = (),
                   policy: str = "last") -> str | None:
    """A PoT program's answer: its last printed line (not the first number of the first print, as in
    MAmmoTH), else the value of its ``ans``/``answer`` variable."""
    for source in (stdout, answer_var or ""):
        lines = [ln.strip() for ln in source.strip().splitlines() if ln.strip()]
        if lines:
            ans = interpret(lines[-1], answer_type, choices, policy)
            if ans is not None:
                return ans
    return None


# ---------------------------------------------------------------- gold answers
def gold_text(gold: object) -> str:
    """The gold answer as text: a GSM8K solution gives the text after its last ``####``; ``51.0`` gives ``51``.

    >>> gold_text("She makes 9 * 2 = $18.\\n#### 1,800"), gold_text(51.0), gold_text(" B ")
    ('1800', '51', 'B')
    """
    if isinstance(gold, bool):
        raise ValueError("gold must be a number or a string, not a boolean")
    if isinstance(gold, float) and gold.is_integer():
        return str(int(gold))
    if isinstance(gold, (int, float)):
        return str(gold)
    if not isinstance(gold, str):
        raise ValueError(f"gold must be a number or a string, not {type(gold).__name__}")
    s = gold.strip()
    if "####" in s:
        s = s.rsplit("####", 1)[1].strip().replace(",", "")
    return s


def infer_type(gold: str, default: str = "auto") -> str:
    """Answer type of one gold answer for a benchmark whose declared type is ``default`` (``auto`` for the
    sets that mix types, NumGLUE and DeepMind).

    >>> infer_type("B"), infer_type("7.0"), infer_type("[3, 5]"), infer_type("2", "expression")
    ('choice', 'number', 'expression', 'expression')
    """
    if default in ("choice", "expression"):
        return default
    if default == "auto" and re.fullmatch(r"\(?[A-E]\)?", gold):
        return "choice"
    return "number" if parse_number(gold) is not None else "expression"
