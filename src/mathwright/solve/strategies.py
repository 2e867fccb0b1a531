"""Word-problem solving strategies behind one interface: CoT, PoT, hybrid (PoT, then CoT when the program
fails or prints no answer) and self-consistency majority vote.

A :class:`Strategy` is data: its mode, sampling parameters, number of samples and aggregator.
:func:`solve` runs any strategy over a batch of problems with a model, a prompt template and a program
runner (the sandbox pool; model code never runs in this process), and returns one record per problem. What a
sample's answer is and whether it is right is the :class:`Grader`'s call: solving sits below evaluation and
never imports it; ``eval`` passes its grader in (:data:`mathwright.eval.score.GRADER`).

>>> STRATEGIES.get("vote").n, STRATEGIES.get("hybrid").mode
(10, 'hybrid')
>>> majority_vote(["18", None, "17", "18"])
'18'
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol, Sequence

from mathwright.data.benchmarks import WordProblem
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


class Grader(Protocol):
    """What :func:`solve` asks of grading (``eval`` implements it: :class:`mathwright.eval.score.WordGrader`)."""

    def text(self, problem: WordProblem, output: str) -> dict:
        """A text sample's fields: ``pred`` (its answer or None), ``extractor`` and the reference scores."""

    def program(self, problem: WordProblem, output: str, result: Any) -> dict:
        """A program sample's fields: ``pred`` (from the run's output; None when it failed) and reference scores."""

    def correct(self, problem: WordProblem, pred: str | None) -> bool:
        """Whether the record's answer ``pred`` is right."""

    def references(self, problem: WordProblem, samples: list[dict], aggregator: str) -> dict:
        """The record's reference scores, from its samples (``first``: the first sample's; ``majority``: a vote)."""


def _cot_samples(model: Model, template: PromptTemplate, problems: Sequence[WordProblem], n: int,
                 cfg: GenerationConfig, grader: Grader) -> list[list[dict]]:
    prompts = [template.render(p.question, "cot", model, p.answer_type, p.benchmark) for p in problems]
    outs = model.generate(prompts, replace(cfg, n=n, stop=template.stops("cot")))
    return [[{"mode": "cot", "output": t, **grader.text(p, t)} for t in texts] for p, texts in zip(problems, outs)]


def _pot_samples(model: Model, template: PromptTemplate, problems: Sequence[WordProblem], n: int,
                 cfg: GenerationConfig, runner: Runner, grader: Grader) -> list[list[dict]]:
    prompts = [template.render(p.question, "pot", model, p.answer_type, p.benchmark) for p in problems]
    outs = model.generate(prompts, replace(cfg, n=n, stop=template.stops("pot")))
    codes = [extract_program(t) for texts in outs for t in texts]
    results = runner.map(codes) if codes else []
    it = iter(zip(codes, results))
    result = []
    for p, texts in zip(problems, outs):
        samples = []
        for t in texts:
            code, r = next(it)
            samples.append({"mode": "pot", "output": t, "status": r.status, "stdout": (r.stdout or "")[-400:],
                            "error": (r.error or "")[-400:] or None, **grader.program(p, t, r)})
        result.append(samples)
    return result


def solve(strategy: Strategy, problems: Sequence[WordProblem], model: Model, template: PromptTemplate,
          cfg: GenerationConfig, runner: Runner | None = None, *, grader: Grader) -> list[dict]:
    """Solve ``problems``; one record per problem with every sample, the answer and ``correct`` (as ``grader``
    reads and grades them; records hold no timings, so the same seed gives the same bytes)."""
    if strategy.mode not in ("cot", "pot", "hybrid"):
        raise ValueError(f"strategy {strategy.name!r}: unknown mode {strategy.mode!r}")
    if strategy.needs_sandbox and runner is None:
        raise ValueError(f"strategy {strategy.name!r} runs programs and needs a sandbox runner")
    cfg = replace(cfg, temperature=strategy.temperature, top_p=strategy.top_p)
    if strategy.mode == "cot":
        samples = _cot_samples(model, template, problems, strategy.n, cfg, grader)
    else:
        samples = _pot_samples(model, template, problems, strategy.n, cfg, runner, grader)  # type: ignore[arg-type]
        if strategy.mode == "hybrid":
            # fall back to CoT, sample by sample, wherever the program failed or printed no answer
            need = [i for i, ss in enumerate(samples) if any(s["pred"] is None for s in ss)]
            if need:
                cot = _cot_samples(model, template, [problems[i] for i in need], strategy.n, cfg, grader)
                for i, alt in zip(need, cot):
                    samples[i] = [c | {"fallback_from": s["status"], "pot": s} if s["pred"] is None else s
                                  for s, c in zip(samples[i], alt)]
    records = []
    for p, ss in zip(problems, samples):
        preds = [s["pred"] for s in ss]
        pred = majority_vote(preds) if strategy.aggregator == "majority" else preds[0]
        rec: dict = {"id": p.id, "benchmark": p.benchmark, "gold": p.gold, "answer_type": p.answer_type,
                     "strategy": strategy.name, "pred": pred, "correct": grader.correct(p, pred),
                     "answered_by": ss[0]["mode"] if strategy.aggregator == "first" else "vote"}
        rec.update(grader.references(p, ss, strategy.aggregator))
        rec["samples"] = ss
        records.append(rec)
    return records
