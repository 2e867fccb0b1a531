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

Both refuse a job with :class:`Busy` when ``max_queue`` jobs are already waiting or running. The step
engine also bounds memory: running jobs may together fill at most ``budget`` tokens of KV cache (prompts
plus ``max_tokens``, times ``n``); a job that does not fit waits, in order, while later ones that fit start.
"""
from __future__ import annotations

import asyncio
import inspect
import queue
import threading
from dataclasses import dataclass, replace
from typing import Any, Optional, Sequence, Union

from mathwright.models.base import GenerationConfig, Model, cut_at_stop


class Busy(RuntimeError):
    """The queue is full: the caller should answer 503 and the client retry later."""


@dataclass(frozen=True)
class Work:
    """What one request asks for (already validated and capped by the HTTP layer)."""

    prompts: tuple[str, ...]
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int = 0
    ignore_eos: bool = False


@dataclass(frozen=True)
class Delta:
    index: int  # choice index: prompt_index * n + sample
    text: str


@dataclass(frozen=True)
class Finish:
    index: int
    reason: str  # "stop" | "length"
    tokens: int  # completion tokens of this choice


@dataclass(frozen=True)
class Failed:
    message: str


Event = Union[Delta, Finish, Failed]


class Job:
    """A submitted request: the engine thread emits events, the HTTP handler awaits them in its event loop."""

    def __init__(self, work: Work, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.work = work
        self.loop = loop
        self.events: "asyncio.Queue[Event] | queue.Queue[Event]" = asyncio.Queue() if loop else queue.Queue()
        self.cancelled = threading.Event()
        self.finished = threading.Event()
        self.open = work.n * len(work.prompts)  # choices not yet finished
        self.left = len(work.prompts)  # engine's count of prompts still running
        self.need = 0  # tokens of KV cache the job may fill (prompts + max_tokens, times n)

    def cancel(self) -> None:
        self.cancelled.set()

    def emit(self, ev: Event) -> None:
        if isinstance(ev, Finish):
            self.open -= 1
        if isinstance(ev, Failed) or self.open <= 0:
            self.finished.set()
        if self.loop is None:
            self.events.put(ev)
            return
        try:
            self.loop.call_soon_threadsafe(self.events.put_nowait, ev)
        except RuntimeError:  # the server's loop is gone: nobody is listening
            self.cancel()


class _Engine:
    """The queue, its bound and the worker thread (started on first use)."""

    def __init__(self, max_queue: int = 128) -> None:
        self.max_queue = max_queue
        self.intake: "queue.Queue[Job]" = queue.Queue()
        self.lock = threading.Lock()
        self.pending = 0  # submitted, not yet finished or dropped
        self.stats = {"completed": 0, "cancelled": 0, "refused": 0, "failed": 0}
        self._thread: Optional[threading.Thread] = None
        self.context: Optional[int] = None  # prompt + completion tokens the model can hold (None: unknown)
        self.budget: Optional[int] = None  # see StepEngine

    def count_tokens(self, text: str) -> int:
        raise NotImplementedError

    def submit(self, work: Work, loop: Optional[asyncio.AbstractEventLoop] = None) -> Job:
        with self.lock:
            if self.pending >= self.max_queue:
                self.stats["refused"] += 1
                raise Busy(f"{self.pending} requests are waiting or running (limit {self.max_queue}); retry later")
            self.pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mathwright-serve", daemon=True)
                self._thread.start()
        job = Job(work, loop)
        self.intake.put(job)
        return job

    def _retire(self, job: Job, error: Optional[BaseException] = None) -> None:
        with self.lock:
            self.pending -= 1
            key = "failed" if error is not None else "cancelled" if job.cancelled.is_set() else "completed"
            self.stats[key] += 1
        if error is not None:
            job.emit(Failed(f"{type(error).__name__}: {error}"))

    def _run(self) -> None:
        raise NotImplementedError


def _stop_overlap(text: str, stops: Sequence[str]) -> int:
    """Length of the longest tail of ``text`` that is a proper prefix of a stop string (held back when
    streaming, since the next token may complete the stop string and the text is then cut there).

    >>> _stop_overlap("12 + 3\\nQue", ["\\nQuestion:"])
    4
    """
    best = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), best, -1):
            if text.endswith(s[:k]):
                best = k
                break
    return best


class _Choice:
    """One sample's decoded text, incrementally (vLLM's prefix/read offsets, so a multi-token character is
    emitted once it is complete), with stop strings cut and their possible beginnings held back."""

    def __init__(self, index: int, tok: Any, stop: tuple[str, ...]) -> None:
        self.index, self.tok, self.stop = index, tok, stop
        self.ids: list[int] = []
        self.text, self.sent = "", 0
        self.prefix_off = self.read_off = 0
        self.done = False

    def push(self, token: int) -> Optional[str]:
        """Add a token; return the stop-cut text if a stop string has now appeared, else None."""
        self.ids.append(token)
        prev = self.tok.decode(self.ids[self.prefix_off:self.read_off], skip_special_tokens=True)
        cur = self.tok.decode(self.ids[self.prefix_off:], skip_special_tokens=True)
        if len(cur) > len(prev) and not cur.endswith("\ufffd"):
            added = cur[len(prev):]
            self.text += added
            self.prefix_off, self.read_off = self.read_off, len(self.ids)
            if self.stop:
                start = max(0, len(self.text) - len(added) - max(len(s) for s in self.stop))
                if any(self.text.find(s, start) != -1 for s in self.stop if s):
                    return cut_at_stop(self.text, self.stop)
        return None

    def ready(self) -> str:
        """Text that can be sent now (nothing a later stop string could cut)."""
        safe = len(self.text) - _stop_overlap(self.text, self.stop)
        if safe <= self.sent:
            return ""
        piece, self.sent = self.text[self.sent:safe], safe
        return piece

    def final(self, cut: Optional[str] = None) -> str:
        """The rest of the final text (the full decode, cut at the first stop string)."""
        full = cut if cut is not None else cut_at_stop(self.tok.decode(self.ids, skip_special_tokens=True), self.stop)
        sent = self.text[:self.sent]
        if not full.startswith(sent):  # cannot happen for prefix-stable decoders; never send text twice
            return ""
        return full[len(sent):]


class _Group:
    """One prompt of a job with its ``n`` samples: KV cache, sampler and per-sample text."""

    def __init__(self, job: Job, p: int, ids: list[int], engine: "StepEngine") -> None:
        import torch

        w = job.work
        self.job, self.engine, self.ids, self.pos = job, engine, ids, 0
        self.cache: Any = None
        self.logits: Any = None
        self.gen = torch.Generator().manual_seed((w.seed + p) & (2**63 - 1))
        self.choices = [_Choice(p * w.n + j, engine.tok, w.stop) for j in range(w.n)]

    @property
    def done(self) -> bool:
        return all(c.done for c in self.choices)

    def step(self) -> None:
        """Advance by one prefill chunk, or by one token for every unfinished sample."""
        import torch

        w = self.job.work
        with torch.inference_mode():
            if self.pos < len(self.ids):
                chunk = self.ids[self.pos:self.pos + self.engine.prefill_chunk]
                out = self.engine.forward(torch.tensor([chunk]), self.cache)
                self.cache, self.pos = out[self.engine.cache_kw], self.pos + len(chunk)
                if self.pos >= len(self.ids):
                    self.logits = out.logits[:, -1, :].float()
                    if w.n > 1:
                        self.cache.batch_repeat_interleave(w.n)
                        self.logits = self.logits.repeat_interleave(w.n, 0)
                return
            nxt = self._sample(self.logits)
            for c, t in zip(self.choices, nxt.tolist()):
                if not c.done:
                    self._advance(c, t)
            if not self.done:
                out = self.engine.forward(nxt.view(-1, 1), self.cache)
                self.cache, self.logits = out[self.engine.cache_kw], out.logits[:, -1, :].float()

    def _sample(self, logits: Any) -> Any:
        import torch

        w = self.job.work
        if not w.temperature:
            return logits.argmax(-1)
        logits = logits / w.temperature
        if w.top_p < 1.0:  # nucleus, as transformers' TopPLogitsWarper: drop the tail below 1 - top_p
            srt, idx = torch.sort(logits, descending=False)
            drop = srt.softmax(-1).cumsum(-1) <= 1 - w.top_p
            drop[:, -1] = False
            logits = logits.masked_fill(drop.scatter(1, idx, drop), float("-inf"))
        return torch.multinomial(logits.softmax(-1), 1, generator=self.gen).view(-1)

    def _advance(self, c: _Choice, token: int) -> None:
        w, job = self.job.work, self.job
        if token in self.engine.eos and not w.ignore_eos:
            return self._finish(c, "stop")
        cut = c.push(token)
        if cut is not None:
            return self._finish(c, "stop", cut)
        if len(c.ids) >= w.max_tokens:
            return self._finish(c, "length")
        piece = c.ready()
        if piece:
            job.emit(Delta(c.index, piece))

    def _finish(self, c: _Choice, reason: str, cut: Optional[str] = None) -> None:
        c.done = True
        rest = c.final(cut)
        if rest:
            self.job.emit(Delta(c.index, rest))
        self.job.emit(Finish(c.index, reason, len(c.ids)))


class StepEngine(_Engine):
    """Round-robin token-level decoding of a transformers causal LM (see the module docstring)."""

    def __init__(self, hf_model: Any, max_queue: int = 128, prefill_chunk: int = 256,
                 budget: Optional[int] = None) -> None:
        super().__init__(max_queue)
        self.model, self.tok, self.prefill_chunk = hf_model.model, hf_model.tokenizer, prefill_chunk
        conf = self.model.config
        self.context = getattr(conf, "max_position_embeddings", None) or getattr(conf, "n_positions", None)
        self.budget = budget  # tokens of KV cache all running jobs may fill together (None: no bound)
        eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        eos = [eos] if isinstance(eos, int) else list(eos or [])
        self.eos = set(eos) | ({self.tok.eos_token_id} if self.tok.eos_token_id is not None else set())
        params = inspect.signature(self.model.forward).parameters
        # transformers 5 renamed past_key_values to cache (and the output field with it)
        self.cache_kw = "cache" if "cache" in params else "past_key_values"
        keep = next((k for k in ("logits_to_keep", "num_logits_to_keep") if k in params), None)
        self.keep = {keep: 1} if keep else {}  # prefill: logits of the last position only

    def forward(self, ids: Any, cache: Any) -> Any:
        return self.model(input_ids=ids, use_cache=True, **{self.cache_kw: cache}, **self.keep)

    def encode(self, text: str) -> list[int]:
        """Prompt ids as the engine feeds them: with the tokenizer's specials (BOS), unless the text already
        starts with the BOS string (a chat template's rendering) and a second one would be added."""
        bos = self.tok.bos_token
        return self.tok(text, add_special_tokens=not (bos and text.startswith(bos)))["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def _run(self) -> None:
        groups: list[_Group] = []  # running
        waiting: list[tuple[Job, list[_Group]]] = []  # opened, waiting for room in the token budget
        while True:
            new = [] if groups or waiting else [self.intake.get()]  # idle: sleep until a job comes
            while True:
                try:
                    new.append(self.intake.get_nowait())
                except queue.Empty:
                    break
            waiting += [(job, gs) for job in new for gs in [self._open(job)] if gs]
            groups += self._admit(waiting, groups)
            alive: list[_Group] = []
            for g in groups:
                error: Optional[BaseException] = None
                if not g.job.cancelled.is_set() and g.job.left > 0:
                    try:
                        g.step()
                    except Exception as e:  # a broken job must not take the server down
                        error = e
                if error is None and not g.job.cancelled.is_set() and g.job.left > 0 and not g.done:
                    alive.append(g)
                    continue
                g.cache = None
                if error is not None or g.job.cancelled.is_set():
                    if g.job.left > 0:  # retire once, drop its other groups
                        g.job.left = 0
                        self._retire(g.job, error)
                elif g.done:
                    g.job.left -= 1
                    if g.job.left == 0:
                        self._retire(g.job)
            groups = alive

    def _admit(self, waiting: list[tuple[Job, list[_Group]]], running: list[_Group]) -> list[_Group]:
        """Take waiting jobs, in order, that fit the token budget beside the running ones (a job alone
        always runs); drop the cancelled ones. ``waiting`` is updated in place."""
        used = sum(j.need for j in {id(g.job): g.job for g in running}.values())
        admitted: list[_Group] = []
        for entry in list(waiting):
            job, gs = entry
            if job.cancelled.is_set():
                waiting.remove(entry)
                self._retire(job)
            elif self.budget is None or used + job.need <= self.budget or not (running or admitted):
                waiting.remove(entry)
                admitted += gs
                used += job.need
        return admitted

    def _open(self, job: Job) -> list[_Group]:
        if job.cancelled.is_set():
            self._retire(job)
            return []
        try:
            gs = [_Group(job, p, self.encode(text), self) for p, text in enumerate(job.work.prompts)]
        except Exception as e:
            self._retire(job, e)
            return []
        job.left = len(gs)
        job.need = sum(len(g.ids) + job.work.max_tokens for g in gs) * job.work.n
        return gs


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
