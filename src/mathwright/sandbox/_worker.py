"""Inside the sandbox: one worker runs programs, one at a time, each with fresh globals.

A worker is forked from the zygote (so math, sympy and numpy are already imported), locks itself down
(:mod:`._lockdown`, :mod:`._guard`) and then loops: receive ``{"code": ...}``, run it, send back
``{"status", "stdout", "error", "answer", "limit", "retire"}``. ``retire`` asks the pool to replace this
worker (it hit a limit, left threads behind, changed a shared module, or used up its CPU budget).
"""
from __future__ import annotations

import builtins
import io
import os
import resource
import shutil
import signal
import socket
import sys
import traceback
import types
from typing import Any

from mathwright.sandbox import _guard, _lockdown
from mathwright.sandbox._wire import recv_msg, send_msg
from mathwright.sandbox.limits import Limits

# Modules whose namespaces a program could tamper with to change later programs' results.
# (The worker's own machinery is watched too: a program that patches json or socket would otherwise
# change what later programs' results look like on the wire.)
WATCHED = ("builtins", "math", "cmath", "fractions", "decimal", "numbers", "itertools", "functools",
           "operator", "collections", "statistics", "sympy", "numpy", "sys", "os", "json", "json.encoder",
           "json.decoder", "socket", "resource", "mathwright.sandbox._wire", "mathwright.sandbox._worker",
           "mathwright.sandbox._guard", "shutil")


# sys.audit replaced would silence the audit events raised from Python code (subprocess, ...).
_SYS_AUDIT = sys.audit


class OutputLimit(BaseException):
    """Raised by the captured stdout when a program prints too much (BaseException: hard to swallow)."""


class CpuLimit(BaseException):
    """Raised from the SIGXCPU handler."""


class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters, then raises :class:`OutputLimit`."""

    def __init__(self, cap: int) -> None:
        self.cap, self.parts, self.size, self.exceeded = cap, [], 0, False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        room = self.cap - self.size
        if len(s) > room:
            self.parts.append(s[:room])
            self.size = self.cap
            self.exceeded = True
            raise OutputLimit(f"output exceeded {self.cap} characters")
        self.parts.append(s)
        self.size += len(s)
        return len(s)

    def getvalue(self) -> str:
        return "".join(self.parts)


def _snapshot() -> tuple[Any, ...]:
    """Every value in the watched modules (references, not copies; ``id()`` would fire an audit event)."""
    return tuple((name, vars(mod).copy()) for name in WATCHED if (mod := sys.modules.get(name)) is not None)


def _restore(before: tuple[Any, ...]) -> bool:
    """Put every watched module's namespace back as it was; True if any had changed.

    Dict comparison checks identity first, so unchanged modules compare in C without calling __eq__.
    Restoring (not just detecting) matters: the worker itself still has to report this program's result
    with json and socket after, say, ``json.dumps = ...``.
    """
    changed = False
    for name, copy in before:
        mod = sys.modules.get(name)
        if mod is None:
            continue
        d = vars(mod)
        try:
            same = bool(d == copy)
        except Exception:  # a replaced value whose __eq__ misbehaves (numpy arrays) counts as a change
            same = False
        if not same:
            d.clear()
            d.update(copy)
            changed = True
    return changed


def _error_text(exc: BaseException, cap: int = 2000) -> str:
    """``Type: message (line N)`` pointing at the program's own line."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == "<program>":
            line = lineno
    if isinstance(exc, SyntaxError):
        line = None  # its message already names the line
    try:
        msg = f"{type(exc).__name__}: {exc}"
    except Exception:  # a hostile __str__
        msg = type(exc).__name__
    return (msg + (f" (line {line})" if line else ""))[:cap]


def _answer(g: dict[str, Any], cap: int) -> str | None:
    for name in ("ans", "answer"):
        if name in g:
            v = g[name]
            if callable(v) or isinstance(v, types.ModuleType):
                continue
            try:
                return str(v)[:cap]
            except Exception:  # e.g. an int beyond the digit cap, or a failing __str__
                return None
    return None


class Worker:
    def __init__(self, chan: socket.socket, limits: Limits, workdir: str) -> None:
        self.chan, self.limits, self.workdir = chan, limits, workdir
        self.tasks = 0
        self.real_builtins = dict(vars(builtins))  # to undo `import builtins; builtins.len = ...` at once
        self.builtins = dict(self.real_builtins)
        self.builtins["input"] = self._forbidden_input
        self.tampered = False
        self.guard: _guard.Guard | None = None
        self.cpu_soft = 0

    def lock_down(self) -> None:
        lim = self.limits
        _lockdown.die_with_parent()
        os.makedirs(self.workdir, mode=0o700, exist_ok=True)
        os.chdir(self.workdir)
        os.environ.clear()
        os.environ.update({"HOME": self.workdir, "TMPDIR": self.workdir, "LANG": "C.UTF-8"})
        import tempfile

        tempfile.tempdir = self.workdir
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # C-level output goes nowhere; Python-level output is captured
            os.dup2(null, fd)
        os.close(null)
        os.closerange(3, self.chan.fileno())
        os.closerange(self.chan.fileno() + 1, 1 << 16)
        signal.signal(signal.SIGXCPU, self._on_xcpu)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail with EFBIG instead
        sys.dont_write_bytecode = True
        self.cpu_soft = _lockdown.set_rlimits(memory_mb=lim.memory_mb, cpu_seconds=lim.cpu_seconds,
                                              file_size_mb=lim.file_size_mb, max_open_files=lim.max_open_files)
        try:
            _lockdown.drop_capabilities()
        except OSError:
            pass  # already without capabilities
        _lockdown.load_seccomp(os.getpid())
        self.guard = _guard.install(self.workdir, _guard.read_roots())

    def _forbidden_input(self, *_args: Any, **_kw: Any) -> str:
        assert self.guard is not None
        self.guard.deny("input()")
        return ""

    @staticmethod
    def _on_xcpu(_sig: int, _frame: Any) -> None:
        raise CpuLimit("CPU time limit exceeded")

    def _restore_builtins(self) -> None:
        """The worker's own code needs the real builtins; restore them before anything else runs."""
        bd = vars(builtins)
        try:
            same = bd == self.real_builtins
        except Exception:
            same = False
        if not same:
            self.tampered = True
            bd.clear()
            bd.update(self.real_builtins)

    def _clean_workdir(self) -> None:
        for entry in os.listdir(self.workdir):
            path = os.path.join(self.workdir, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.remove(path)
                except OSError:
                    pass

    def run(self, code: str) -> dict[str, Any]:
        lim, guard = self.limits, self.guard
        assert guard is not None
        guard.violation = None
        os.chdir(self.workdir)
        sys.setrecursionlimit(lim.recursion_limit)
        sys.set_int_max_str_digits(lim.int_max_str_digits)
        out, err = CappedWriter(lim.max_output_chars), CappedWriter(lim.max_output_chars)
        g: dict[str, Any] = {"__name__": "__main__", "__builtins__": dict(self.builtins)}
        status, error, limit = "ok", None, None
        saved = sys.stdout, sys.stderr, sys.stdin
        sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO("")
        try:
            if len(code) > lim.max_code_chars:
                status, limit = "error", "code_size"
                error = f"program has {len(code)} characters, more than the {lim.max_code_chars} allowed"
            else:
                exec(compile(code, "<program>", "exec"), g)
        except SystemExit as e:
            if e.code not in (None, 0):
                status, error = "error", f"SystemExit: {e.code!r}"[:2000]
        except OutputLimit as e:
            status, error, limit = "output_limit", str(e), "output"
        except CpuLimit as e:
            status, error, limit = "timeout", str(e), "cpu"
        except MemoryError:
            status, error, limit = "memory", f"MemoryError: over the {lim.memory_mb} MiB memory cap", "memory"
        except RecursionError as e:
            status, error, limit = "error", _error_text(e), "recursion"
        except BaseException as e:  # noqa: BLE001 - any failure of the program is its result
            status, error = "error", _error_text(e)
            if isinstance(e, ValueError) and "integer string conversion" in str(e):
                limit = "int_digits"
        finally:
            sys.stdout, sys.stderr, sys.stdin = saved
            self._restore_builtins()
        answer = _answer(g, lim.max_answer_chars) if status == "ok" else None
        # A refusal, or output past the cap, decides the status even if the program caught it.
        if guard.violation is not None:
            status, limit = "forbidden", None
            error = error if error and "sandbox:" in error else f"sandbox: {guard.violation} is not allowed"
        elif out.exceeded and status != "output_limit":
            status, error, limit = "output_limit", f"output exceeded {lim.max_output_chars} characters", "output"
        if status != "ok" and err.size:
            error = (error or "") + "\nstderr: " + err.getvalue()[-500:]
        return {"status": status, "stdout": out.getvalue(), "error": error, "answer": answer, "limit": limit}

    def serve(self) -> None:
        self.lock_down()
        max_msg = self.limits.max_code_chars * 4 + 4096
        while True:
            try:
                msg = recv_msg(self.chan, max_msg)
            except Exception:
                msg = None
            if msg is None:
                os._exit(0)
            before = _snapshot()
            try:
                result = self.run(str(msg.get("code", "")))
            except BaseException as e:  # e.g. OutputLimit raised again while reporting
                result = {"status": "crashed", "stdout": "", "error": f"worker failure: {type(e).__name__}",
                          "answer": None, "limit": None}
            self.tasks += 1
            tampered = _restore(before) or self.tampered or sys.audit is not _SYS_AUDIT
            self._clean_workdir()  # at once: the private /tmp is shared by the pool's workers and capped
            ru = resource.getrusage(resource.RUSAGE_SELF)
            import _thread

            result["retire"] = bool(
                result["status"] not in ("ok", "error")
                or self.tasks >= self.limits.max_tasks_per_worker
                or self.cpu_soft - (ru.ru_utime + ru.ru_stime) < self.limits.cpu_seconds
                or _thread._count() > 0
                or tampered
            )
            send_msg(self.chan, result)
            if result["retire"]:
                os._exit(0)
