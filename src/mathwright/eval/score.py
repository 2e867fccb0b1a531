"""Per-benchmark scoring: one model output against one gold answer, plus the reference scores each set
reports beside mathwright's own (``correct``): lm-eval strict/flexible for GSM8K, ``mammoth`` (MAmmoTH v1's
own extraction and comparison, compat mode) for MAmmoTH's nine sets, and ``lenient`` for MATH
(``correct``, or MAmmoTH's round/4% number match on mathwright's answer), and summaries of many.

>>> r = score("gsm8k", "She makes 9 * 2 = 18 dollars.\\n#### 18", "#### 18")
>>> r["correct"], r["strict"], r["flexible"]
(True, True, True)
>>> summarize([r, {**r, "correct": False, "strict": False}])["accuracy"]
0.5
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from mathwright.data.benchmarks import ANSWER_TYPES, get_spec
from mathwright.eval.compat import (MAMMOTH_SETS, UNKNOWN, lenient_math_equal, lm_eval_flexible, lm_eval_match,
                                    lm_eval_strict, mammoth_correct, mammoth_program_text, mammoth_score, mammoth_vote)
from mathwright.eval.grading import answers_equal, grade, gold_text, infer_type, program_answer

GSM8K_LIKE = ("gsm8k", "gsm8k_train")
# Reference scores a record may carry, with the labels reports print for them.
REFERENCE_SCORES = {"strict": "strict-match (lm-eval)", "flexible": "flexible-extract (lm-eval)",
                    "mammoth": "MAmmoTH v1 (compat)", "lenient": "lenient (strict, or MAmmoTH's round/4% match)"}


def declared_type(bench: str) -> str:
    """The benchmark's declared answer type, or ``auto`` when it varies per item."""
    t = get_spec(bench).answer_type
    return t if isinstance(t, str) and t in ANSWER_TYPES else "auto"


def score(bench: str, output: str, gold: object, answer_type: str | None = None,
          choices: Sequence[str] = (), gold_num: Any = UNKNOWN) -> dict:
    """Grade ``output`` for benchmark ``bench``: ``{"pred", "correct", "extractor", ...}`` plus the reference
    scores of :data:`REFERENCE_SCORES` the set reports (``gold_num``: MATH's numeric gold, for ``mammoth``)."""
    spec = get_spec(bench)
    g = gold_text(gold)
    atype = answer_type or infer_type(g, declared_type(bench))
    res = grade(output, g, atype, choices, spec.number_policy)
    out: dict = {"pred": res.pred, "correct": res.correct, "extractor": res.extractor}
    if spec.name in GSM8K_LIKE:
        out["strict"] = lm_eval_match(lm_eval_strict(output), g)
        out["flexible"] = lm_eval_match(lm_eval_flexible(output), g)
    out.update(mammoth_fields(spec.name, output, g, gold_num))
    if spec.name == "math":
        out["lenient"] = res.pred is not None and (res.correct or lenient_math_equal(res.pred, g))
    return out


def mammoth_fields(bench: str, text: str, gold: str, gold_num: Any = UNKNOWN) -> dict:
    """``{"mammoth_pred", "mammoth"}``: MAmmoTH v1's answer and verdict for one text (empty for other sets)."""
    if bench not in MAMMOTH_SETS:
        return {}
    pred, ok = mammoth_score(bench, text, gold, gold_num)
    return {"mammoth_pred": pred, "mammoth": ok}


def mammoth_program_fields(bench: str, stdout: str, ok: bool, gold: str, gold_num: Any = UNKNOWN) -> dict:
    """MAmmoTH's verdict on a program: it scores ``"The answer is " + stdout`` (empty when the run failed)."""
    return mammoth_fields(bench, mammoth_program_text(stdout, ok), gold, gold_num)


class WordGrader:
    """How :func:`mathwright.solve.strategies.solve` reads and grades word-problem samples (its ``grader``):
    mathwright's answer and verdict, plus the reference scores of :data:`REFERENCE_SCORES` the set reports."""

    def text(self, p: Any, output: str) -> dict:
        """:func:`score` of a text sample, without ``correct`` (the record's verdict is on its final answer)."""
        s = score(p.benchmark, output, p.gold, p.answer_type, p.choices, p.meta.get("answer_num", UNKNOWN))
        return {k: s[k] for k in s if k != "correct"}

    def program(self, p: Any, output: str, r: Any) -> dict:
        """A program's answer (None when the run failed) and MAmmoTH's verdict: MAmmoTH runs only an output
        containing ``print(`` and scores its stdout; any other output it scores as text."""
        pred = program_answer(r.stdout or "", r.answer, p.answer_type, p.choices, get_spec(p.benchmark).number_policy) \
            if r.status == "ok" else None
        num = p.meta.get("answer_num", UNKNOWN)
        if "print(" in output:
            return {"pred": pred, **mammoth_program_fields(p.benchmark, r.stdout or "", r.status == "ok", p.gold, num)}
        return {"pred": pred, **mammoth_fields(p.benchmark, output, p.gold, num)}

    def correct(self, p: Any, pred: str | None) -> bool:
        return answers_equal(pred, p.gold, p.answer_type)

    def references(self, p: Any, samples: list[dict], aggregator: str) -> dict:
        """``first``: the first sample's reference scores; a vote: MAmmoTH's own (run_open_sc.py) over its answers."""
        if aggregator == "first":
            return {k: samples[0][k] for k in (*REFERENCE_SCORES, "mammoth_pred") if k in samples[0]}
        if all("mammoth_pred" in s for s in samples):
            pred = mammoth_vote([s["mammoth_pred"] for s in samples])
            return {"mammoth_pred": pred,
                    "mammoth": mammoth_correct(p.benchmark, pred, p.gold, p.meta.get("answer_num", UNKNOWN))}
        return {}


GRADER = WordGrader()


def summarize(records: Iterable[dict]) -> dict:
    """Accuracy (and the reference scores present) over graded records."""
    recs = list(records)
    n = len(recs)
    m: dict = {"n": n, "correct": sum(bool(r.get("correct")) for r in recs)}
    m["accuracy"] = m["correct"] / n if n else 0.0
    for key in REFERENCE_SCORES:
        if recs and all(key in r for r in recs):
            m[key] = sum(bool(r[key]) for r in recs) / n
    m["no_answer"] = sum(r.get("pred") is None for r in recs)
    return m
