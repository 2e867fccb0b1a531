"""Programs of thought from solutions with known answers: a GSM8K-style annotated solution, or an arithmetic
:class:`~mathwright.arith.problem.Problem`, turned into a short Python program that prints the answer.

Every calculator annotation ``<<expr=value>>`` becomes one named assignment (the name comes from the words
around it, else ``v1, v2, ...``); a later expression that reuses an earlier result refers to that result's
variable; the program prints the variable holding the solution's final answer. Each annotation is checked
with exact arithmetic first (:func:`value_matches`).

>>> sol = ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\\n"
...        "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\\n#### 72")
>>> print(solution_to_program("Natalia sold clips to 48 of her friends ...", sol))
clips = 48 / 2
clips_altogether = 48 + clips
print(clips_altogether)
"""
from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass
from fractions import Fraction

from mathwright.arith.exact import ANNOTATION, CalcError, evaluate, result_matches, to_fraction
from mathwright.arith.problem import Problem

_FINAL = re.compile(r"^####\s*(.+?)\s*$", re.M)
_TOKEN = re.compile(r"\d*\.\d+|\d+\.?|//|[-+*/()]|\s+")
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?|(?<![\w.])\.\d+")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_STOP = frozenset("""a an the in on of to for per and or at by with from is are was were be been has have had
he she it they them his her their its him we you i me my our your so that this these those each every than as
which who whom what then there here also now all just only more less much many x times
plus minus divided multiplied equals equal s will would can could do does did after before into out over
up down about one still other another some same because respectively nor but if get gets got make makes made
equation means mean therefore thus hence since when while need needs both either not no yes how why where
let lets first second third next last""".split())
_RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"math", "sympy", "np", "numpy", "ans", "answer"}


class SolutionError(ValueError):
    """A solution cannot be turned into a program (no annotations, bad arithmetic, no final answer)."""


# ---------------------------------------------------------------------------------------------------
# exact arithmetic of calculator annotations


def exact_value(expr: str) -> Fraction:
    """Evaluate a calculator expression (numbers, ``+ - * / //``, parentheses; ``x × ÷`` read as ``* * /``)
    exactly with the one safe evaluator, :func:`mathwright.arith.exact.evaluate`.

    >>> exact_value("2*20*.01"), exact_value("(48 - 8) / 3")
    (Fraction(2, 5), Fraction(40, 3))
    """
    try:
        return evaluate(expr.replace("x", "*").replace("×", "*").replace("÷", "/"), floordiv=True)
    except CalcError as e:
        raise SolutionError(f"not a calculator expression: {expr!r} ({e})") from None


def value_matches(expr: str, value: str) -> bool:
    """An annotation is right when its value equals the exact result, or is it rounded to nearest at the
    decimals shown (the one rule, :func:`mathwright.arith.exact.result_matches`; an integer must be exact,
    so ``<<7/2=4>>`` is wrong).

    >>> value_matches("10/3", "3.33"), value_matches("10/3", "3"), value_matches("48/2", "24")
    (True, False, True)
    """
    return result_matches(exact_value(expr), value)


# ---------------------------------------------------------------------------------------------------
# GSM8K solution -> program


@dataclass(frozen=True)
class Step:
    """One calculator annotation with the words around it."""

    expr: str
    value: str
    before: str  # text of the sentence before the annotation
    after: str  # text of the sentence after the annotation


def final_answer(solution: str) -> str:
    """The text after the last ``####`` with thousands commas removed.

    >>> final_answer("... = 1,600\\n#### 1,600")
    '1600'
    """
    found = _FINAL.findall(solution)
    if not found:
        raise SolutionError("no final '#### N' line")
    return found[-1].replace(",", "").strip()


def strip_annotations(solution: str) -> str:
    """Remove calculator annotations: ``48/2 = <<48/2=24>>24`` -> ``48/2 = 24``."""
    return ANNOTATION.sub("", solution)


def steps(solution: str) -> list[Step]:
    """The annotations of a solution, in order, each with its sentence context."""
    out: list[Step] = []
    for line in solution.splitlines():
        if line.startswith("####"):
            continue
        for m in ANNOTATION.finditer(line):
            before = ANNOTATION.sub("", line[: m.start()])
            before = re.split(r"[.;:!?](?:\s|$)", before)[-1]
            after = ANNOTATION.sub("", line[m.end():])
            after = re.split(r"[.;:!?,](?:\s|$)|<<", after)[0]
            out.append(Step(m.group(1).strip(), m.group(2).strip(), before, after))
    return out


def _words(text: str) -> list[str]:
    return [w.lower().replace("'", "") for w in _WORD.findall(text)]


def name_for(step: Step) -> str | None:
    """A readable variable name from the words after the result (``24 clips in May`` -> ``clips``),
    else from the words just before the expression; None when nothing usable is found."""
    after = re.sub(r"^[\s$%\d.,]*", "", step.after)
    words = []
    for w in _words(after):
        if w in _STOP and words:
            break  # 'clips in may' -> 'clips'; 'clips altogether' -> 'clips_altogether'
        if w not in _STOP:
            words.append(w)
        if len(words) == 2:
            break
    if not words:
        before = re.sub(r"[\d.,$%=*/+()x×÷-]+\s*$", "", step.before)
        words = [w for w in _words(before) if len(w) > 1 and w not in _STOP][-2:]
    name = "_".join(words)[:32].strip("_")
    if not name or not name.isidentifier() or name in _RESERVED:
        return None
    return name


def _literal(tok: str) -> str:
    """A clean Python literal for a number token: ``.5`` -> ``0.5``, ``08`` -> ``8``, ``5.`` -> ``5.0``."""
    if tok.startswith("."):
        tok = "0" + tok
    if tok.endswith("."):
        tok += "0"
    whole, dot, frac = tok.partition(".")
    return (whole.lstrip("0") or "0") + dot + frac


def _question_numbers(question: str) -> set[Fraction]:
    return {f for f in (to_fraction(t) for t in _NUMBER_IN_TEXT.findall(question)) if f is not None}


def translate(expr: str, known: list[tuple[Fraction, str]], given: set[Fraction], used: set[str] | None = None) -> str:
    """Rewrite a calculator expression as Python: a number equal to an earlier result becomes that
    result's variable (an unused result first, in order), except numbers stated in the question, which
    stay literals (same value either way); binary operators get spaces. ``used`` collects referenced names.

    >>> translate("48+24", [(Fraction(24), "clips")], {Fraction(48)})
    '48 + clips'
    >>> translate("68+17+68", [(Fraction(68), "mon"), (Fraction(17), "tue"), (Fraction(68), "wed")], {Fraction(17)})
    'mon + 17 + wed'
    """
    used = set() if used is None else used
    clean = expr.replace("x", "*").replace("×", "*").replace("÷", "/")
    toks = [t for t in _TOKEN.findall(clean) if t.strip()]
    if "".join(toks) != re.sub(r"\s+", "", clean):
        raise SolutionError(f"not a calculator expression: {expr!r}")
    ops = ("+", "-", "*", "/", "//", "(", ")")
    out: list[str] = []
    prev = None
    for t in toks:
        if t in ops[:5] and prev is not None and prev not in "+-*/(":
            out.append(f" {t} ")
        elif t in ops:
            out.append(t)
        else:
            v = Fraction(_literal(t))
            same = [name for val, name in known if val == v]
            fresh = [name for name in same if name not in used]
            var = None if v in given else (fresh[0] if fresh else (same[-1] if same else None))
            if var is not None:
                used.add(var)
            out.append(var if var is not None else _literal(t))
        prev = t[0] if t in ops else "n"
    return "".join(out)


def solution_to_program(question: str, solution: str, *, comments: bool = False) -> str:
    """A Python program equivalent to the annotated solution (see the module docstring).

    Each annotation is checked with exact arithmetic first; a wrong one raises SolutionError.
    """
    found = steps(solution)
    if not found:
        raise SolutionError("no calculator annotations")
    gold = final_answer(solution)
    gold_value = to_fraction(gold)
    for s in found:
        if not value_matches(s.expr, s.value):
            raise SolutionError(f"wrong annotation <<{s.expr}={s.value}>> (exact value {exact_value(s.expr)})")
    # Print the last step whose result is the solution's own final answer; drop steps after it.
    last = max((i for i, s in enumerate(found) if to_fraction(s.value) == gold_value), default=len(found) - 1)
    found = found[: last + 1]
    given = _question_numbers(question)
    known: list[tuple[Fraction, str]] = []
    used: set[str] = set()
    referenced: set[str] = set()
    lines: list[str] = []
    for i, s in enumerate(found, 1):
        name = name_for(s) or f"v{i}"
        base, k = name, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        if comments:
            text = re.sub(r"\s+", " ", (s.before + s.value + s.after)).strip()
            if text:
                lines.append(f"# {text}")
        lines.append(f"{name} = {translate(s.expr, known, given, referenced)}")
        value = to_fraction(s.value)
        if value is not None:
            known.append((value, name))
    lines.append(f"print({name})")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# arithmetic problem -> program


def problem_to_program(p: Problem) -> str:
    """A program printing ``p.answer_text()`` (Goat's answer: ``'3 R 2'``, ``'undefined'``, ``'True'``).

    >>> print(problem_to_program(Problem("div", 17, 5)))
    a = 17
    b = 5
    q, r = divmod(a, b)
    print(f"{q} R {r}" if r else q)
    """
    head = [f"a = {p.a}", f"b = {p.b}"]
    if p.op == "div":
        if p.b == 0:
            return "\n".join(head + ['print("undefined")'])
        body = ["q, r = divmod(a, b)"]
        if p.b < 0:  # Goat's remainder is never negative; Python's divmod floors
            body += ["if r < 0:", "    q, r = q + 1, r - b"]
        return "\n".join(head + body + ['print(f"{q} R {r}" if r else q)'])
    return "\n".join(head + [f"print(a {p.symbol} b)"])
