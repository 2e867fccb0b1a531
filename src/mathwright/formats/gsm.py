"""GSM8K answer format: steps with calculator annotations ``<<expr=value>>`` and a final ``#### N``.

>>> ans = render(["Janet sells 16 - 3 - 4 = " + annotate("16-3-4") + " duck eggs a day.",
...               "She makes 9 * 2 = $" + annotate("9*2") + " every day."], 18)
>>> print(ans)
Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.
She makes 9 * 2 = $<<9*2=18>>18 every day.
#### 18
>>> parse(ans)
'18'
>>> check(ans).ok, check(ans.replace("=18>>", "=19>>")).errors
(True, ['line 2: annotation <<9*2=19>>: 9*2 = 18, not 19'])
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from mathwright.arith.exact import ANNOTATION, CalcError, calc, evaluate, format_number, result_matches

FINAL_RE = re.compile(r"#### (\-?[0-9\.\,]+)")           # the official extraction regex
ALT_FINAL_RE = re.compile(r"^A: ?(\-?[0-9\.\,]+)\s*$", re.M)  # example_model_solutions.jsonl uses "A: N"
ANNOT_RE = ANNOTATION  # the one annotation regex (arith/exact.py): <<expr=result>>, expr up to the first '='


def annotate(expr: str) -> str:
    """``<<expr=value>>value`` with the exact value (the model-visible result follows the annotation)."""
    v = calc(expr)
    return f"<<{expr}={v}>>{v}"


def render(steps: list[str], final: Any) -> str:
    """Join solution steps (one per line) and the final ``#### N`` line."""
    return "\n".join(steps) + f"\n#### {final}"


def parse(text: str) -> str | None:
    """The final answer as GSM8K's ``dataset.py`` reads it (regex, commas removed), else the ``A: N`` form,
    else None (a missing marker is invalid)."""
    m = FINAL_RE.search(text)
    if m is None:
        m = ALT_FINAL_RE.search(text)
        if m is None:
            return None
    return m.group(1).strip().replace(",", "").rstrip(".") or None


def strip_annotations(text: str) -> str:
    """Clean text: drop every ``<<...>>`` span.

    >>> strip_annotations("= $<<9*2=18>>18 every day")
    '= $18 every day'
    """
    return re.sub(r"<<.*?>>", "", text)


def to_number(text: str) -> Fraction | None:
    """A number written as ``-1,600``, ``0.25``, ``10/3`` or ``$5``; None when it is not one."""
    t = text.strip().replace(",", "").lstrip("$")
    if re.fullmatch(r"-?\d+/\d+", t):
        a, b = t.split("/")
        return Fraction(int(a), int(b)) if int(b) else None
    if re.fullmatch(r"-?(\d+\.?\d*|\.\d+)", t):
        return Fraction(t.rstrip(".") if not t.endswith(".") else t[:-1])
    return None


@dataclass
class GsmCheck:
    """Result of :func:`check`: ``ok``, the errors (first one first) and the parsed final answer."""

    ok: bool
    errors: list[str] = field(default_factory=list)
    final: str | None = None
    annotations: int = 0

    def __bool__(self) -> bool:
        return self.ok


def check(answer: str, gold: Any = None, *, strict: bool = True) -> GsmCheck:
    """Verify every ``<<expr=value>>`` with exact arithmetic, and the final ``#### N`` (against ``gold`` if given).

    ``strict`` (our generated data): the value must be written exactly as the calculator writes it and be
    followed by the same visible number. Lenient (real GSM8K): the annotation rule of
    :func:`mathwright.arith.exact.result_matches` (exact, or rounded to nearest at the decimals shown).
    Python's ``//`` is evaluated, as by the reference calculator's ``eval``.
    """
    errors: list[str] = []
    n_ann = 0
    lines = answer.split("\n")
    final_lines = [i for i, l in enumerate(lines) if l.startswith("#### ")]
    for ln, line in enumerate(lines, 1):
        for m in ANNOT_RE.finditer(line):
            n_ann += 1
            expr, written = m.group(1), m.group(2)
            try:
                exact = evaluate(expr, floordiv=True)
            except CalcError as e:
                errors.append(f"line {ln}: annotation <<{expr}={written}>>: {e}")
                continue
            good = format_number(exact)
            if strict:
                if written != good:
                    errors.append(f"line {ln}: annotation <<{expr}={written}>>: {expr} = {good}, not {written}")
                elif not line[m.end():].startswith(good):
                    errors.append(f"line {ln}: annotation <<{expr}={written}>> is not followed by {good}")
            elif not result_matches(exact, written):
                errors.append(f"line {ln}: annotation <<{expr}={written}>>: {expr} = {good}, not {written}")
        if "<<" in line and not ANNOT_RE.search(line):
            errors.append(f"line {ln}: malformed annotation in {line!r}")
    final = parse(answer)
    if not final_lines or final is None:
        errors.append("no final '#### N' line")
    elif strict and final_lines[-1] != len(lines) - 1:
        errors.append("the '#### N' line is not the last line")
    if final is not None and gold is not None:
        g = to_number(str(gold))
        f = to_number(final)
        if g is None or f is None or f != g:
            errors.append(f"final answer {final} != expected {gold}")
    return GsmCheck(ok=not errors, errors=errors, final=final, annotations=n_ann)


def is_correct(completion: str, gold: Any) -> bool:
    """Label a sample by its final answer only (verifiers.md: correct iff the final answer equals the
    reference's). ``gold`` may be a number or a full reference solution."""
    g = gold if isinstance(gold, (int, Fraction)) else (parse(str(gold)) if ("####" in str(gold) or "A:" in str(gold)) else str(gold))
    p = parse(completion)
    if p is None or g is None:
        return False
    a, b = to_number(p), to_number(str(g))
    return a is not None and b is not None and a == b


def check_record(rec: dict) -> str | None:
    """``mathwright check --format gsm``: one GSM8K record (``question``, and ``answer`` holding the annotated
    solution with its ``#### N`` line); None when valid, else every problem in one line.

    Lenient (``strict=False``) so real GSM8K files pass: a value rounded to its decimal places counts,
    wrong arithmetic does not. Line numbers inside the message count lines of the solution.

    >>> check_record({"question": "q", "answer": "2 * 3 = <<2*3=6>>6\\n#### 6"}) is None
    True
    >>> check_record({"question": "q", "answer": "2 * 3 = <<2*3=7>>7\\n#### 7"})
    'solution line 1: annotation <<2*3=7>>: 2*3 = 6, not 7'
    """
    ans = rec.get("answer")
    if not isinstance(ans, str):
        return "no 'answer' string (a GSM8K record is {question, answer})"
    res = check(ans, strict=False)
    if res.ok:
        return None
    return "; ".join("solution " + e if e.startswith("line ") else e for e in res.errors)


class _Format:
    """The object registered as ``FORMATS['gsm']`` (render / parse / check; ``check_record`` and ``op_of``
    for ``mathwright check``)."""

    name = "gsm"
    render = staticmethod(render)
    parse = staticmethod(parse)
    check = staticmethod(check)
    check_record = staticmethod(check_record)
    op_of = staticmethod(lambda rec: str(rec.get("template", "gsm")))


FORMAT = _Format()
