"""Per-benchmark scoring: one model output against one gold answer, plus the reference scores each set
reports (lm-eval strict/flexible for GSM8K, MAmmoTH-lenient for MATH), and summaries of many.

>>> r = score("gsm8k", "She makes 9 * 2 = 18 dollars.\\n#### 18", "#### 18")
>>> r["correct"], r["strict"], r["flexible"]
(True, True, True)
>>> summarize([r, {**r, "correct": False, "strict": False}])["accuracy"]
0.5
"""
from __future__ import annotations

from typing import Iterable, Sequence

from mathwright.data.benchmarks import ANSWER_TYPES, get_spec
from mathwright.eval.compat import lm_eval_flexible, lm_eval_match, lm_eval_strict, mammoth_math_equal
from mathwright.eval.grading import grade, gold_text, infer_type

GSM8K_LIKE = ("gsm8k", "gsm8k_train")


def declared_type(bench: str) -> str:
    """The benchmark's declared answer type, or ``auto`` when it varies per item."""
    t = get_spec(bench).answer_type
    return t if isinstance(t, str) and t in ANSWER_TYPES else "auto"


def score(bench: str, output: str, gold: object, answer_type: str | None = None,
          choices: Sequence[str] = ()) -> dict:
    """Grade ``output`` for benchmark ``bench``: ``{"pred", "correct", "extractor", ...}``."""
    spec = get_spec(bench)
    g = gold_text(gold)
    atype = answer_type or infer_type(g, declared_type(bench))
    res = grade(output, g, atype, choices, spec.number_policy)
    out: dict = {"pred": res.pred, "correct": res.correct, "extractor": res.extractor}
    if spec.name in GSM8K_LIKE:
        out["strict"] = lm_eval_match(lm_eval_strict(output), g)
        out["flexible"] = lm_eval_match(lm_eval_flexible(output), g)
    if spec.name == "math":
        out["mammoth_lenient"] = res.pred is not None and (res.correct or mammoth_math_equal(res.pred, g))
    return out


def summarize(records: Iterable[dict]) -> dict:
    """Accuracy (and the reference scores present) over graded records."""
    recs = list(records)
    n = len(recs)
    m: dict = {"n": n, "correct": sum(bool(r.get("correct")) for r in recs)}
    m["accuracy"] = m["correct"] / n if n else 0.0
    for key in ("strict", "flexible", "mammoth_lenient"):
        if recs and all(key in r for r in recs):
            m[key] = sum(bool(r[key]) for r in recs) / n
    m["no_answer"] = sum(r.get("pred") is None for r in recs)
    return m
