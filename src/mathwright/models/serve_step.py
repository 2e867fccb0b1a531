"""The step engine of ``mathwright serve`` (:class:`StepEngine`): round-robin token-level decoding of a
transformers causal LM on one worker thread, a prompt's ``n`` samples sharing one KV cache (:class:`_Group`),
each sample's text decoded incrementally with stop strings cut and their beginnings held back
(:class:`_Choice`). See :mod:`mathwright.models.serve_engine` for how it fits beside the call engine.
"""
from __future__ import annotations

import inspect
import queue
from typing import Any, Optional, Sequence

from mathwright.models.base import cut_at_stop
from mathwright.models.serve_jobs import Delta, Finish, Job, _Engine


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
