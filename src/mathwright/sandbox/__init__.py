"""Run model-written programs under limits, in a pool of pre-started, locked-down worker processes.

The evaluating process never executes program code: a *zygote* process (started inside bubblewrap,
else ``unshare``, else plainly) imports math, sympy and numpy once and forks *workers*; each worker
locks itself down and then runs programs one at a time, each with fresh globals.

    >>> from mathwright.sandbox import SandboxPool, Limits
    >>> with SandboxPool(Limits(wall_seconds=2), workers=2) as pool:   # doctest: +SKIP
    ...     r = pool.run("ans = 3 * 14\\nprint('done')")
    >>> r.status, r.stdout, r.answer                                   # doctest: +SKIP
    ('ok', 'done\\n', '42')

Limits (fields of :class:`Limits`) and the status each one produces:

==========================  =========================================================  ==============
limit                       how it is enforced                                         status (limit)
==========================  =========================================================  ==============
wall-clock time             the pool waits ``wall_seconds``, then kills and respawns   ``timeout`` (wall)
CPU time                    RLIMIT_CPU: SIGXCPU (raised as an exception), then SIGKILL  ``timeout`` (cpu)
memory                      RLIMIT_AS, ``memory_mb`` above the preloaded interpreter   ``memory`` (memory)
output                      captured stdout keeps ``max_output_chars``, then stops     ``output_limit`` (output)
recursion                   ``sys.setrecursionlimit(recursion_limit)`` per program      ``error`` (recursion)
int/str digits              ``sys.set_int_max_str_digits(4300)`` kept (CVE-2020-10735)  ``error`` (int_digits)
program size                longer than ``max_code_chars`` is refused                  ``error`` (code_size)
file size / open files      RLIMIT_FSIZE (EFBIG, not a signal) / RLIMIT_NOFILE           ``error``
disk                        private ``/tmp`` is a 512 MiB tmpfs (bwrap), wiped per program ``error`` (ENOSPC)
no processes                audit hook; seccomp denies fork, vfork, execve, non-thread  ``forbidden``
                            clone; RLIMIT_NPROC
no network                  audit hook; seccomp denies socket/connect/bind; network      ``forbidden``
                            namespace (bwrap/unshare)
no signals to others        audit hook; seccomp denies kill/tkill, tgkill except self   ``forbidden``
no limit raising            audit hook; seccomp denies setrlimit/prlimit64 writes;      ``forbidden``
                            capabilities dropped
files                       writes only inside a private directory, reads only there,  ``forbidden``
                            in the Python install and mathwright's source (audit hook);
                            bwrap mounts only those, read-only, with a private ``/tmp``
other processes             no ``/proc/PID`` but its own (audit hook; private ``/proc``)  ``forbidden``
no ctypes / gc walking      audit hook (``ctypes.*``, ``gc.get_objects`` ...)           ``forbidden``
no ``input()``              replaced in the program's builtins; stdin is empty          ``forbidden``
environment                 cleared (nothing inherited; bwrap ``--clearenv``)           --
a dying worker              segfault, ``os._exit``, abort: the pool respawns it         ``crashed``
==========================  =========================================================  ==============

Any exception the program raises (or a ``SyntaxError``) gives ``error`` with ``Type: message (line N)``.
``answer`` is ``str(ans)`` or ``str(answer)`` if the program defined such a variable, else None.
A forbidden attempt gives ``forbidden`` even if the program catches the ``PermissionError``.
"""
from mathwright.sandbox.limits import STATUSES, Limits, SandboxResult
from mathwright.sandbox.pool import SandboxError, SandboxPool, default_pool, run_code

__all__ = ["STATUSES", "Limits", "SandboxError", "SandboxPool", "SandboxResult", "default_pool", "run_code"]
