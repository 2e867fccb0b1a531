"""Hybrid CoT/PoT instruction data in MathInstruct's layout, built only from verifiable sources.

MAmmoTH's MathInstruct was written by GPT-4 and filtered by running the programs. Here every record comes
from a source whose answer is known exactly:

- ``gsm8k``: GSM8K train. A CoT record per problem (the reference solution, calculator annotations kept
  or stripped, ending ``The answer is N.``) and a PoT record whose program is derived from the
  annotations (:mod:`mathwright.formats.pot`). Every annotation is checked with exact arithmetic; a PoT
  record is kept only when its program, run in the sandbox, prints the gold answer (MAmmoTH's filter);
  the yield is reported.
- ``arith``: Goat problems; CoT = the Goat output (checked step by step), PoT = a program computing it.
- ``word-problems``: mathwright's synthetic GSM8K-format problems, treated like GSM8K.

Records are ``{"instruction", "output", "source"}``; PoT instructions end with MAmmoTH's trigger
``" Let's write a program."``. The same seed gives the same bytes.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from mathwright.io import DataError, RecordLog, atomic_write, dumps, read_jsonl, write_json
from mathwright.data.word_problems import MAX_PROBLEMS
from mathwright.formats import pot

SOURCES = ("gsm8k", "arith", "word-problems")
REPO = Path(__file__).resolve().parents[3]
# Goat-like arithmetic mix (small operands: this data teaches the format, the Goat generator does scale).
ARITH_SPECS = ("add:1-8x1-8", "sub:1-8x1-8", "mul:1-6x1", "mul:2-4x2-3", "div:1-6x1", "div:2-6x1-3")


def data_root() -> Path:
    """Benchmark data directory: ``$MATHWRIGHT_DATA``, else ``../shared/data`` next to the repo."""
    return Path(os.environ.get("MATHWRIGHT_DATA", REPO.parent / "shared" / "data"))


def default_gsm8k_path() -> Path:
    return data_root() / "gsm8k" / "train.jsonl"


@dataclass
class MathInstructConfig:
    """What to build. ``n_gsm8k=None`` takes every GSM8K train problem (in file order)."""

    sources: tuple[str, ...] = SOURCES
    gsm8k_path: Path | None = None
    n_gsm8k: int | None = None
    n_arith: int = 1000
    n_word: int = 1000
    seed: int = 0
    calculator: bool = False
    workers: int = 2
    comments: bool = False

    def __post_init__(self) -> None:
        unknown = [s for s in self.sources if s not in SOURCES]
        if unknown or not self.sources:
            raise ValueError(f"unknown source(s) {', '.join(unknown) or '(none given)'}; valid sources: {', '.join(SOURCES)}")
        for name in ("n_arith", "n_word", "workers"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        # records are built in memory (and n_arith / n_word each make two): bounded before any work
        for name, hi in (("n_arith", MAX_PROBLEMS), ("n_word", MAX_PROBLEMS), ("workers", 4 * (os.cpu_count() or 1))):
            if getattr(self, name) > hi:
                raise ValueError(f"--{name.replace('_', '-')} {getattr(self, name)}: at most {hi}")
        if self.n_gsm8k is not None and self.n_gsm8k < 0:
            raise ValueError("n_gsm8k must be >= 0")


@dataclass
class SourceStats:
    """Counts for one source; ``pot_yield`` = kept programs / problems."""

    problems: int = 0
    cot_kept: int = 0
    cot_rejected: int = 0
    pot_rendered: int = 0
    pot_kept: int = 0
    failures: Counter = field(default_factory=Counter)

    @property
    def pot_yield(self) -> float:
        return self.pot_kept / self.problems if self.problems else 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["failures"] = dict(sorted(self.failures.items()))
        d["pot_yield"] = round(self.pot_yield, 4)
        return d


def cot_output(solution: str, calculator: bool) -> str:
    """GSM8K solution -> MathInstruct CoT text: steps (annotations kept or stripped), then ``The answer is N.``

    >>> cot_output("She has 3+4 = <<3+4=7>>7 pens.\\n#### 7", calculator=False)
    'She has 3+4 = 7 pens.\\nThe answer is 7.'
    """
    body = solution.rsplit("####", 1)[0].rstrip()
    if not calculator:
        body = pot.strip_annotations(body)
    return f"{body}\nThe answer is {pot.final_answer(solution)}."


def load_gsm8k(path: Path, n: int | None, seed: int) -> list[dict]:
    """GSM8K-format problems from ``path``: all in file order, or a seeded sample of ``n`` (kept in file order)."""
    probs: list[dict] = []
    for line, rec in read_jsonl(path):
        if not isinstance(rec.get("question"), str) or not isinstance(rec.get("answer"), str):
            raise DataError(path, line, "expected string fields 'question' and 'answer'")
        if "####" not in rec["answer"]:
            raise DataError(path, line, "answer has no final '#### N' line")
        probs.append({"question": rec["question"], "answer": rec["answer"]})
    if n is not None and n < len(probs):
        keep = sorted(random.Random(seed).sample(range(len(probs)), n))
        probs = [probs[i] for i in keep]
    return probs


def _gsm_pairs(problems: list[dict], tag: str, cfg: MathInstructConfig, stats: SourceStats
               ) -> list[tuple[dict | None, dict | None, str]]:
    """(CoT record, PoT candidate, gold) per problem; the CoT is None when an annotation is wrong."""
    out = []
    for p in problems:
        stats.problems += 1
        gold = pot.final_answer(p["answer"])
        cot: dict | None = None
        try:
            for s in pot.steps(p["answer"]):
                if not pot.value_matches(s.expr, s.value):
                    raise pot.SolutionError(f"wrong annotation <<{s.expr}={s.value}>>")
            cot = {"instruction": p["question"].strip(), "output": cot_output(p["answer"], cfg.calculator),
                   "source": f"mathwright/CoT/{tag}"}
            stats.cot_kept += 1
        except pot.SolutionError:
            stats.cot_rejected += 1
        cand: dict | None = None
        try:
            r = pot.render(p, comments=cfg.comments)
            cand = {"instruction": r["instruction"], "output": r["output"], "source": f"mathwright/PoT/{tag}"}
            stats.pot_rendered += 1
        except pot.SolutionError as e:
            stats.failures["no_program: " + str(e).split(" <<")[0].split(" '")[0]] += 1
        out.append((cot, cand, gold))
    return out


def _arith_pairs(n: int, seed: int, stats: SourceStats) -> list[tuple[dict | None, dict | None, str]]:
    """Goat records (CoT) and programs (PoT) for ``n`` problems drawn round-robin from :data:`ARITH_SPECS`."""
    from mathwright.arith.sampling import parse_spec, sample_problems
    from mathwright.formats.registry import FORMATS

    goat = FORMATS.get("goat")
    rng = random.Random(seed)
    specs = [parse_spec(s) for s in ARITH_SPECS]
    counts = [n // len(specs) + (i < n % len(specs)) for i in range(len(specs))]
    out = []
    for spec, k in zip(specs, counts):
        for prob in sample_problems(spec, rng, k):
            stats.problems += 1
            rec = goat.render(prob, rng)
            gold = prob.answer_text()
            cot = None
            # goat.check returns None for a valid record, else the first wrong step
            if goat.check(rec) is None and goat.parse(rec["output"]) == gold:
                cot = {"instruction": rec["instruction"], "output": rec["output"], "source": "mathwright/CoT/goat"}
                stats.cot_kept += 1
            else:
                stats.cot_rejected += 1
            instr = cot["instruction"] if cot else f"What is {prob.expr()}?"
            cand = {"instruction": instr + pot.TRIGGER, "output": pot.problem_to_program(prob),
                    "source": "mathwright/PoT/goat"}
            stats.pot_rendered += 1
            out.append((cot, cand, gold))
    return out


CHECK_CHUNK = 256


def check_programs(programs: list[str | None], golds: list[str], pool: Any = None, workers: int = 2,
                   cache: Path | None = None, log: Callable[[str], None] = lambda s: None) -> list[pot.PotCheck]:
    """Sandbox verdicts for every program, in chunks; with ``cache`` (a RecordLog file keyed by a hash of
    program and gold) a killed run resumes without re-running the programs already checked."""
    keys = [hashlib.sha1(f"{p}\0{g}".encode()).hexdigest() if p else "" for p, g in zip(programs, golds)]
    done: dict[str, pot.PotCheck] = {}
    store = RecordLog(cache, key="key") if cache is not None else None
    try:
        if store is not None:
            done = {k: pot.PotCheck(r["ok"], r["status"], r["got"], r["error"]) for k, r in store.records.items()}
        todo = [i for i, p in enumerate(programs) if p and keys[i] not in done]
        if todo:
            ctx = contextlib.nullcontext(pool) if pool is not None else _own_pool(workers)
            with ctx as run:
                for start in range(0, len(todo), CHECK_CHUNK):
                    part = todo[start:start + CHECK_CHUNK]
                    for i, v in zip(part, pot.check_many([programs[i] for i in part], [golds[i] for i in part],
                                                         pool=run)):
                        done[keys[i]] = v
                        if store is not None:
                            store.append({"key": keys[i], "ok": v.ok, "status": v.status, "got": v.got,
                                          "error": v.error})
                    log(f"checked {min(start + CHECK_CHUNK, len(todo))}/{len(todo)} programs")
    finally:
        if store is not None:
            store.close()
    return [done[k] if p else pot.PotCheck(False, "no_program", None) for p, k in zip(programs, keys)]


@contextlib.contextmanager
def _own_pool(workers: int) -> Iterator[Any]:
    from mathwright.sandbox import Limits, SandboxPool

    with SandboxPool(limits=Limits(), workers=max(1, workers)) as p:
        yield p


def build(cfg: MathInstructConfig, pool: Any = None, log: Callable[[str], None] = lambda s: None,
          cache: Path | None = None) -> tuple[list[dict], dict]:
    """Build every record of ``cfg`` (PoT filtered through the sandbox) and the statistics.

    ``pool`` is a running ``SandboxPool``; one with ``cfg.workers`` workers is started when None.
    ``cache`` keeps sandbox verdicts so a killed run resumes (see :func:`check_programs`).
    """
    groups: list[tuple[str, list[tuple[dict | None, dict | None, str]], SourceStats]] = []
    for src in cfg.sources:
        stats = SourceStats()
        sub_seed = cfg.seed * 1000 + SOURCES.index(src)  # independent streams per source
        if src == "gsm8k":
            path = Path(cfg.gsm8k_path or default_gsm8k_path())
            if not path.exists():
                raise DataError(path, None, "GSM8K train file not found (set --gsm8k or MATHWRIGHT_DATA)")
            items = _gsm_pairs(load_gsm8k(path, cfg.n_gsm8k, sub_seed), "gsm8k_train", cfg, stats)
        elif src == "word-problems":
            from mathwright.data.word_problems import generate_word_problems

            probs = generate_word_problems(cfg.n_word, sub_seed) if cfg.n_word else []
            items = _gsm_pairs(list(probs), "word_problems", cfg, stats)
        else:
            items = _arith_pairs(cfg.n_arith, sub_seed, stats) if cfg.n_arith else []
        log(f"{src}: {len(items)} problems prepared")
        groups.append((src, items, stats))

    programs = [c["output"] if c else None for _, items, _ in groups for _, c, _ in items]
    golds = [g for _, items, _ in groups for _, _, g in items]
    log(f"running {sum(p is not None for p in programs)} programs in the sandbox")
    checks = iter(check_programs(programs, golds, pool=pool, workers=cfg.workers, cache=cache, log=log))

    records: list[dict] = []
    meta_sources: dict[str, dict] = {}
    for src, items, stats in groups:
        for cot, cand, _gold in items:
            verdict = next(checks)
            if cot:
                records.append(cot)
            if cand is not None:
                if verdict.ok:
                    records.append(cand)
                    stats.pot_kept += 1
                else:
                    stats.failures[verdict.status] += 1
        meta_sources[src] = stats.as_dict()
    total = {k: sum(m[k] for m in meta_sources.values()) for k in ("problems", "cot_kept", "pot_rendered", "pot_kept")}
    total["pot_yield"] = round(total["pot_kept"] / total["problems"], 4) if total["problems"] else 0.0
    meta = {"config": {**asdict(cfg), "gsm8k_path": str(cfg.gsm8k_path) if cfg.gsm8k_path else None,
                       "sources": list(cfg.sources)},
            "records": len(records), "sources": meta_sources, "total": total,
            "pot_trigger": pot.TRIGGER, "layout": ["instruction", "output", "source"]}
    meta["config"].pop("workers")  # not part of the content: same bytes for any worker count
    return records, meta


def meta_path(out: Path) -> Path:
    """The sidecar with counts and yield: ``data.jsonl`` -> ``data.meta.json``."""
    return Path(out).with_suffix(".meta.json")


def write_records(out: Path, records: Iterable[dict]) -> None:
    """Atomically write JSON Lines, or one JSON array when ``out`` ends in ``.json`` (MathInstruct's own form)."""
    out = Path(out)
    with atomic_write(out) as f:
        if out.suffix == ".json":
            json.dump(list(records), f, ensure_ascii=False, indent=1)
            f.write("\n")
        else:
            for r in records:
                f.write(dumps(r) + "\n")


def generate_mathinstruct(cfg: MathInstructConfig, out: Path, pool: Any = None,
                          log: Callable[[str], None] = lambda s: None) -> dict:
    """Build, write ``out`` and its ``.meta.json`` sidecar; return the meta.

    Sandbox verdicts are logged to a hidden ``.NAME.checks.jsonl`` beside ``out`` while the run lasts, so a
    killed run resumes where it stopped; the log is removed once ``out`` is written."""
    out = Path(out)
    cache = out.with_name(f".{out.name}.checks.jsonl")
    records, meta = build(cfg, pool=pool, log=log, cache=cache)
    write_json(meta_path(out), meta)
    write_records(out, records)
    cache.unlink(missing_ok=True)
    return meta


def yield_table(meta: dict) -> str:
    """A plain-text table of per-source counts and PoT yield."""
    rows = [f"{'source':<14} {'problems':>8} {'CoT':>6} {'PoT kept':>8} {'yield':>7}"]
    for src, m in meta["sources"].items():
        rows.append(f"{src:<14} {m['problems']:>8} {m['cot_kept']:>6} {m['pot_kept']:>8} {m['pot_yield']:>7.1%}")
    t = meta["total"]
    rows.append(f"{'total':<14} {t['problems']:>8} {t['cot_kept']:>6} {t['pot_kept']:>8} {t['pot_yield']:>7.1%}")
    return "\n".join(rows)
