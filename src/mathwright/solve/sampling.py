"""N calculator-augmented samples per problem, labelled by final answer, resumable.

One JSONL record per problem (a :class:`~mathwright.io.RecordLog` keyed by ``id``), so a killed run
resumes at the next unfinished problem without losing or duplicating samples::

    {"id": ..., "question": ..., "gold": "18", "temperature": 0.7, "seed": 0,
     "samples": [...N completions...], "preds": [...final answers or null...], "correct": [...bools...]}

The prompt's KV cache is shared across the N samples (HF: one prefill fanned out; vLLM/HTTP: ``n``).
Labels follow verifiers.md: a sample is correct iff its final ``#### N`` equals the reference's.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Iterable, Sequence

from mathwright.io import RecordLog
from mathwright.formats.gsm import is_correct, parse
from mathwright.models.base import GenerationConfig, Model
from mathwright.solve.calculator import calculator_generate

PROMPT = "Question: {question}\nAnswer: "


def gold_of(rec: dict) -> str:
    """The reference final answer of a GSM-style record (``answer`` text with ``####``, or ``gold``)."""
    if "gold" in rec and rec["gold"] is not None:
        return str(rec["gold"])
    g = parse(rec["answer"])
    if g is None:
        raise ValueError(f"record {rec.get('id')!r}: no '#### N' in its answer")
    return g


def label(samples: Sequence[str], gold: str) -> tuple[list[str | None], list[bool]]:
    """Final answers and correctness of each sample.

    >>> label(["a\\n#### 18", "b\\n#### 1,8", "no answer"], "18")
    (['18', '18', None], [True, True, False])
    """
    return [parse(s) for s in samples], [is_correct(s, gold) for s in samples]


def sample_problems(model: Model | str, problems: Iterable[dict], out: str | os.PathLike, *, n: int = 100,
                    temperature: float = 0.7, max_new_tokens: int = 256, seed: int = 0,
                    problems_per_batch: int = 4, prompt: str = PROMPT, calculator: bool = True,
                    stop: tuple[str, ...] = ("\nQuestion:",), progress: bool = True) -> dict[str, dict]:
    """Sample ``n`` solutions per problem into ``out`` (resumable); returns ``{id: record}`` for all problems.

    Each batch's seed is derived from ``seed`` and the first problem id in it, so a resumed run draws the
    same samples for the remaining problems as an uninterrupted one (for a fixed batch grouping).
    ``model`` is a loaded :class:`Model` or a spec for :func:`~mathwright.models.base.load_model` (HF, ``vllm:``,
    ``llamacpp:``, ``http://``), loaded only if some problem is still to sample.
    """
    problems = list(problems)
    log = RecordLog(out, key="id")
    todo = [p for p in problems if p["id"] not in log]
    it = range(0, len(todo), problems_per_batch)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc=f"sampling {n}/problem", unit="batch")
    if isinstance(model, str) and todo:
        from mathwright.models.base import load_model

        model = load_model(model)
    gen = calculator_generate if calculator else (lambda m, ps, c: m.generate(ps, c))
    try:
        for b in it:
            chunk = todo[b : b + problems_per_batch]
            idx = problems.index(chunk[0])
            cfg = GenerationConfig(max_new_tokens=max_new_tokens, temperature=temperature, n=n, stop=stop,
                                   seed=seed * 1_000_003 + idx, batch_size=len(chunk))
            outs = gen(model, [prompt.format(question=p["question"]) for p in chunk], cfg)
            for p, samples in zip(chunk, outs):
                g = gold_of(p)
                preds, correct = label(samples, g)
                log.append({"id": p["id"], "question": p["question"], "gold": g, "temperature": temperature,
                            "seed": seed, "samples": samples, "preds": preds, "correct": correct})
    finally:
        log.close()
    return {k: v for k, v in log.records.items()}


def flatten(records: Iterable[dict], prompt: str = PROMPT) -> list[dict]:
    """One row per sample for verifier training: ``{id, prompt, completion, correct}``."""
    rows = []
    for r in records:
        for j, (s, c) in enumerate(zip(r["samples"], r["correct"])):
            rows.append({"id": f"{r['id']}#{j}", "problem": r["id"], "prompt": prompt.format(question=r["question"]),
                         "completion": s, "correct": bool(c)})
    return rows
