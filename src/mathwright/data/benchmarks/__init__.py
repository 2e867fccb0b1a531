"""The nine word-problem benchmarks, registered by name, loaded into one problem schema.

Each benchmark is a small declarative :class:`BenchmarkSpec` (lm-eval style): a path relative to the
data root, how to build the question, the gold answer and the choices, the answer type, and the
number policy used when an answer span holds several numbers. Data is read from ``$MATHWRIGHT_DATA``
or ``../shared/data`` next to the repository, never copied into it.

>>> sorted(BENCHMARKS.names())[:3]
['aqua', 'deepmind', 'gsm8k']
>>> choices_from_inline("x? Answer Choices: (A) 2 (B) 4 (C) 9 (D) 10")
['2', '4', '9', '10']
"""
from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mathwright.io import DataError, read_records
from mathwright.registry import Registry

ANSWER_TYPES = ("number", "choice", "expression")
LETTERS = "ABCDE"
NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class WordProblem:
    """One evaluation item. ``gold`` is a string: a number, a letter, or a LaTeX/plain expression."""

    id: str
    question: str
    gold: str
    answer_type: str  # number | choice | expression
    choices: tuple[str, ...] = ()
    benchmark: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


Hook = Callable[[dict], Any]


@dataclass(frozen=True)
class BenchmarkSpec:
    """Declarative description of a benchmark file (see the module docstring)."""

    name: str
    path: str  # relative to the data root
    question: str | Hook  # field name or hook(record) -> str
    gold: str | Hook
    answer_type: str | Hook  # one of ANSWER_TYPES, or hook(record) -> type
    n: int  # expected number of records (checked by tests)
    choices: Hook | None = None
    id_field: str | None = None
    number_policy: str = "last"  # which number of a multi-number answer span counts: first | last
    domain: str = "out"  # in | out (MAmmoTH's split)
    ceiling_note: str = ""
    multiple_choice: bool = False  # MAmmoTH runs it with run_choice.py: the alpaca_mc prompt, the letter scorer
    gold_num: Hook | None = None  # MATH: the numeric gold MAmmoTH's comparison uses (kept in meta["answer_num"])

    def field(self, rec: dict, how: str | Hook, path: Path, line: int) -> Any:
        if callable(how):
            return how(rec)
        if how not in rec:
            raise DataError(path, line, f"missing field {how!r}")
        return rec[how]


BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmarks")


def register(spec: BenchmarkSpec, *aliases: str) -> BenchmarkSpec:
    for name in (spec.name, *aliases):
        BENCHMARKS.add(name, spec)
    return spec


# ---------------------------------------------------------------- hooks
def number_text(x: Any) -> str:
    """Canonical text of a numeric gold: ``51.0`` -> ``'51'``, ``'1,600'`` -> ``'1600'``.

    >>> number_text(51.0), number_text("1,600"), number_text("7.89")
    ('51', '1600', '7.89')
    """
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x).replace(",", "").strip()


def gsm8k_gold(answer: str) -> str:
    """The text after the last ``####`` of a GSM8K solution, commas removed."""
    if "####" not in answer:
        raise ValueError("no '####' in the GSM8K answer")
    return number_text(answer.rsplit("####", 1)[1])


def choices_from_inline(question: str) -> list[str]:
    """Option texts from an inline ``Answer Choices: (A) .. (B) ..`` tail (SAT, NumGLUE Type_3)."""
    tail = question.rsplit("Answer Choices:", 1)
    if len(tail) < 2:
        return []
    parts = re.split(r"\(([A-E])\)", tail[1])
    return [p.strip().rstrip(".").strip() for p in parts[2::2]]


def with_choices(question: str, options: list[str]) -> str:
    """``question`` + ``Answer Choices: (A) .. (B) ..``; unlike MAmmoTH, option text is kept verbatim."""
    return question.strip() + "\nAnswer Choices: " + " ".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))


def aqua_options(rec: dict) -> list[str]:
    # "A)5(√3 + 1)" -> "5(√3 + 1)": strip only the leading label, keep the content's parentheses.
    return [re.sub(r"^\s*[A-E]\s*\)\s*", "", o) for o in rec["options"]]


def numglue_type(rec: dict) -> str:
    a = str(rec["answer"]).strip()
    if rec.get("type") == "Type_3" and a in LETTERS:
        return "choice"
    return "number" if NUMBER_RE.fullmatch(a.replace(",", "")) else "expression"


def deepmind_type(rec: dict) -> str:
    return "number" if NUMBER_RE.fullmatch(str(rec["answer"]).strip()) else "expression"


def mmlu_gold(rec: dict) -> str:
    a = rec["answer"]
    if not isinstance(a, int) or not 0 <= a < len(rec["choices"]):
        raise ValueError(f"answer index {a!r} out of range")
    return LETTERS[a]


# ---------------------------------------------------------------- the nine sets
register(BenchmarkSpec("gsm8k", "gsm8k/test.jsonl", "question", lambda r: gsm8k_gold(r["answer"]), "number",
                       1319, domain="in"))
register(BenchmarkSpec("gsm8k_train", "gsm8k/train.jsonl", "question", lambda r: gsm8k_gold(r["answer"]), "number",
                       7473, domain="in"))
register(BenchmarkSpec("math", "math/test.jsonl", "problem", lambda r: str(r["answer"]), "expression", 5000,
                       id_field="source_file", domain="in", gold_num=lambda r: r.get("answer_num")))
register(BenchmarkSpec("aqua", "aqua/AQuA.json", lambda r: with_choices(r["question"], aqua_options(r)), "correct",
                       "choice", 254, choices=aqua_options, domain="in", multiple_choice=True))
register(BenchmarkSpec("numglue", "numglue/numglue.json", "question", lambda r: number_text(r["answer"]), numglue_type,
                       1042, choices=lambda r: choices_from_inline(r["question"]), domain="in",
                       ceiling_note="3 word answers (August, Friday, October) need an expression answer"))
register(BenchmarkSpec("svamp", "svamp/SVAMP.json", lambda r: f"{r['Body'].strip()} {r['Question'].strip()}",
                       lambda r: number_text(r["Answer"]), "number", 1000, id_field="ID"))
register(BenchmarkSpec("deepmind", "deepmind/deepmind.json", "question", lambda r: str(r["answer"]).strip(),
                       deepmind_type, 1000,
                       ceiling_note="MAmmoTH's exact-string scorer caps this set at 86.1%; values and lists are "
                                    "compared by value here"))
register(BenchmarkSpec("simuleq", "simuleq/simuleq.json", "question", lambda r: number_text(r["answer"]), "number",
                       514, number_policy="first",  # gold is the first unknown of two-question items
                       ceiling_note="125 two-question items keep only the first unknown"))
register(BenchmarkSpec("sat", "sat/sat.json", "question", "answer", "choice", 220,
                       choices=lambda r: choices_from_inline(r["question"]), multiple_choice=True))
register(BenchmarkSpec("mmlu_mathematics", "mmlu_math/mathematics.json",
                       lambda r: with_choices(r["question"], r["choices"]), mmlu_gold, "choice", 974,
                       choices=lambda r: list(r["choices"]), multiple_choice=True), "mmlu_math", "mmlu")

MAMMOTH_NINE = ("gsm8k", "math", "aqua", "numglue", "svamp", "deepmind", "simuleq", "sat", "mmlu_mathematics")


def data_root(root: str | os.PathLike | None = None) -> Path:
    """``root``, else ``$MATHWRIGHT_DATA``, else ``../shared/data`` beside the repository checkout."""
    if root is not None:
        return Path(root)
    if os.environ.get("MATHWRIGHT_DATA"):
        return Path(os.environ["MATHWRIGHT_DATA"])
    return Path(__file__).resolve().parents[4].parent / "shared" / "data"


def get_spec(name: str) -> BenchmarkSpec:
    """The spec registered as ``name`` (KeyError with a did-you-mean hint otherwise)."""
    return BENCHMARKS.get(name)


def load_benchmark(name: str, limit: int | None = None, seed: int = 0,
                   root: str | os.PathLike | None = None) -> list[WordProblem]:
    """Load benchmark ``name``; with ``limit``, a seeded subsample (in file order) of that size; a smaller
    limit with the same seed gives a subset of a larger one.

    The same (name, limit, seed) gives the same problems on every machine.
    """
    spec = get_spec(name)
    path = data_root(root) / spec.path
    problems: list[WordProblem] = []
    for line, rec in read_records(path):
        try:
            q = spec.field(rec, spec.question, path, line)
            gold = spec.field(rec, spec.gold, path, line)
            atype = spec.answer_type if spec.answer_type in ANSWER_TYPES else spec.answer_type(rec)  # type: ignore[operator]
            choices = tuple(str(c) for c in spec.choices(rec)) if spec.choices else ()
        except DataError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise DataError(path, line, f"{name}: bad record ({type(e).__name__}: {e})") from None
        if not isinstance(q, str) or not q.strip():
            raise DataError(path, line, f"{name}: empty or non-string question")
        if atype not in ANSWER_TYPES:
            raise DataError(path, line, f"{name}: unknown answer type {atype!r}")
        gold = str(gold).strip()
        if not gold:
            raise DataError(path, line, f"{name}: empty gold answer")
        if atype == "choice" and gold not in LETTERS:
            raise DataError(path, line, f"{name}: choice gold {gold!r} is not a letter A-E")
        pid = f"{spec.name}/{rec[spec.id_field]}" if spec.id_field else f"{spec.name}/{line}"
        meta: dict[str, Any] = {"line": line}
        if spec.gold_num is not None:
            meta["answer_num"] = spec.gold_num(rec)
        problems.append(WordProblem(pid, q.strip(), gold, atype, choices, spec.name, meta))
    if limit is not None and limit < len(problems):
        keep = sorted(subsample_order(len(problems), spec.name, seed)[:limit])
        problems = [problems[i] for i in keep]
    return problems


def subsample_order(n: int, name: str, seed: int) -> list[int]:
    """A seeded permutation of ``range(n)``; ``limit=k`` keeps its first k entries, so subsets are nested
    (the 50-problem subset is inside the 200-problem one, and a partial run covers a random part of it).

    >>> a = subsample_order(100, "svamp", 0); sorted(a) == list(range(100)), a == subsample_order(100, "svamp", 0)
    (True, True)
    """
    order = list(range(n))
    random.Random(f"{name}:{seed}").shuffle(order)
    return order
