"""``mathwright eval arith``: exact match and digit match per operation x operand-length bucket.

The format (an :class:`~mathwright.formats.contract.ArithFormat` from ``ARITH_FORMATS``) decides how a problem
is turned into a prompt and how the model's raw text is parsed back to a canonical answer, so a model trained
on reversed digits or a scratchpad is scored on the same answers as a Goat model. A model trained by
``mathwright train`` records its format and training prompt in ``mathwright_train.yaml``; ``--format``
only overrides the format, and a model that records none needs it.

Outputs in ``--out``:

- ``predictions.jsonl`` one line per problem: ``id, op, digits, a, b, prompt, output`` (raw model text),
  ``pred`` (parsed answer or null), ``answer`` (gold), ``correct``, ``digit_match``. Appended as the
  eval goes, keyed by a stable problem id: a killed eval rerun with the same arguments resumes where
  it stopped, with no duplicates and identical metrics.
- ``metrics.json`` top-level ``exact_match`` / ``digit_match`` (fractions in [0, 1], micro-averaged
  over problems), ``buckets`` (per op x length bucket) and ``ops`` (per op).
- ``report.md`` (table) and ``heatmap.png`` (exact match by the two operand lengths).
- ``eval_config.json`` (the settings; ``format``, and ``prompt`` when the training prompt is not the shared
  ``"{instruction}\\nAnswer: "``) and ``fingerprint.json`` (settings + sha256 of the model's files):
  a rerun into the same ``--out`` resumes only when both are unchanged, else exits 2 naming what
  changed (``--fresh`` starts over); see docs/resume.md.

Scoring rules (full answer, ``q R 0`` == ``q``, remainder-free references) are in :mod:`mathwright.eval.metrics`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence

from mathwright.arith.problem import Problem
from mathwright.data.fingerprint import announce_resume, start_eval_dir
from mathwright.formats.contract import PROMPT, ArithFormat
from mathwright.formats.registry import arith_format
from mathwright.io import RecordLog, write_json
from mathwright.eval.arith_suites import Bucket, bucket_problems, check_size, resolve_buckets
from mathwright.eval.metrics import canonical_answer, digit_match, exact_match, summarize
from mathwright.eval.report import markdown_table, write_heatmap, write_report
from mathwright.models.base import GenerationConfig, Model
from mathwright.train.record import trained_with



def target(fmt: ArithFormat, p: Problem) -> str:
    """The training target text for ``p`` (what ``max_new_tokens`` is sized by)."""
    return fmt.render(p)["output"]


def read_answer(fmt: ArithFormat, text: str) -> Optional[str]:
    """The canonical answer in raw model text, or None when the format cannot read it."""
    try:
        ans = fmt.parse(text)
    except (ValueError, KeyError, IndexError, AttributeError):  # a format that trips on junk reads nothing
        return None
    return canonical_answer(ans) if ans else None


def resolve_format(model: str | Model, fmt: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """``(format name, prompt template)`` for an eval of ``model``: ``fmt`` when given, else the format its
    directory records (``mathwright_train.yaml``, written by ``mathwright train``); the template is the
    training prompt recorded there (None: the format's own, :data:`PROMPT`). The name is None when neither
    says; :func:`run_arith_eval` then refuses, naming the model."""
    rec = trained_with(model) if isinstance(model, str) else None
    return (fmt or (rec.format if rec else None)), (rec.prompt if rec else None)


def _no_format(model: str | Model) -> ValueError:
    name = model if isinstance(model, str) else getattr(model, "name", type(model).__name__)
    rec = trained_with(model) if isinstance(model, str) else None
    why = ("its mathwright_train.yaml has no format (the training data's .meta.json named none and the recipe "
           "set no format:)" if rec else "it records no format (no mathwright_train.yaml: not trained by mathwright train)")
    return ValueError(f"--format is needed for model {name}: {why}; pass --format NAME, e.g. --format goat")


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


def check_context(model: Any, fmt: ArithFormat, buckets: Sequence[Bucket], seed: int,
                  max_new_tokens: Optional[int], template: Optional[str] = None) -> None:
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
        n_prompt = ntok(fmt.prompt(p, template))
        for what, text in (("answer", p.answer_text()), ("target", None)):
            if max_new_tokens is not None:
                n_out, what = max_new_tokens, "--max-new-tokens"
            else:
                n_out = ntok(text if text is not None else target(fmt, p))
            if n_prompt + n_out > ctx:
                raise ValueError(f"{b.label} problems do not fit the model's context: the prompt takes {n_prompt} "
                                 f"tokens and the {what} {n_out}, past its {ctx}-token limit "
                                 f"(max_position_embeddings of {getattr(model, 'name', 'the model')}); lower --digits")
            if max_new_tokens is not None:
                break


def evaluate_problems(model: Model, fmt: ArithFormat, items: Sequence[tuple[str, Bucket, Problem]], log: RecordLog,
                      batch_size: int, max_new_tokens: Optional[int], progress: bool = True,
                      template: Optional[str] = None) -> None:
    """Generate and score every item not yet in ``log``, appending one record per problem; prompts are
    ``fmt.prompt(problem, template)`` (``template``: the training prompt, None for the format's own)."""
    todo = [it for it in items if it[0] not in log]
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(items), initial=len(items) - len(todo), desc="eval", unit="problem",
                   disable=os.environ.get("MATHWRIGHT_NO_PROGRESS") == "1")
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        prompts = [fmt.prompt(p, template) for _, _, p in chunk]
        mnt = max_new_tokens or max(int(len(target(fmt, p)) * 1.25) + 8 for _, _, p in chunk)
        cfg = GenerationConfig(max_new_tokens=mnt, temperature=0.0, n=1, stop=fmt.stop, batch_size=batch_size)
        outs = model.generate(prompts, cfg)
        if len(outs) != len(chunk):
            raise RuntimeError(f"model returned {len(outs)} completions for {len(chunk)} prompts")
        for (pid, bucket, p), prompt, out in zip(chunk, prompts, outs):
            text = out[0] if out else ""
            pred, gold = read_answer(fmt, text), p.answer_text()
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


def run_arith_eval(model: str | Model, out: str | os.PathLike, fmt: Optional[str] = None, suite: Optional[str] = None,
                   ops: Optional[str] = None, digits: Optional[str] = None, n: int = 200, mode: str = "full",
                   seed: int = 0, batch_size: int = 16, max_new_tokens: Optional[int] = None,
                   print_table: bool = True, fresh: bool = False) -> dict:
    """Evaluate ``model`` (a spec for :func:`load_model`, or a loaded :class:`Model`) and write the outputs.

    ``fmt`` overrides the format the model directory records (:func:`resolve_format`); prompts use the
    training prompt recorded there. Returns the metrics dict also written to ``metrics.json``. An ``out``
    holding predictions resumes only when the settings and the model files are unchanged (``fingerprint.json``,
    docs/resume.md); ``fresh`` discards them instead.
    """
    name, template = resolve_format(model, fmt)
    if name == "caef":  # Turing-machine execution has its own evaluator (issue 4)
        from mathwright.eval.caef_eval import run_caef_eval

        return run_caef_eval(model=model, out=out, fmt=name, suite=suite, ops=ops, digits=digits, n=n, mode=mode,
                             seed=seed, batch_size=batch_size, max_new_tokens=max_new_tokens,
                             print_table=print_table, fresh=fresh)
    if mode != "full":
        raise ValueError(f"--mode {mode!r} applies to --format caef only; arith formats use 'full'")
    if n < 1 or batch_size < 1:
        raise ValueError(f"--n and --batch-size must be >= 1 (got {n}, {batch_size})")
    suite_name, buckets = resolve_buckets(suite, ops, digits)
    check_size(buckets, n)
    if name is None:  # after the cheap argument checks, which need no format
        raise _no_format(model)
    arith = arith_format(name)
    template = None if template == PROMPT else template  # the shared prompt: outputs as before the record
    out = Path(out)
    model_name = model if isinstance(model, str) else getattr(model, "name", type(model).__name__)
    asked = {"prompt": template} if template else {}
    config = {"model": str(model_name), "format": name, "suite": suite_name, "buckets": [b.key for b in buckets],
              "n_per_bucket": n, "seed": seed, "max_new_tokens": max_new_tokens, **asked}
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
            check_context(model, arith, buckets, seed, max_new_tokens, template)
            evaluate_problems(model, arith, items, log, batch_size, max_new_tokens, template=template)
        records = [log.records[pid] for pid, _, _ in items]

    metrics = {**compute_metrics(records, buckets), "model": str(model_name), "format": name, "suite": suite_name,
               "seed": seed, "n_per_bucket": n, "remainder_rule": "full", **asked}
    write_json(out / "metrics.json", metrics)
    write_report(out / "report.md", metrics)
    write_heatmap(out / "heatmap.png", metrics)
    if print_table:
        print(markdown_table(metrics))
    return metrics
