"""``mathwright eval arith --format caef``: a model executing CAEF machines, checked step by step.

Writes the same files as the arithmetic eval (``predictions.jsonl`` resumable by id, ``metrics.json`` with
top-level ``exact_match`` and ``digit_match``, ``report.md``) plus CAEF's measures:

- ``step_accuracy``: model steps equal to the oracle's (lock-step), split into ``executor_step_accuracy``
  and ``composer_step_accuracy``;
- ``executor_exact``: problems whose every machine step matched (CAEF's executor-only score, given the
  aligner's q0) vs ``exact_match`` (the whole pipeline: aligner in, machines, aligner out);
- ``aligner_accuracy``: the rule-based aligners checked against exact arithmetic (oracle machine result
  -> answer text).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from mathwright.arith.problem import LABELS, OPS
from mathwright.io import RecordLog, write_json
from mathwright.data.fingerprint import announce_resume, start_eval_dir
from mathwright.eval.arith_suites import MAX_BUCKETS, Bucket, bucket_problems, check_size, resolve_buckets
from mathwright.eval.metrics import digit_match
from mathwright.eval.report import markdown_table, write_report
from mathwright.formats.caef_data import MAX_DIGITS as MAX_CAEF_DIGITS
from mathwright.machines.composers import compute
from mathwright.models.base import Model
from mathwright.machines.aligner import align, expected
from mathwright.solve.caef import OracleModel, solve_problems


CAEF_OPS = OPS  # all seven: add sub mul div eq lt gt


class CaefBucket(Bucket):
    """A bucket for any of the seven CAEF operators."""

    @property
    def label(self) -> str:
        return f"{self.la}D{LABELS[self.op]}{self.lb}D"


def caef_buckets(ops: str, digits: str) -> tuple[CaefBucket, ...]:
    """``--ops add,eq --digits 5,10,50`` (n x n), ``1-3`` (n x n) or ``40x20`` (one shape)."""
    names = [o.strip() for o in ops.split(",") if o.strip()]
    bad = [o for o in names if o not in CAEF_OPS]
    if bad or not names:
        raise ValueError(f"bad --ops {ops!r}: valid ops are {', '.join(CAEF_OPS)}")
    shapes: list[tuple[int, int]] = []
    for part in digits.split(","):
        try:
            if "x" in part:
                la, lb = (int(t) for t in part.split("x"))
                lo, hi = min(la, lb), max(la, lb)
            else:
                lo_t, _, hi_t = part.partition("-")
                lo, hi = int(lo_t), int(hi_t or lo_t)
                la = lb = 0
        except ValueError:
            raise ValueError(f"bad --digits {digits!r}: expected e.g. 5,10,50 or 1-3 or 40x20") from None
        if hi > MAX_CAEF_DIGITS:  # checked before any list is built
            raise ValueError(f"bad --digits {digits!r}: CAEF operands of at most {MAX_CAEF_DIGITS} digits "
                             "(a machine run's steps and states grow with the length)")
        shapes += [(la, lb)] if la else [(i, i) for i in range(lo, hi + 1)]
    if len(shapes) * len(names) > MAX_BUCKETS:
        raise ValueError(f"bad --digits {digits!r}: {len(shapes) * len(names)} buckets; at most {MAX_BUCKETS}")
    if not shapes or min(min(s) for s in shapes) < 1:
        raise ValueError(f"bad --digits {digits!r}: lengths must be >= 1")
    return tuple(CaefBucket(op, la, lb) for op in names for la, lb in shapes)


def _load(model: str | Model) -> Model:
    if not isinstance(model, str):
        return model
    if model == "oracle":
        return OracleModel()
    from mathwright.models.base import load_model

    return load_model(model)


def _aligner_ok(plan) -> bool:
    if plan.machine is None:
        return plan.answer == expected(plan)
    res = compute(plan.machine, plan.a, plan.b)
    rem = None
    if plan.machine == "LDIV":
        from mathwright.machines.executors import rev, val

        rem = rev(val(plan.a) % val(plan.b))
    return plan.finish(res, rem) == expected(plan)


def run_caef_eval(model: str | Model, out: str | os.PathLike, ops: Optional[str] = None,
                  digits: Optional[str] = None, n: int = 20, mode: str = "full", seed: int = 0,
                  batch_size: int = 16, max_new_tokens: Optional[int] = None, suite: Optional[str] = None,
                  machines: str = "long", print_table: bool = True, fresh: bool = False, **_: Any) -> dict:
    """Evaluate ``model`` on CAEF execution; returns the metrics also written to ``metrics.json``."""
    if ops or digits:
        suite_name, buckets = "grid", caef_buckets(ops or "add", digits or "5")
    else:
        suite_name, buckets = resolve_buckets(suite, None, None)
    check_size(buckets, n)
    out = Path(out)
    model_name = model if isinstance(model, str) else getattr(model, "name", type(model).__name__)
    config = {"model": str(model_name), "format": "caef", "mode": mode, "machines": machines, "suite": suite_name,
              "buckets": [b.key for b in buckets], "n_per_bucket": n, "seed": seed}
    start_eval_dir(out, "eval caef", config, model if model != "oracle" else None, fresh,
                   discard=["predictions.jsonl", "metrics.json", "report.md"])
    items = [(f"{b.key}:{i}", b, p) for b in buckets for i, p in enumerate(bucket_problems(b, n, seed))]
    with RecordLog(out / "predictions.jsonl", key="id") as log:
        announce_resume(log, [pid for pid, _, _ in items])
        todo = [it for it in items if it[0] not in log]
        if todo:
            m = _load(model)
            for s in range(0, len(todo), batch_size):
                chunk = todo[s:s + batch_size]
                runs = solve_problems([p for _, _, p in chunk], m, mode=mode, machines=machines, check=True,
                                      batch_size=batch_size)
                for (pid, b, p), r in zip(chunk, runs):
                    gold = expected(r.plan)
                    ex, co = r.ok["executor"], r.ok["composer"]
                    log.append({
                        "id": pid, "bucket": b.key, "op": p.op, "a": str(p.a), "b": str(p.b), "gold": gold,
                        "pred": r.answer, "correct": r.answer == gold,
                        "digit_match": digit_match(r.answer, gold) if r.answer is not None else 0.0,
                        "machine": r.plan.machine, "mode": mode, "steps": r.steps, "chars": r.chars,
                        "seconds": round(r.seconds, 4), "executor_ok": ex[0], "executor_n": ex[1],
                        "composer_ok": co[0], "composer_n": co[1],
                        "all_steps_ok": r.error is None and ex[0] == ex[1] and co[0] == co[1],
                        "aligner_ok": _aligner_ok(r.plan), "first_error": r.first_error, "error": r.error,
                    })
        records = [log.records[pid] for pid, _, _ in items]
    metrics = compute_caef_metrics(records, buckets)
    metrics.update(model=str(model_name), format="caef", mode=mode, machines=machines, suite=suite_name,
                   seed=seed, n_per_bucket=n, remainder_rule="full")
    write_json(out / "metrics.json", metrics)
    write_report(out / "report.md", metrics)
    with open(out / "report.md", "a") as f:
        f.write("\n" + caef_table(metrics) + "\n")
    if print_table:
        print(markdown_table(metrics))
        print(caef_table(metrics))
    return metrics


def _frac(a: float, b: float) -> float:
    return a / b if b else 0.0


def compute_caef_metrics(records: list[dict], buckets) -> dict:
    """Exact/digit match per bucket (as the arith eval) plus CAEF's step and component accuracies."""
    def fig(rs: list[dict]) -> dict:
        ex = sum(r["executor_ok"] for r in rs), sum(r["executor_n"] for r in rs)
        co = sum(r["composer_ok"] for r in rs), sum(r["composer_n"] for r in rs)
        return {"n": len(rs), "exact_match": _frac(sum(r["correct"] for r in rs), len(rs)),
                "digit_match": _frac(sum(r["digit_match"] for r in rs), len(rs)),
                "step_accuracy": _frac(ex[0] + co[0], ex[1] + co[1]),
                "executor_step_accuracy": _frac(*ex), "composer_step_accuracy": _frac(*co),
                "executor_steps": ex[1], "composer_steps": co[1],
                "executor_exact": _frac(sum(r["all_steps_ok"] for r in rs), len(rs)),
                "aligner_accuracy": _frac(sum(r["aligner_ok"] for r in rs), len(rs)),
                "steps_per_problem": _frac(sum(r["steps"] for r in rs), len(rs)),
                "chars_per_problem": _frac(sum(r["chars"] for r in rs), len(rs)),
                "seconds_per_problem": _frac(sum(r["seconds"] for r in rs), len(rs))}

    out = fig(records)
    out["buckets"] = {}
    for b in buckets:
        rs = [r for r in records if r["bucket"] == b.key]
        out["buckets"][b.key] = {"label": b.label, "op": b.op, "digits": [b.la, b.lb], **fig(rs)}
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"


def caef_table(metrics: dict) -> str:
    """Markdown table of the CAEF measures per bucket."""
    rows = ["| task | n | exact % | steps ok % | executor steps % | composer steps % | executor-exact % | "
            "aligner % | model calls | chars gen. | s/problem |", "|---|" + "---:|" * 10]
    for b in list(metrics["buckets"].values()) + [dict(metrics, label="**all**")]:
        rows.append(f"| {b['label']} | {b['n']} | {100 * b['exact_match']:.1f} | {100 * b['step_accuracy']:.2f} | "
                    f"{100 * b['executor_step_accuracy']:.2f} | "
                    f"{_pct(b['composer_step_accuracy']) if b['composer_steps'] else '–'} | "
                    f"{100 * b['executor_exact']:.1f} | {100 * b['aligner_accuracy']:.1f} | "
                    f"{b['steps_per_problem']:.0f} | {b['chars_per_problem']:.0f} | {b['seconds_per_problem']:.3f} |")
    return "\n".join(rows)
