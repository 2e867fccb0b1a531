"""``mathwright eval gsm8k,svamp,... --model M --strategy cot|pot|hybrid|vote --out DIR``.

Writes ``DIR/predictions.jsonl`` (a :class:`RecordLog` keyed by problem id: a killed run resumes where it
stopped, without duplicates), ``DIR/timing.jsonl`` (seconds per solved chunk), ``DIR/metrics.json`` and
``DIR/report.md`` (one row per benchmark). ``DIR/config.json`` pins the settings: resuming with a
different model, strategy, prompt, seed or length is refused, and so is a model whose files changed
(``DIR/fingerprint.json``; ``--fresh`` starts over, docs/resume.md).
"""
from __future__ import annotations

import contextlib
import time
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Sequence

from mathwright.data.benchmarks import get_spec, load_benchmark
from mathwright.io import RecordLog, write_json
from mathwright.eval.score import GRADER, summarize

PINNED = ("model", "strategy", "n_samples", "prompt", "seed", "max_new_tokens")


def _check_config(out: Path, config: dict) -> None:
    import json

    path = out / "config.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        diff = [k for k in PINNED if old.get(k) != config.get(k)]
        if diff:
            changes = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in diff)
            raise ValueError(f"{out} holds a run with different settings ({changes}); use a new --out")
    write_json(path, config)


@contextlib.contextmanager
def _runner(needed: bool, runner: Any) -> Iterator[Any]:
    if runner is not None or not needed:
        yield runner
        return
    from mathwright.sandbox import Limits, SandboxPool

    with SandboxPool(limits=Limits(), workers=2) as pool:
        yield pool


# Bounds on the size-like arguments, checked before anything is loaded or written (docs/resume.md).
MAX_SAMPLES = 1024        # samples per problem (the verifier paper's 100 and self-consistency's 40 fit)
MAX_BATCH = 4096
MAX_NEW_TOKENS = 32768


def check_sizes(*, n_samples: int | None, limit: int | None, batch_size: int, max_new_tokens: int | None) -> None:
    """Refuse sizes that cannot mean anything or would eat the machine (ValueError, exit 2 at the CLI)."""
    bounds = (("--n-samples", n_samples, 1, MAX_SAMPLES), ("--limit", limit, 1, None),
              ("--batch-size", batch_size, 1, MAX_BATCH), ("--max-new-tokens", max_new_tokens, 1, MAX_NEW_TOKENS))
    for flag, value, lo, hi in bounds:
        if value is None:
            continue
        if value < lo or (hi is not None and value > hi):
            want = f"at least {lo}" if hi is None else f"between {lo} and {hi:,}"
            raise ValueError(f"{flag} must be {want} (got {value})")


def run_word_eval(benchmarks: Sequence[str], model: Any, out: str | Path, strategy: str = "cot",
                  n_samples: int | None = None, limit: int | None = None, prompt: str | None = None,
                  seed: int = 0, batch_size: int = 16, max_new_tokens: int | None = None,
                  runner: Any = None, chunk: int | None = None, progress: bool = True, fresh: bool = False) -> dict:
    """Evaluate ``model`` (a spec string or a loaded ``Model``) on ``benchmarks``; returns the metrics.

    ``runner`` (tests) replaces the sandbox pool; ``chunk`` is the number of problems per generate call
    (default ``2 * batch_size``), which is also the resume granularity.
    """
    from mathwright.models.base import GenerationConfig, load_model
    from mathwright.solve.prompts import DEFAULT_PROMPT, PROMPTS
    from mathwright.solve.strategies import STRATEGIES, solve

    out = Path(out)
    check_sizes(n_samples=n_samples, limit=limit, batch_size=batch_size, max_new_tokens=max_new_tokens)
    strat = STRATEGIES.get(strategy).with_samples(n_samples if n_samples and n_samples > 1 else None)
    template = PROMPTS.get(prompt or DEFAULT_PROMPT)
    max_new = max_new_tokens or 512
    sets = {b: load_benchmark(b, limit=limit, seed=seed) for b in benchmarks}  # fail on bad names/files first
    config = {"benchmarks": list(benchmarks), "model": model if isinstance(model, str) else getattr(model, "name", "?"),
              "strategy": strat.name, "n_samples": strat.n, "prompt": template.name, "seed": seed,
              "max_new_tokens": max_new, "limit": limit, "batch_size": batch_size}
    from mathwright.data.fingerprint import announce_resume, start_eval_dir

    def start(reset: bool) -> None:  # the model's files too: new weights at the same path never reuse old predictions
        start_eval_dir(out, "eval words", {k: config[k] for k in PINNED}, model, reset,
                       discard=["predictions.jsonl", "timing.jsonl", "metrics.json", "report.md", "config.json"])

    if fresh:
        start(True)
    _check_config(out, config)  # names changed settings
    start(False)  # names changed model files
    m = load_model(model) if isinstance(model, str) else model
    cfg = GenerationConfig(max_new_tokens=max_new, seed=seed, batch_size=batch_size)
    step = chunk or max(1, 2 * batch_size)
    with RecordLog(out / "predictions.jsonl", key="id") as log, \
            RecordLog(out / "timing.jsonl", key="chunk") as tlog, _runner(strat.needs_sandbox, runner) as run:
        announce_resume(log, [p.id for problems in sets.values() for p in problems])
        for bench, problems in sets.items():
            todo = [p for p in problems if p.id not in log]
            for start in range(0, len(todo), step):
                part = todo[start:start + step]
                t0 = time.perf_counter()
                # a per-chunk sampling seed derived from its first problem: reruns reproduce it
                ccfg = replace(cfg, seed=seed + zlib.crc32(part[0].id.encode()) % 100_000)
                recs = solve(strat, part, m, template, ccfg, run, grader=GRADER)
                dt = time.perf_counter() - t0
                log.extend(recs)
                tlog.append({"chunk": f"{bench}:{part[0].id}", "benchmark": bench, "n": len(part),
                             "seconds": round(dt, 3)})
                if progress:
                    done = len([p for p in problems if p.id in log])
                    print(f"[{bench}] {done}/{len(problems)} ({dt / len(part):.2f} s/problem)", flush=True)
        metrics = _metrics(sets, log.records, tlog.records, config)
    write_json(out / "metrics.json", metrics)
    from mathwright.io import atomic_write

    with atomic_write(out / "report.md") as f:
        f.write(report_table(metrics))
    return metrics


def _metrics(sets: dict, records: dict, timing: dict, config: dict) -> dict:
    per: dict[str, dict] = {}
    for bench, problems in sets.items():
        recs = [records[p.id] for p in problems if p.id in records]
        mb = summarize(recs)
        secs = [t for t in timing.values() if t.get("benchmark") == bench]
        n_t = sum(t["n"] for t in secs)
        mb["seconds_per_problem"] = round(sum(t["seconds"] for t in secs) / n_t, 3) if n_t else None
        samples = [s for r in recs for s in r.get("samples", [])]
        pot = [s for s in samples if s.get("mode") == "pot" or "fallback_from" in s]
        if pot:
            mb["program_failures"] = sum(s.get("status") != "ok" or s.get("pred") is None for s in pot)
            mb["fallbacks"] = sum("fallback_from" in s for s in samples)
        note = get_spec(bench).ceiling_note
        if note:
            mb["note"] = note
        per[bench] = mb
    accs = [v["accuracy"] for v in per.values() if v["n"]]
    return {"config": config, "benchmarks": per, "average": sum(accs) / len(accs) if accs else 0.0}


def report_table(metrics: dict) -> str:
    """A markdown table: one row per benchmark (accuracy, then MAmmoTH v1's own score, MATH's lenient score and
    lm-eval strict/flexible where defined, timing)."""
    c = metrics["config"]
    lines = [f"# Word-problem evaluation: {c['model']} · strategy {c['strategy']} (n={c['n_samples']}) · "
             f"prompt {c['prompt']} · seed {c['seed']}", "",
             "| benchmark | n | accuracy | MAmmoTH v1 (compat) | lenient (MATH) | strict (lm-eval) "
             "| flexible (lm-eval) | no answer | program failures | CoT fallbacks | s/problem |", "|---" * 11 + "|"]

    def pct(v: Any) -> str:
        return f"{100 * v:.1f}%" if isinstance(v, float) else "–"

    for b, m in metrics["benchmarks"].items():
        lines.append(f"| {b} | {m['n']} | {pct(m['accuracy'])} | {pct(m.get('mammoth'))} | {pct(m.get('lenient'))} "
                     f"| {pct(m.get('strict'))} | {pct(m.get('flexible'))} "
                     f"| {m['no_answer']} | {m.get('program_failures', '–')} | {m.get('fallbacks', '–')} "
                     f"| {m['seconds_per_problem'] if m['seconds_per_problem'] is not None else '–'} |")
    lines.append(f"| **average** | | {pct(metrics['average'])} | | | | | | | | |")
    notes = [f"- {b}: {m['note']}" for b, m in metrics["benchmarks"].items() if m.get("note")]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"
