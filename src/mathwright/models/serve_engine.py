"""The generation engines behind ``mathwright serve``: a bounded queue of jobs, each streaming events back.

A :class:`Job` is one HTTP request (one or more prompts, ``n`` samples each). Engines emit, per sample
index, :class:`Delta` text pieces and one :class:`Finish`; the joined deltas of an index are exactly the
completion the unstreamed response returns (both are read from the same events).

- :class:`StepEngine` (transformers models: anything with ``.model`` and ``.tokenizer``, i.e. ``HFModel``):
  its own decoding loop on one worker thread. Every turn it advances each running prompt by one token (or
  one prefill chunk), round-robin, so a short request finishes while a long one is still running; a
  cancelled job (client gone) is dropped at the next turn. Sampling draws from a ``torch.Generator`` per
  prompt, so the same seed gives the same text whatever else runs at the same time.
- :class:`CallEngine` (any other :class:`~mathwright.models.base.Model`, e.g. vLLM or llama.cpp backends):
  jobs run one at a time through ``generate`` (or ``stream(prompt, cfg)`` when the backend has one, which
  yields text pieces and is checked for cancellation between pieces).

The jobs, events and queue are in :mod:`mathwright.models.serve_jobs`, the step engine in
:mod:`mathwright.models.serve_step`; this module is the call engine and :func:`engine_for`, and re-exports the rest.

Both refuse a job with :class:`Busy` when ``max_queue`` jobs are already waiting or running. The step
engine also bounds memory: running jobs may together fill at most ``budget`` tokens of KV cache (prompts
plus ``max_tokens``, times ``n``); a job that does not fit waits, in order, while later ones that fit start.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from mathwright.models.base import GenerationConfig, Model
from mathwright.models.serve_jobs import Busy, Delta, Event, Failed, Finish, Job, Work, _Engine
from mathwright.models.serve_step import StepEngine

__all__ = ["Busy", "Work", "Delta", "Finish", "Failed", "Event", "Job", "StepEngine", "CallEngine", "engine_for"]


class CallEngine(_Engine):
    """Any ``Model``: one job at a time through ``generate`` (or ``stream``), cancellable between prompts."""

    def __init__(self, model: Model, max_queue: int = 128, context: Optional[int] = None) -> None:
        super().__init__(max_queue)
        self.m = model
        self.context = context or getattr(model, "context_length", None)

    def count_tokens(self, text: str) -> int:
        """The backend's own count (``tokens(text)``) when it has one, else characters (an upper bound for
        every tokenizer whose vocabulary has the single characters)."""
        tokens = getattr(self.m, "tokens", None)
        return int(tokens(text)) if callable(tokens) else len(text)

    def _run(self) -> None:
        while True:
            job = self.intake.get()
            try:
                if not job.cancelled.is_set():
                    self._serve(job)
                self._retire(job)
            except Exception as e:  # report, keep serving
                self._retire(job, e)

    def _serve(self, job: Job) -> None:
        w = job.work
        stream = getattr(self.m, "stream", None)
        for p, prompt in enumerate(w.prompts):
            if job.cancelled.is_set():
                return
            cfg = GenerationConfig(max_new_tokens=w.max_tokens, temperature=w.temperature, top_p=w.top_p,
                                   n=w.n, stop=w.stop, seed=(w.seed + p) & (2**63 - 1))
            if callable(stream):  # one sample at a time, a stream of pieces checked for cancellation
                for j in range(w.n):
                    text = ""
                    for piece in stream(prompt, replace(cfg, n=1, seed=(cfg.seed + j) & (2**63 - 1))):
                        if job.cancelled.is_set():
                            return
                        text += piece
                        job.emit(Delta(p * w.n + j, piece))
                    self._finish(job, p * w.n + j, text)
                continue
            for j, text in enumerate(self.m.generate([prompt], cfg)[0]):
                job.emit(Delta(p * w.n + j, text))
                self._finish(job, p * w.n + j, text)

    def _finish(self, job: Job, idx: int, text: str) -> None:
        n_tok = self.count_tokens(text) - self.count_tokens("")  # without the BOS some backends count
        job.emit(Finish(idx, "length" if n_tok >= job.work.max_tokens else "stop", n_tok))


def engine_for(model: Model, max_queue: int = 128, context: Optional[int] = None,
               budget: Optional[int] = None) -> _Engine:
    """The step engine for transformers models, the call engine for every other backend.

    ``context`` lowers (or, for a backend that does not say, sets) the context length; ``budget`` bounds the
    tokens of KV cache running jobs may hold together (default: four full contexts).
    """
    if hasattr(model, "model") and hasattr(model, "tokenizer") and hasattr(getattr(model, "model"), "config"):
        eng: _Engine = StepEngine(model, max_queue=max_queue)
        if context:
            eng.context = min(context, eng.context) if eng.context else context
        eng.budget = budget or (4 * eng.context if eng.context else None)
        return eng
    return CallEngine(model, max_queue=max_queue, context=context)
