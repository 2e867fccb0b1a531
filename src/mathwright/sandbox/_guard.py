"""The Python-level layer of the sandbox: an audit hook (PEP 578) installed in every worker.

It refuses, before the operating system is asked, anything a PoT program has no business doing:
starting processes, signalling, sockets, foreign-function calls, raising resource limits, walking the
garbage collector, and any filesystem change outside the worker's private directory. A refusal raises
:class:`SandboxViolation` (a ``PermissionError``) and is recorded, so the program's status is
``forbidden`` even if it catches the exception. The layers below (seccomp, namespaces, rlimits) hold
even if this one is bypassed; this one gives the clear status and message.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

# Events refused outright.
DENIED = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
    "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill", "os.startfile", "webbrowser.open",
    "socket.__new__", "socket.bind", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
    "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg", "socket.sethostname", "urllib.Request",
    "http.client.connect", "ftplib.connect", "smtplib.connect", "telnetlib.Telnet.open",
    "resource.setrlimit", "resource.prlimit",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function", "ctypes.string_at",
    "ctypes.wstring_at", "ctypes.cdata", "ctypes.cdata/buffer", "ctypes.addressof", "ctypes.set_errno",
    "ctypes.PyObj_FromPtr", "ctypes.get_errno",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
    "os.chroot", "os.setxattr", "os.removexattr", "os.chflags", "os.lchflags",
})

# Events whose path arguments (positions listed) must lie inside the private directory.
PATH_ARGS: dict[str, tuple[int, ...]] = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.chmod": (0,), "os.chown": (0,),
    "os.truncate": (0,), "os.utime": (0,), "os.rename": (0, 1), "os.replace": (0, 1),
    "os.link": (0, 1), "os.symlink": (0, 1), "os.chdir": (0,), "os.mkfifo": (0,), "os.mknod": (0,),
    "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.copymode": (1,), "shutil.copystat": (1,),
    "shutil.copytree": (1,), "shutil.move": (0, 1), "shutil.chown": (0,), "shutil.make_archive": (0,),
    "shutil.unpack_archive": (1,), "sqlite3.connect": (0,), "tempfile.mkstemp": (0,),
    "tempfile.mkdtemp": (0,),
}
# Links could point outside; renames and moves could remove files outside: the source counts too.

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class SandboxViolation(PermissionError):
    """Raised inside a worker when a program attempts something the sandbox forbids."""


# Always readable: the interpreter's and system libraries live under these (plus the read roots given).
SYSTEM_READ_ROOTS = ("/usr", "/lib", "/lib64", "/bin", "/etc/localtime", "/etc/ld.so.cache", "/dev/null",
                     "/dev/urandom", "/dev/zero")


def read_roots() -> tuple[str, ...]:
    """Where a program may read: the Python installation, its site-packages and mathwright's source."""
    import site

    import mathwright

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(),
             *(p for p in sys.path if p and os.path.isabs(p)),  # the import system lists these
             os.path.dirname(os.path.dirname(os.path.abspath(mathwright.__file__)))}
    return tuple(sorted({os.path.realpath(r) for r in roots})) + SYSTEM_READ_ROOTS


class Guard:
    """The audit hook. ``violation`` holds the first refusal of the current program (reset per task).

    Writes must stay inside ``workdir``; reads must stay inside ``workdir``, ``roots`` or this process's
    own ``/proc`` entries (no other process's ``/proc/PID/environ``, no host files such as keys or data).
    """

    def __init__(self, workdir: str, roots: tuple[str, ...] = ()) -> None:
        self.workdir = os.path.realpath(workdir)
        self.roots = tuple(os.path.realpath(r) for r in roots)
        self.violation: str | None = None

    def _readable(self, path: object) -> bool:
        if isinstance(path, int) or self._inside(path):
            return True
        try:
            real = os.path.realpath(os.fsdecode(path))  # type: ignore[arg-type]
        except TypeError:
            return False
        if real.startswith("/proc/"):
            part = real.split("/")[2]
            return not part.isdigit() or int(part) == os.getpid()  # /proc/cpuinfo yes, /proc/1/environ no
        return any(real == r or real.startswith(r.rstrip("/") + "/") for r in self.roots)

    def _inside(self, path: Any) -> bool:
        if isinstance(path, int):  # an already-open descriptor: the open itself was checked
            return True
        if path is None:
            return False
        try:
            p = os.fsdecode(path)
        except TypeError:
            return False
        if p == ":memory:":
            return True
        real = os.path.realpath(p)
        return real == self.workdir or real.startswith(self.workdir + os.sep)

    def deny(self, what: str) -> None:
        if self.violation is None:
            self.violation = what
        raise SandboxViolation(f"sandbox: {what} is not allowed")

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event in DENIED:
            if event == "resource.prlimit" and len(args) > 2 and args[2] is None:
                return  # prlimit(pid, resource) only reads
            self.deny(event)
        elif event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and bool(flags & _WRITE_FLAGS))
            if writing and not self._inside(path):
                self.deny(f"writing {os.fsdecode(path) if isinstance(path, (str, bytes)) else path!r}")
            elif not writing and self.roots and not self._readable(path):
                self.deny(f"reading {os.fsdecode(path) if isinstance(path, (str, bytes)) else path!r}")
        elif event in ("os.listdir", "os.scandir"):
            if self.roots and args and args[0] is not None and not self._readable(args[0]):
                self.deny(f"listing {args[0]!r}")
        elif event in PATH_ARGS:
            for i in PATH_ARGS[event]:
                if i < len(args) and args[i] is not None and not self._inside(args[i]):
                    self.deny(f"{event}({args[i]!r})")


def install(workdir: str, roots: tuple[str, ...] = ()) -> Guard:
    """Install the hook for the rest of this process's life (audit hooks cannot be removed)."""
    guard = Guard(workdir, roots)
    hook: Callable[[str, tuple[Any, ...]], None] = guard.__call__
    sys.addaudithook(hook)
    return guard
