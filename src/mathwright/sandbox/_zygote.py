"""Inside the sandbox: the zygote, which imports the heavy modules once and forks workers on request.

Started by the pool as ``python -I -m mathwright.sandbox._zygote CTL_FD LIMITS_JSON`` (inside
bubblewrap or unshare when available). It never runs program code. Requests on the control socket
(SOCK_SEQPACKET, JSON):

- ``{"op": "spawn"}`` -> forks a worker; replies ``{"wid": pid}`` carrying the pool's end of a new
  socketpair (SCM_RIGHTS) that the worker talks on;
- ``{"op": "kill", "wid": pid}`` -> SIGKILL + reap; replies ``{"wait": <wait status or null>}``;
- ``{"op": "reap", "wid": pid, "grace": s}`` -> waits up to ``grace`` seconds, then SIGKILL; replies
  the wait status.

EOF on the control socket (the pool closed, or its process died) ends the zygote; in a pid namespace
that kills every worker with it.
"""
from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import socket
import sys
import time

PRELOAD = ("math", "cmath", "fractions", "decimal", "numbers", "itertools", "functools", "operator",
           "collections", "statistics", "random", "re", "string", "datetime", "heapq", "bisect",
           "sympy", "numpy", "pyseccomp", "tempfile", "shutil", "traceback")


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:  # sympy's printers and solvers import lazily on first use; warm them once here
        import sympy

        x = sympy.Symbol("x")
        str(sympy.solve(sympy.Eq(2 * x + 1, 5), x))
        sympy.nsimplify("0.5")
        sympy.Rational(1, 3) + sympy.sqrt(2)
    except Exception:
        pass


def _wait(pid: int, grace: float) -> int | None:
    """Wait status of ``pid``, killing it after ``grace`` seconds; None if it is not our child."""
    deadline = time.monotonic() + grace
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                return os.waitpid(pid, 0)[1]
            time.sleep(0.002)
    except ChildProcessError:
        return None


def main(argv: list[str]) -> None:
    from mathwright.sandbox._wire import recv_ctl, send_ctl
    from mathwright.sandbox.limits import Limits

    ctl = socket.socket(fileno=int(argv[0]))
    limits = Limits(**json.loads(argv[1]))
    root = argv[2] if len(argv) > 2 else "/tmp"
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _preload()
    gc.collect()
    gc.freeze()  # keep preloaded objects out of the workers' collections (and copy-on-write cheap)
    send_ctl(ctl, {"ready": True, "pid": os.getpid()})
    while True:
        try:
            msg, _ = recv_ctl(ctl)
        except (OSError, ValueError):
            msg = None
        if msg is None:
            os._exit(0)
        op = msg.get("op")
        if op == "spawn":
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            pid = os.fork()
            if pid == 0:
                try:
                    ctl.close()
                    ours.close()
                    from mathwright.sandbox._worker import Worker

                    Worker(theirs, limits, os.path.join(root, f"w{os.getpid()}")).serve()
                finally:
                    os._exit(70)
            theirs.close()
            send_ctl(ctl, {"wid": pid}, (ours.fileno(),))
            ours.close()
        elif op in ("kill", "reap"):
            grace = 0.0 if op == "kill" else float(msg.get("grace", 1.0))
            wid = int(msg["wid"])
            send_ctl(ctl, {"wait": _wait(wid, grace)})
            # A worker killed mid-program leaves its files behind; nobody else will ever clean them.
            shutil.rmtree(os.path.join(root, f"w{wid}"), ignore_errors=True)
        else:
            send_ctl(ctl, {"error": f"unknown op {op!r}"})


if __name__ == "__main__":
    main(sys.argv[1:])
