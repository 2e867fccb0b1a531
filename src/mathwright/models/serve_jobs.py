"""What ``mathwright serve``'s engines share: a request (:class:`Work`), the events a job streams back
(:class:`Delta`, :class:`Finish`, :class:`Failed`), the submitted :class:`Job` that carries them to the HTTP
handler's event loop, and the bounded queue with its worker thread (:class:`_Engine`; full: :class:`Busy`).
The engines themselves are in :mod:`mathwright.models.serve_engine` and :mod:`mathwright.models.serve_step`.
"""
from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass
from typing import Optional, Union


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
