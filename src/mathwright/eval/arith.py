"""``mathwright eval arith``: exact match and digit match per operation x operand-length bucket.

The format (``--format``, looked up in the formats registry) decides how a problem is turned into a
prompt and how the model's raw text is parsed back to a canonical answer, so a model trained on
reversed digits or a scratchpad is scored on the same answers as a Goat model.

Outputs in ``--out``:

- ``predictions.jsonl`` one line per problem: ``id, op, digits, a, b, prompt, output`` (raw model text),
  ``pred`` (parsed answer or null), ``answer`` (gold), ``correct``, ``digit_match``. Appended as the
  eval goes, keyed by a stable problem id: a killed eval rerun with the same arguments resumes where
  it stopped, with no duplicates and identical metrics.
- ``metrics.json`` top-level ``exact_match`` / ``digit_match`` (fractions in [0, 1], micro-averaged
  over problems), ``buckets`` (per op x length bucket) and ``ops`` (per op).
- ``report.md`` (table) and ``heatmap.png`` (exact match by the two operand lengths).
- ``eval_config.json`` (the settings) and ``fingerprint.json`` (settings + sha256 of the model's files):
  a rerun into the same ``--out`` resumes only when both are unchanged, else exits 2 naming what
  changed (``--fresh`` starts over); see docs/resume.md.

Scoring rules (full answer, ``q R 0`` == ``q``, remainder-free references) are in :mod:`mathwright.eval.metrics`.
"""
from __future__ import annotations

import importlib
import os
import random
from pathlib import Path
from typing import Any, Optional, Sequence

from mathwright.arith.problem import Problem
from mathwright.data.fingerprint import announce_resume, start_eval_dir
from mathwright.io import RecordLog, write_json
from mathwright.eval.arith_suites import Bucket, bucket_problems, check_size, resolve_buckets
from mathwright.eval.metrics import canonical_answer, digit_match, exact_match, summarize
from mathwright.eval.report import markdown_table, write_heatmap, write_report
from mathwright.models.base import GenerationConfig, Model

DEFAULT_TEMPLATE = "{instruction}\nAnswer: "  # Goat's inference prompt (goat.md §5); the trainer's default


def get_format(name: str) -> Any:
    """The format object (a module with ``render`` and ``parse``) registered as ``name`` in ``FORMATS``."""
    from mathwright.formats.registry import FORMATS

    if name in FORMATS:
        obj = FORMATS.get(name)
        return importlib.import_module(obj) if isinstance(obj, str) else obj
    raise ValueError(f"unknown format {name!r}; known: {', '.join(FORMATS.names())}")


class FormatAdapter:
    """The few things eval needs from a format module, with defaults for optional hooks.

    Optional module attributes: ``instruction(problem)`` (default: the canonical expression ``a + b``),
    ``PROMPT_TEMPLATE`` (default ``"{instruction}\\nAnswer: "``) and ``STOP`` (stop strings).
    """

    def __init__(self, fmt: Any, name: str) -> None:
        self.fmt, self.name = fmt, name
        self.template: str = getattr(fmt, "PROMPT_TEMPLATE", DEFAULT_TEMPLATE)
        self.stop: tuple[str, ...] = tuple(getattr(fmt, "STOP", ()))

    def prompt(self, p: Problem) -> str:
        inst = self.fmt.instruction(p) if hasattr(self.fmt, "instruction") else p.expr()
        return self.template.format(instruction=inst)

    def target(self, p: Problem) -> str:
        """The training target text for ``p`` (used to size ``max_new_tokens``)."""
        try:
            rec = self.fmt.render(p, rng=random.Random(0))
        except TypeError:
            rec = self.fmt.render(p)
        return rec["output"] if isinstance(rec, dict) else str(rec)

    def parse(self, text: str) -> Optional[str]:
        """Canonical answer from raw model text, or None when the format cannot read it."""
        try:
            ans = self.fmt.parse(text)
        except (ValueError, KeyError, IndexError, AttributeError):
            return None
        if ans is None or ans == "":  # goat's parse returns "" for "no answer"
            return None
        if isinstance(ans, tuple):  # (q, r)
            ans = f"{ans[0]} R {ans[1]}"
        return canonical_answer(str(ans))


def score(pred: Optional[str], gold: str) -> tuple[bool, float]:
    """(exact match, digit match) of one prediction against the gold answer."""
    return exact_match(pred, gold), digit_match(pred, gold)


def context_length(model: Any) -> Optional[int]:
    """The loaded model's context in tokens (``max_position_embeddings`` or kin), or None when unknown."""
    cfg = getattr(getattr(model, "model", None), "config", None)
    for key in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        v = getattr(cfg, key, None)
        if isinstance(v, int) and v > 0:
            return v
    return None


def check_context(model: Any, fmt: FormatAdapter, buckets: Sequence[Bucket], seed: int,
                  max_new_tokens: Optional[int]) -> None:
    """Refuse (ValueError) buckets whose prompt plus answer cannot fit the model's context.

    Checked on the longest buckets of each op with the model's own tokenizer: first against the bare
    answer (cheap, a lower bound), then against the format's full target (what generation is sized by).
    """
    ctx, tok = context_length(model), getattr(model, "tokenizer", None)
    if ctx is None or tok is None:
        return  # a server or custom model: its own limits apply

    def ntok(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"])

    picks: dict[tuple[str, int, int], Bucket] = {}
    for op in {b.op for b in buckets}:
        mine = [b for b in buckets if b.op == op]
        for key in (lambda b: b.la + b.lb, lambda b: b.la, lambda b: b.lb):
            b = max(mine, key=key)
            picks[(b.op, b.la, b.lb)] = b
    for b in picks.values():
        p = bucket_problems(b, 1, seed)[0]
        n_prompt = ntok(fmt.prompt(p))
        for what, text in (("answer", p.answer_text()), ("target", None)):
            if max_new_tokens is not None:
                n_out, what = max_new_tokens, "--max-new-tokens"
            else:
                n_out = ntok(text if text is not None else fmt.target(p))
            if n_prompt + n_out > ctx:
                raise ValueError(f"{b.label} problems do not fit the model's context: the prompt takes {n_prompt} "
                                 f"tokens and the {what} {n_out}, past its {ctx}-token limit "
                                 f"(max_position_embeddings of {getattr(model, 'name', 'the model')}); lower --digits")
            if max_new_tokens is not None:
                break


def evaluate_problems(model: Model, fmt: FormatAdapter, items: Sequence[tuple[str, Bucket, Problem]], log: RecordLog,
                      batch_size: int, max_new_tokens: Optional[int], progress: bool = True) -> None:
    """Generate and score every item not yet in ``log``, appending one record per problem."""
    todo = [it for it in items if it[0] not in log]
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(items), initial=len(items) - len(todo), desc="eval", unit="problem",
                   disable=os.environ.get("MATHWRIGHT_NO_PROGRESS") == "1")
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        prompts = [fmt.prompt(p) for _, _, p in chunk]
        mnt = max_new_tokens or max(int(len(fmt.target(p)) * 1.25) + 8 for _, _, p in chunk)
        cfg = GenerationConfig(max_new_tokens=mnt, temperature=0.0, n=1, stop=fmt.stop, batch_size=batch_size)
        outs = model.generate(prompts, cfg)
        if len(outs) != len(chunk):
            raise RuntimeError(f"model returned {len(outs)} completions for {len(chunk)} prompts")
        for (pid, bucket, p), prompt, out in zip(chunk, prompts, outs):
            text = out[0] if out else ""
            pred, gold = fmt.parse(text), p.answer_text()
            ok, dm = score(pred, gold)
            log.append({"id": pid, "op": p.op, "digits": [bucket.la, bucket.lb], "bucket": bucket.key,
                        "a": p.a, "b": p.b, "prompt": prompt, "output": text, "pred": pred, "answer": gold,
                        "correct": ok, "digit_match": round(dm, 6)})
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()


def compute_metrics(records: list[dict], buckets: Sequence[Bucket]) -> dict:
    """metrics.json content (without run info): totals, per bucket (suite order) and per op."""
    by_bucket = summarize(records, "bucket")
    by_op = summarize(records, "op")
    out: dict[str, Any] = {"exact_match": by_bucket["exact_match"], "digit_match": by_bucket["digit_match"],
                           "n": by_bucket["n"], "buckets": {}, "ops": by_op["groups"]}
    for b in buckets:
        g = by_bucket["groups"].get(b.key, {"n": 0, "exact_match": 0.0, "digit_match": 0.0})
        out["buckets"][b.key] = {"label": b.label, "op": b.op, "digits": [b.la, b.lb], **g}
    return out


def run_arith_eval(model: str | Model, out: str | os.PathLike, fmt: str = "goat", suite: Optional[str] = None,
                   ops: Optional[str] = None, digits: Optional[str] = None, n: int = 200, mode: str = "full",
                   seed: int = 0, batch_size: int = 16, max_new_tokens: Optional[int] = None,
                   print_table: bool = True, fresh: bool = False) -> dict:
    """Evaluate ``model`` (a spec for :func:`load_model`, or a loaded :class:`Model`) and write the outputs.

    Returns the metrics dict also written to ``metrics.json``. An ``out`` holding predictions resumes only
    when the settings and the model files are unchanged (``fingerprint.json``, docs/resume.md); ``fresh``
    discards them instead.
    """
    if fmt == "caef":  # Turing-machine execution has its own evaluator (issue 4)
        from mathwright.eval.caef_eval import run_caef_eval

        return run_caef_eval(model=model, out=out, fmt=fmt, suite=suite, ops=ops, digits=digits, n=n, mode=mode,
                             seed=seed, batch_size=batch_size, max_new_tokens=max_new_tokens,
                             print_table=print_table, fresh=fresh)
    if mode != "full":
        raise ValueError(f"--mode {mode!r} applies to --format caef only; arith formats use 'full'")
    if n < 1 or batch_size < 1:
        raise ValueError(f"--n and --batch-size must be >= 1 (got {n}, {batch_size})")
    suite_name, buckets = resolve_buckets(suite, ops, digits)
    check_size(buckets, n)
    adapter = FormatAdapter(get_format(fmt), fmt)
    out = Path(out)
    model_name = model if isinstance(model, str) else getattr(model, "name", type(model).__name__)
    config = {"model": str(model_name), "format": fmt, "suite": suite_name, "buckets": [b.key for b in buckets],
              "n_per_bucket": n, "seed": seed, "max_new_tokens": max_new_tokens}
    start_eval_dir(out, "eval arith", config, model, fresh,
                   discard=["predictions.jsonl", "metrics.json", "report.md", "heatmap.png", "eval_config.json"])
    write_json(out / "eval_config.json", config)

    items = [(f"{b.key}:{i}", b, p) for b in buckets for i, p in enumerate(bucket_problems(b, n, seed))]
    with RecordLog(out / "predictions.jsonl", key="id") as log:
        announce_resume(log, [pid for pid, _, _ in items])
        if any(pid not in log for pid, _, _ in items):
            if isinstance(model, str):
                from mathwright.models.base import load_model

                model = load_model(model)
            check_context(model, adapter, buckets, seed, max_new_tokens)
            evaluate_problems(model, adapter, items, log, batch_size, max_new_tokens)
        records = [log.records[pid] for pid, _, _ in items]

    metrics = {**compute_metrics(records, buckets), "model": str(model_name), "format": fmt, "suite": suite_name,
               "seed": seed, "n_per_bucket": n, "remainder_rule": "full"}
    write_json(out / "metrics.json", metrics)
    write_report(out / "report.md", metrics)
    write_heatmap(out / "heatmap.png", metrics)
    if print_table:
        print(markdown_table(metrics))
    return metrics
