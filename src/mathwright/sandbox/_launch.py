"""How the pool starts the zygote: inside bubblewrap, else unshare, else as a plain process.

bubblewrap gives the strongest view: new user, pid, network, ipc, uts and mount namespaces; a
filesystem that contains only read-only system libraries, the Python installation and mathwright's
source, a private ``/proc`` and ``/dev``, and an empty ``/tmp`` (the only writable place); no
capabilities; an empty environment. ``unshare`` (util-linux) gives network, pid, mount, ipc and uts
namespaces without the filesystem view. In every mode the environment is cleared.
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

ISOLATIONS = ("auto", "bwrap", "unshare", "none")

# The only environment the sandbox gets (nothing is inherited: no tokens, keys or paths leak in).
CLEAN_ENV = {
    "LANG": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp", "PATH": "/usr/bin:/bin",
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
}


def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd + ["/bin/true"], env=CLEAN_ENV, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


_PROBED: dict[str, bool] = {}

# Size of the sandbox's private /tmp (bubblewrap), shared by all workers of one pool.
TMPFS_BYTES = 512 * 2**20


def available(isolation: str) -> bool:
    """Whether ``isolation`` works on this machine (probed once per process)."""
    if isolation == "none":
        return True
    if isolation not in _PROBED:
        if isolation == "bwrap":
            ok = shutil.which("bwrap") is not None and _probe(
                ["bwrap", "--unshare-all", "--cap-drop", "ALL", "--ro-bind", "/", "/", "--"])
        elif isolation == "unshare":
            ok = shutil.which("unshare") is not None and _probe(_UNSHARE)
        else:
            raise ValueError(f"unknown isolation {isolation!r}; choose from {', '.join(ISOLATIONS)}")
        _PROBED[isolation] = ok
    return _PROBED[isolation]


def resolve(isolation: str) -> str:
    """The isolation actually used: 'auto' picks the strongest available."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"unknown isolation {isolation!r}; choose from {', '.join(ISOLATIONS)}")
    if isolation != "auto":
        if not available(isolation):
            raise RuntimeError(f"sandbox isolation {isolation!r} is not available on this machine")
        return isolation
    for candidate in ("bwrap", "unshare"):
        if available(candidate):
            return candidate
    return "none"


_UNSHARE = ["unshare", "--net", "--pid", "--fork", "--mount", "--mount-proc", "--ipc", "--uts", "--kill-child"]


def _readonly_paths() -> list[str]:
    """Directories the sandbox must read: the interpreter, its libraries, and mathwright's source."""
    import mathwright

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(),
             str(Path(mathwright.__file__).resolve().parents[1]),
             str(Path(os.path.realpath(sys.executable)).parent)}
    real = sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)})
    # Drop paths already covered by a parent in the list, and anything under /usr (bound whole).
    keep: list[str] = []
    for p in real:
        if p == "/usr" or p.startswith("/usr/") or any(p.startswith(k + "/") for k in keep):
            continue
        keep.append(p)
    return keep


def _bwrap_args() -> list[str]:
    args = ["bwrap", "--unshare-all", "--cap-drop", "ALL", "--new-session", "--hostname", "sandbox",
            "--clearenv", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        args += ["--ro-bind-try", f, f]
    # /tmp is memory-backed: cap it, or files written by programs could fill the host's RAM. It is mounted
    # before the package paths so that a checkout or environment under /tmp stays visible (bound over it).
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
    for p in _readonly_paths():
        args += ["--ro-bind", p, p]
    args += ["--chdir", "/tmp"]
    for k, v in CLEAN_ENV.items():
        args += ["--setenv", k, v]
    return args + ["--"]


def command(isolation: str, ctl_fd: int, limits_json: str, root: str | None) -> list[str]:
    """The argv that starts the zygote under ``isolation`` (already resolved).

    ``root`` is where workers make their private directories: ``/tmp`` inside bubblewrap (a private
    tmpfs), otherwise a fresh host temporary directory the pool removes on close.
    """
    py = [os.path.realpath(sys.executable), "-I", "-m", "mathwright.sandbox._zygote", str(ctl_fd), limits_json]
    if isolation == "bwrap":
        return _bwrap_args() + py + ["/tmp"]
    assert root is not None
    return (_UNSHARE if isolation == "unshare" else []) + py + [root]
