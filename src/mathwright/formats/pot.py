"""Program of thought (PoT), MAmmoTH style: a short Python program that prints the answer.

``render`` makes a PoT record from a GSM8K-style solution or an arithmetic problem (the conversion is
:mod:`mathwright.formats.pot_convert`, re-exported here); ``parse`` takes the program out of a model output
(fenced code, or raw text that calls ``print(``); ``check`` runs programs in the sandbox (never in this
process) and compares the last printed line with the gold answer.

>>> render({"question": "Tom has 3 apples and buys 4.", "answer": "3+4 = <<3+4=7>>7 apples\\n#### 7"})["output"]
'apples = 3 + 4\\nprint(apples)'
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from mathwright.arith.exact import ANNOTATION, CalcError, evaluate, result_matches, to_fraction  # noqa: F401
from mathwright.arith.problem import Problem
# re-exported: mathwright.formats.pot.* is where callers (data/mathinstruct.py, tests) read the conversion
from mathwright.formats.pot_convert import (SolutionError, exact_value, final_answer,  # noqa: F401
                                            problem_to_program, solution_to_program, steps, strip_annotations,
                                            translate, value_matches)

TRIGGER = " Let's write a program."  # MAmmoTH's evaluation trigger (mammoth.md §2), leading space included
_FENCE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.S)


def numbers_equal(got: str, gold: str, rel_tol: float = 1e-6) -> bool:
    """True when two answer texts are the same number (float noise tolerated) or the same text.

    >>> numbers_equal("72.0", "72"), numbers_equal("0.30000000000000004", "0.3"), numbers_equal("71", "72")
    (True, True, False)
    """
    a, b = to_fraction(got), to_fraction(gold)
    if a is None or b is None:
        return got.strip() == gold.strip()
    if a == b:
        return True
    return abs(a - b) <= Fraction(rel_tol) * max(abs(a), abs(b), Fraction(1))


# ---------------------------------------------------------------------------------------------------
# the format interface


def render(problem: dict | Problem, rng: Any = None, *, comments: bool = False) -> dict:
    """A PoT record ``{instruction, output, answer}`` for a GSM8K-style dict (``question``, ``answer``)
    or an arithmetic :class:`Problem` (its ``instruction`` is ``'What is a op b?'``).

    ``rng`` is accepted for the common format interface; rendering is deterministic.
    """
    if isinstance(problem, Problem):
        return {"instruction": f"What is {problem.expr()}?" + TRIGGER, "output": problem_to_program(problem),
                "answer": problem.answer_text()}
    question, solution = problem["question"], problem["answer"]
    return {"instruction": question.strip() + TRIGGER,
            "output": solution_to_program(question, solution, comments=comments),
            "answer": final_answer(solution)}


def parse(text: str) -> str | None:
    """The program in a model output: the first fenced code block, else the raw text if it calls ``print(``.

    >>> parse("Sure.\\n```python\\nx = 2\\nprint(x)\\n```\\nDone")
    'x = 2\\nprint(x)'
    >>> parse("The answer is 4.") is None
    True
    """
    text = text.split("### Instruction")[0]
    m = _FENCE.search(text)
    if m and m.group(1).strip():
        return m.group(1).strip("\n")
    if "print(" in text:
        return text.strip("\n")
    return None


def printed_answer(stdout: str) -> str | None:
    """The last non-empty printed line (mammoth.md §9: the last line, not the first number)."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    return lines[-1] if lines else None


@dataclass(frozen=True)
class PotCheck:
    """Outcome of running one program against its gold answer."""

    ok: bool
    status: str  # sandbox status ('ok', 'timeout', 'error', ...) or 'no_program' / 'wrong_answer'
    got: str | None
    error: str | None = None


def check_many(programs: Sequence[str | None], golds: Sequence[str], pool: Any = None,
               workers: int = 2) -> list[PotCheck]:
    """Run every program in the sandbox (a ``SandboxPool``; one is started if ``pool`` is None) and
    compare its last printed line with the gold answer by value. Order is kept."""
    if len(programs) != len(golds):
        raise ValueError("programs and golds differ in length")
    todo = [i for i, p in enumerate(programs) if p]
    results: dict[int, Any] = {}
    if todo:
        if pool is None:
            from mathwright.sandbox import SandboxPool

            with SandboxPool(workers=workers) as own:
                ran = own.map([programs[i] for i in todo])
        else:
            ran = pool.map([programs[i] for i in todo])
        results = dict(zip(todo, ran))
    out: list[PotCheck] = []
    for i, gold in enumerate(golds):
        r = results.get(i)
        if r is None:
            out.append(PotCheck(False, "no_program", None))
            continue
        got = printed_answer(r.stdout or "")
        if r.status != "ok":
            out.append(PotCheck(False, r.status, got, r.error))
        elif got is None or not numbers_equal(got, str(gold)):
            out.append(PotCheck(False, "wrong_answer", got))
        else:
            out.append(PotCheck(True, "ok", got))
    return out


def check(record: dict | str, gold: str | None = None, pool: Any = None) -> PotCheck:
    """Check one PoT record (``output`` and ``answer``) or one program text against ``gold``."""
    if isinstance(record, dict):
        program, gold = parse(record["output"]), record.get("answer", gold)
    else:
        program = parse(record)
    if gold is None:
        raise ValueError("no gold answer given")
    return check_many([program], [str(gold)], pool=pool)[0]


def check_records(records: Sequence[dict], pool: Any = None, workers: int = 1) -> list[str | None]:
    """``mathwright check --format pot``: run each record's program (``output``) in the sandbox, all of them
    in one pool; None for a valid record, else the problem. A record with an ``answer`` must print it (its
    last printed line, compared by value); one without (MAmmoTH-style ``{instruction, output, source}``)
    must run and print something."""
    programs: list[str | None] = []
    golds: list[str] = []
    problems: list[str | None] = []
    for rec in records:
        out = rec.get("output")
        problems.append(None if isinstance(out, str) else "no 'output' string (a PoT record is {instruction, output, answer})")
        programs.append(parse(out) if isinstance(out, str) else None)
        golds.append(str(rec["answer"]) if rec.get("answer") is not None else "")
    ran = check_many(programs, golds, pool=pool, workers=workers)
    for i, (rec, r) in enumerate(zip(records, ran)):
        if problems[i]:
            continue
        if r.status == "no_program":
            problems[i] = "no program in 'output' (no fenced code block, no print( call)"
        elif r.status == "wrong_answer" and rec.get("answer") is None:
            problems[i] = None if r.got is not None else "the program printed nothing"
        elif r.status == "wrong_answer":
            problems[i] = f"the program prints {r.got!r}, the answer is {rec['answer']!r}" if r.got is not None \
                else f"the program printed nothing, the answer is {rec['answer']!r}"
        elif not r.ok:
            problems[i] = f"the program failed in the sandbox ({r.status}" + (f": {r.error}" if r.error else "") + ")"
    return problems


class _Format:
    """The object registered as ``FORMATS['pot']`` (render / parse / check; ``check_records`` and
    ``op_of`` for ``mathwright check``)."""

    name = "pot"
    trigger = TRIGGER
    render = staticmethod(render)
    parse = staticmethod(parse)
    check = staticmethod(check)
    check_records = staticmethod(check_records)
    op_of = staticmethod(lambda rec: "pot")


FORMAT = _Format()
