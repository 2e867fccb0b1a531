"""The plain-data halves of the sandbox API: the limits a program runs under and the result it gets.

Both sides (the evaluating process and the sandbox workers) import this module, so it stays
dependency-free.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Every status a :class:`SandboxResult` can carry.
STATUSES = ("ok", "timeout", "memory", "error", "forbidden", "crashed", "output_limit")


@dataclass(frozen=True)
class Limits:
    """What one program may use. Defaults suit GSM8K-style PoT programs (which run in milliseconds).

    >>> Limits(wall_seconds=2.0).cpu_seconds
    5.0
    """

    # Wall-clock seconds per program, enforced by the evaluating process (kill + respawn): -> "timeout".
    wall_seconds: float = 5.0
    # CPU seconds per program (RLIMIT_CPU; SIGXCPU then SIGKILL): -> "timeout" with limit "cpu".
    cpu_seconds: float = 5.0
    # Address space a program may add on top of the preloaded interpreter (RLIMIT_AS): -> "memory".
    memory_mb: int = 1024
    # Characters of stdout kept; writing more stops the program: -> "output_limit".
    max_output_chars: int = 16_384
    # Characters of the stringified ``ans``/``answer`` value kept (longer values are truncated).
    max_answer_chars: int = 1_000
    # Programs longer than this are refused without running: -> "error".
    max_code_chars: int = 200_000
    # Largest file a program may write inside its private directory (RLIMIT_FSIZE): -> "error" (EFBIG).
    file_size_mb: int = 16
    # Open file descriptors (RLIMIT_NOFILE).
    max_open_files: int = 64
    # Python recursion limit, re-set before every program: RecursionError -> "error" with limit "recursion".
    recursion_limit: int = 3_000
    # CPython's int<->str digit cap (CVE-2020-10735), kept inside the sandbox: -> "error".
    int_max_str_digits: int = 4_300
    # A worker is replaced after this many programs (fresh interpreter state, bounded CPU accounting).
    max_tasks_per_worker: int = 5_000

    def __post_init__(self) -> None:
        for name in ("wall_seconds", "cpu_seconds", "memory_mb", "max_output_chars", "max_answer_chars",
                     "max_code_chars", "file_size_mb", "max_open_files", "recursion_limit",
                     "max_tasks_per_worker"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Limits.{name} must be positive, got {getattr(self, name)!r}")
        if self.int_max_str_digits != 0 and self.int_max_str_digits < 640:
            raise ValueError("Limits.int_max_str_digits must be 0 or >= 640 (CPython's minimum)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SandboxResult:
    """What happened to one program.

    ``status`` is one of :data:`STATUSES`; ``limit`` names the limit that stopped it (``"wall"``,
    ``"cpu"``, ``"memory"``, ``"output"``, ``"recursion"``, ``"int_digits"``, ``"code_size"``) or is
    None; ``answer`` is ``str(ans)`` (or ``str(answer)``) if the program left such a variable, else None.
    """

    status: str
    stdout: str
    error: str | None = None
    answer: str | None = None
    seconds: float = 0.0
    limit: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
