"""The evaluating process's side of the sandbox: a pool of pre-started workers behind one zygote.

The pool never executes program code itself. It sends a program to an idle worker, waits for the
reply under the wall-clock limit, and, if the worker runs over, dies, or answers with garbage, asks
the zygote to kill it and forks a replacement (a few milliseconds: the zygote has everything
imported already).
"""
from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterable

from mathwright.sandbox import _launch
from mathwright.sandbox._wire import WireError, frame, recv_ctl, recv_msg, send_ctl
from mathwright.sandbox.limits import STATUSES, Limits, SandboxResult


class SandboxError(RuntimeError):
    """The sandbox itself (not a program) failed: it could not start, or its zygote died."""


class _Zygote:
    """The sandboxed process that forks workers; all requests go through one lock."""

    def __init__(self, limits: Limits, isolation: str, start_timeout: float = 120.0) -> None:
        self.isolation = _launch.resolve(isolation)
        self.root = None if self.isolation == "bwrap" else tempfile.mkdtemp(prefix="mathwright-sandbox-")
        self.lock = threading.Lock()
        self.dead = False  # set once a request fails: every worker it forked is gone with it
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ctl = ours
        self.log = tempfile.TemporaryFile()
        cmd = _launch.command(self.isolation, theirs.fileno(), json.dumps(limits.to_dict()), self.root)
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=(theirs.fileno(),), env=dict(_launch.CLEAN_ENV),
                                         stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                         cwd=self.root or "/")
        finally:
            theirs.close()
        self.ctl.settimeout(start_timeout)
        try:
            msg, _ = recv_ctl(self.ctl)
        except (OSError, ValueError):
            msg = None
        if not msg or not msg.get("ready"):
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            tail = self._log_tail()  # read before close(), which closes the log
            self.close()
            raise SandboxError(_launch.explain_failure(self.isolation, tail))

    def _log_tail(self) -> str:
        try:
            self.log.seek(0)
            return self.log.read()[-2000:].decode("utf-8", "replace").strip() or "no output"
        except (OSError, ValueError):
            return "no output"

    def request(self, msg: dict[str, Any], timeout: float = 30.0) -> tuple[dict[str, Any], list[int]]:
        with self.lock:
            try:
                self.ctl.settimeout(timeout)
                send_ctl(self.ctl, msg)
                reply, fds = recv_ctl(self.ctl, max_fds=1)
            except (OSError, ValueError) as e:
                self.dead = True
                raise SandboxError(f"sandbox zygote is not answering: {e}") from None
        if reply is None:
            self.dead = True
            raise SandboxError(f"sandbox zygote died: {self._log_tail()}")
        return reply, fds

    def spawn(self) -> "_Worker":
        reply, fds = self.request({"op": "spawn"})
        if not fds:
            raise SandboxError(f"sandbox zygote could not fork a worker: {reply}")
        return _Worker(int(reply["wid"]), socket.socket(fileno=fds[0]), self)

    def end(self, wid: int, kill: bool, grace: float = 2.0) -> int | None:
        """Kill (or wait for) worker ``wid``; its wait status, or None if unknown."""
        try:
            reply, _ = self.request({"op": "kill" if kill else "reap", "wid": wid, "grace": grace},
                                    timeout=grace + 10)
        except SandboxError:
            return None
        return reply.get("wait")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            self.ctl.close()  # EOF: the zygote exits, and its pid namespace takes every worker with it
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class _Worker:
    wid: int
    sock: socket.socket
    zygote: _Zygote


def _describe(wait: int | None, elapsed: float, limits: Limits) -> tuple[str, str | None, str]:
    """(status, limit, message) for a worker that died without answering."""
    if wait is None:
        return "crashed", None, "the worker vanished without a result"
    if os.WIFSIGNALED(wait):
        sig = os.WTERMSIG(wait)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and elapsed >= limits.cpu_seconds):
            return "timeout", "cpu", f"CPU time limit of {limits.cpu_seconds:g} s exceeded ({name})"
        return "crashed", None, f"the program killed its worker with {name}"
    code = os.WEXITSTATUS(wait) if os.WIFEXITED(wait) else -1
    return "crashed", None, f"the program ended its worker (exit code {code}) before returning a result"


def _clean(msg: Any, limits: Limits) -> tuple[str, str, str | None, str | None, str | None, bool]:
    """Validate a worker's reply field by field (it may come from a compromised worker)."""
    if not isinstance(msg, dict):
        return "crashed", "", "the worker sent a malformed reply", None, None, True

    def text(key: str, cap: int) -> str | None:
        v = msg.get(key)
        # lone surrogates (print('\ud800')) would break whoever writes the result as UTF-8 later
        return v[:cap].encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else None

    status = msg.get("status")
    if status not in STATUSES:
        return "crashed", "", "the worker sent a malformed reply", None, None, True
    return (status, text("stdout", limits.max_output_chars) or "", text("error", 4000),
            text("answer", limits.max_answer_chars), text("limit", 32), bool(msg.get("retire", True)))


class SandboxPool:
    """Pre-started sandbox workers. Use as a context manager; thread-safe.

    >>> with SandboxPool(workers=1) as pool:             # doctest: +SKIP
    ...     pool.run("ans = 6 * 7").answer
    '42'
    """

    def __init__(self, limits: Limits | None = None, workers: int = 2, isolation: str | None = None) -> None:
        """``isolation``: ``auto`` (default; or ``$MATHWRIGHT_SANDBOX_ISOLATION``) picks bubblewrap, else
        unshare, else a plain process; ``bwrap``/``unshare``/``none`` insist on one."""
        isolation = isolation or os.environ.get("MATHWRIGHT_SANDBOX_ISOLATION") or "auto"
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.limits = limits or Limits()
        self.workers = workers
        self._isolation_request = isolation
        self._closed = False
        self._lock = threading.Lock()
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        self._executor: ThreadPoolExecutor | None = None
        self._zygote = _Zygote(self.limits, isolation)
        self.isolation = self._zygote.isolation
        for _ in range(workers):
            self._idle.put(None)  # forked on first use, so a pool that is never used costs one zygote

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker and the zygote. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            if w is not None:
                w.sock.close()
        self._zygote.close()

    def _fresh_worker(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise SandboxError("the sandbox pool is closed")
            zygote = self._zygote
        try:
            return zygote.spawn()
        except SandboxError:
            with self._lock:  # the zygote died: start a new one (once, whichever thread gets here)
                if self._zygote is zygote and not self._closed:
                    zygote.close()
                    self._zygote = _Zygote(self.limits, self._isolation_request)
                zygote = self._zygote
            return zygote.spawn()

    # -- running ---------------------------------------------------------------------------------
    def run(self, code: str, timeout: float | None = None) -> SandboxResult:
        """Run one program; ``timeout`` (seconds) overrides ``limits.wall_seconds``."""
        return self._run_many([code], timeout)[0]

    def map(self, codes: Iterable[str], timeout: float | None = None, chunk: int = 16) -> list[SandboxResult]:
        """Run many programs in parallel over the workers; results in input order.

        Programs go to a worker ``chunk`` at a time, pipelined (the worker starts the next one as soon as
        it has sent a result); each still has its own wall-clock limit and fresh globals.
        """
        codes = list(codes)
        if not codes:
            return []
        size = max(1, min(chunk, -(-len(codes) // self.workers)))
        groups, cur, cur_bytes = [], [], 0
        for i, c in enumerate(codes):  # bound each chunk's bytes so a send never waits on the worker
            n = len(c) if isinstance(c, str) else 0
            if cur and (len(cur) >= size or cur_bytes + n > _CHUNK_BYTES):
                groups.append(cur)
                cur, cur_bytes = [], 0
            cur.append(i)
            cur_bytes += n
        groups.append(cur)
        results: list[SandboxResult | None] = [None] * len(codes)

        def work(idx: list[int]) -> None:
            for i, r in zip(idx, self._run_many([codes[i] for i in idx], timeout)):
                results[i] = r

        if len(groups) == 1 or self.workers == 1:
            for g in groups:
                work(g)
        else:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox")
                ex = self._executor
            list(ex.map(work, groups))
        return results  # type: ignore[return-value]

    def _run_many(self, codes: list[str], timeout: float | None) -> list[SandboxResult]:
        if self._closed:
            raise SandboxError("the sandbox pool is closed")
        for c in codes:
            if not isinstance(c, str):
                raise TypeError(f"program must be a str, not {type(c).__name__}")
        too_long = [len(c) > self.limits.max_code_chars for c in codes]
        if any(too_long):  # refused here: never sent, so a huge program cannot break a worker's framing
            ran = iter(self._run_many([c for c, t in zip(codes, too_long) if not t], timeout))
            refusal = SandboxResult("error", "", f"program longer than the {self.limits.max_code_chars} "
                                    "characters allowed", None, 0.0, "code_size")
            return [refusal if t else next(ran) for t in too_long]
        if not codes:
            return []
        wall = self.limits.wall_seconds if timeout is None else float(timeout)
        out: list[SandboxResult] = []
        stalls = 0  # attempts in a row that finished no program (the worker or zygote died under it)
        w = self._idle.get()
        keep = False
        try:
            while len(out) < len(codes):
                if w is None:
                    w = self._fresh_worker()
                done, keep = self._execute(w, codes[len(out):], wall)
                out.extend(done)
                stalls = 0 if done else stalls + 1
                if stalls >= 2:  # give up on this program rather than loop
                    out.append(SandboxResult("crashed", "", "the sandbox lost two workers before this program ran",
                                             None, 0.0, None))
                    stalls = 0
                if not keep:
                    w.sock.close()
                    w = None
            return out
        finally:
            if not keep and w is not None:
                w.sock.close()
                w = None
            self._idle.put(w)

    def _execute(self, w: _Worker, codes: list[str], wall: float) -> tuple[list[SandboxResult], bool]:
        """Pipeline ``codes`` through worker ``w``: results for a prefix of them, and whether ``w`` lives on.

        A program that was not (or may not have been) run because the worker or its zygote died for
        reasons of its own gets no result here; the caller runs it again on a fresh worker.
        """
        lim = self.limits
        cap = 6 * (lim.max_output_chars + lim.max_answer_chars + 5000) + 4096
        out: list[SandboxResult] = []
        t0 = time.perf_counter()
        try:
            w.sock.settimeout(wall)
            w.sock.sendall(b"".join(frame({"code": c}) for c in codes))
        except OSError:  # the worker died while idle: no program reached it
            w.zygote.end(w.wid, kill=True)
            return out, False
        for _ in codes:
            try:
                msg = recv_msg(w.sock, cap, deadline=time.monotonic() + wall)
            except (socket.timeout, TimeoutError):
                w.zygote.end(w.wid, kill=True)
                out.append(SandboxResult("timeout", "", f"wall-clock limit of {wall:g} s exceeded", None,
                                         time.perf_counter() - t0, "wall"))
                return out, False
            except WireError as e:
                w.zygote.end(w.wid, kill=True)
                out.append(SandboxResult("crashed", "", f"the worker broke the protocol: {e}", None,
                                         time.perf_counter() - t0, None))
                return out, False
            except OSError:
                msg = None  # the worker is gone (broken pipe, reset)
            elapsed = time.perf_counter() - t0
            if msg is None:
                wait = w.zygote.end(w.wid, kill=False, grace=1.0)
                if w.zygote.dead:
                    return out, False  # not the program's doing: it runs again elsewhere
                status, limit, error = _describe(wait, elapsed, lim)
                out.append(SandboxResult(status, "", error, None, elapsed, limit))
                return out, False
            status, stdout, error, answer, limit, retire = _clean(msg, lim)
            out.append(SandboxResult(status, stdout, error, answer, elapsed, limit))
            t0 = time.perf_counter()
            if retire:
                w.zygote.end(w.wid, kill=False, grace=2.0)
                return out, False
        return out, True


# Bytes of program text per pipelined chunk: well under a socket buffer, so sending never blocks.
_CHUNK_BYTES = 64 * 1024


_DEFAULT: SandboxPool | None = None
_DEFAULT_LOCK = threading.Lock()


def default_pool() -> SandboxPool:
    """The shared pool behind :func:`run_code`: created on first use, closed at interpreter exit."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None or _DEFAULT._closed:
            _DEFAULT = SandboxPool()
            atexit.register(_DEFAULT.close)
        return _DEFAULT


def run_code(code: str, timeout: float | None = None) -> SandboxResult:
    """Run one program in the shared default pool.

    >>> run_code("print(sum(range(10)))").stdout    # doctest: +SKIP
    '45\\n'
    """
    return default_pool().run(code, timeout)
