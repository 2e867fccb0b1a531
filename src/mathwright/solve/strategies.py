"""Word-problem solving strategies behind one interface: CoT, PoT, hybrid (PoT, then CoT when the program
fails or prints no answer) and self-consistency majority vote.

A :class:`Strategy` is data: its mode, sampling parameters, number of samples and aggregator.
:func:`solve` runs any strategy over a batch of problems with a model, a prompt template and a program
runner (the sandbox pool; model code never runs in this process), and returns one record per problem.

>>> STRATEGIES.get("vote").n, STRATEGIES.get("hybrid").mode
(10, 'hybrid')
>>> majority_vote(["18", None, "17", "18"])
'18'
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol, Sequence

from mathwright.data.benchmarks import WordProblem, get_spec
from mathwright.eval.grading import answers_equal, program_answer
from mathwright.eval.compat import UNKNOWN, mammoth_correct, mammoth_vote
from mathwright.eval.score import REFERENCE_SCORES, mammoth_fields, mammoth_program_fields, score
from mathwright.models.base import GenerationConfig, Model
from mathwright.registry import Registry
from mathwright.solve.prompts import PromptTemplate, extract_program
from mathwright.solve.rerank import majority_vote


@dataclass(frozen=True)
class Strategy:
    """``mode``: cot | pot | hybrid; ``aggregator``: first | majority."""

    name: str
    mode: str
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    aggregator: str = "first"

    @property
    def needs_sandbox(self) -> bool:
        return self.mode in ("pot", "hybrid")

    def with_samples(self, n: int | None) -> "Strategy":
        """The same strategy with ``n`` samples (a majority vote needs n > 1; greedy ones ignore n = 1)."""
        if n is None or n == self.n or (self.aggregator == "first" and n == 1):
            return self
        if n < 1:
            raise ValueError("n_samples must be >= 1")
        if self.aggregator == "first":
            # several samples of a greedy strategy only make sense as a vote
            return replace(self, name=f"{self.name}-vote", n=n, temperature=0.7, aggregator="majority")
        return replace(self, n=n)


STRATEGIES: Registry[Strategy] = Registry("strategies")
for _s in (Strategy("cot", "cot"), Strategy("pot", "pot"), Strategy("hybrid", "hybrid"),
           Strategy("vote", "cot", n=10, temperature=0.7, aggregator="majority"),  # MAmmoTH run_open_sc
           Strategy("vote-pot", "pot", n=10, temperature=0.7, aggregator="majority"),
           Strategy("vote-hybrid", "hybrid", n=10, temperature=0.7, aggregator="majority")):
    STRATEGIES.add(_s.name, _s)
STRATEGIES.add("sc", STRATEGIES.get("vote"))


class Runner(Protocol):
    """What :func:`solve` needs from the sandbox: ``map(codes) -> results`` with ``status``, ``stdout``,
    ``error`` and ``answer`` (the ``ans``/``answer`` variable, as text) attributes."""

    def map(self, codes: Sequence[str]) -> list[Any]: ...


def _cot_samples(model: Model, template: PromptTemplate, problems: Sequence[WordProblem], n: int,
                 cfg: GenerationConfig) -> list[list[dict]]:
    prompts = [template.render(p.question, "cot", model, p.answer_type, p.benchmark) for p in problems]
    outs = model.generate(prompts, replace(cfg, n=n, stop=template.stops("cot")))
    result = []
    for p, texts in zip(problems, outs):
        samples = []
        for t in texts:
            s = score(p.benchmark, t, p.gold, p.answer_type, p.choices, p.meta.get("answer_num", UNKNOWN))
            samples.append({"mode": "cot", "output": t, **{k: s[k] for k in s if k != "correct"}})
        result.append(samples)
    return result


def _pot_samples(model: Model, template: PromptTemplate, problems: Sequence[WordProblem], n: int,
                 cfg: GenerationConfig, runner: Runner) -> list[list[dict]]:
    prompts = [template.render(p.question, "pot", model, p.answer_type, p.benchmark) for p in problems]
    outs = model.generate(prompts, replace(cfg, n=n, stop=template.stops("pot")))
    codes = [extract_program(t) for texts in outs for t in texts]
    results = runner.map(codes) if codes else []
    it = iter(zip(codes, results))
    result = []
    for p, texts in zip(problems, outs):
        policy = get_spec(p.benchmark).number_policy
        samples = []
        for t in texts:
            code, r = next(it)
            pred = program_answer(r.stdout or "", r.answer, p.answer_type, p.choices, policy) \
                if r.status == "ok" else None
            samples.append({"mode": "pot", "output": t, "status": r.status, "stdout": (r.stdout or "")[-400:],
                            "error": (r.error or "")[-400:] or None, "pred": pred,
                            **_mammoth_pot(p, t, r)})
        result.append(samples)
    return result


def _mammoth_pot(p: WordProblem, output: str, r: Any) -> dict:
    """MAmmoTH's verdict on a PoT sample: it runs only an output containing ``print(`` and scores its stdout;
    any other output it scores as text."""
    num = p.meta.get("answer_num", UNKNOWN)
    if "print(" in output:
        return mammoth_program_fields(p.benchmark, r.stdout or "", r.status == "ok", p.gold, num)
    return mammoth_fields(p.benchmark, output, p.gold, num)


def solve(strategy: Strategy, problems: Sequence[WordProblem], model: Model, template: PromptTemplate,
          cfg: GenerationConfig, runner: Runner | None = None) -> list[dict]:
    """Solve ``problems``; one record per problem with every sample, the answer and ``correct``
    (records hold no timings, so the same seed gives the same bytes)."""
    if strategy.mode not in ("cot", "pot", "hybrid"):
        raise ValueError(f"strategy {strategy.name!r}: unknown mode {strategy.mode!r}")
    if strategy.needs_sandbox and runner is None:
        raise ValueError(f"strategy {strategy.name!r} runs programs and needs a sandbox runner")
    cfg = replace(cfg, temperature=strategy.temperature, top_p=strategy.top_p)
    if strategy.mode == "cot":
        samples = _cot_samples(model, template, problems, strategy.n, cfg)
    else:
        samples = _pot_samples(model, template, problems, strategy.n, cfg, runner)  # type: ignore[arg-type]
        if strategy.mode == "hybrid":
            # fall back to CoT, sample by sample, wherever the program failed or printed no answer
            need = [i for i, ss in enumerate(samples) if any(s["pred"] is None for s in ss)]
            if need:
                cot = _cot_samples(model, template, [problems[i] for i in need], strategy.n, cfg)
                for i, alt in zip(need, cot):
                    samples[i] = [c | {"fallback_from": s["status"], "pot": s} if s["pred"] is None else s
                                  for s, c in zip(samples[i], alt)]
    records = []
    for p, ss in zip(problems, samples):
        preds = [s["pred"] for s in ss]
        pred = majority_vote(preds) if strategy.aggregator == "majority" else preds[0]
        rec: dict = {"id": p.id, "benchmark": p.benchmark, "gold": p.gold, "answer_type": p.answer_type,
                     "strategy": strategy.name, "pred": pred, "correct": answers_equal(pred, p.gold, p.answer_type),
                     "answered_by": ss[0]["mode"] if strategy.aggregator == "first" else "vote"}
        if strategy.aggregator == "first":
            for k in (*REFERENCE_SCORES, "mammoth_pred"):
                if k in ss[0]:
                    rec[k] = ss[0][k]
        elif all("mammoth_pred" in s for s in ss):  # MAmmoTH's run_open_sc.py vote over its own answers
            rec["mammoth_pred"] = mammoth_vote([s["mammoth_pred"] for s in ss])
            rec["mammoth"] = mammoth_correct(p.benchmark, rec["mammoth_pred"], p.gold,
                                             p.meta.get("answer_num", UNKNOWN))
        rec["samples"] = ss
        records.append(rec)
    return records
