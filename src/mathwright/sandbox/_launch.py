"""How the pool starts the zygote: inside bubblewrap, else unshare, else as a plain process.

bubblewrap gives the strongest view: new user, pid, network, ipc, uts and mount namespaces; a
filesystem that contains only read-only system libraries, the Python installation and mathwright's
source, a private ``/proc`` and ``/dev``, and an empty ``/tmp`` (the only writable place); no
capabilities; an empty environment. ``unshare`` (util-linux) gives network, pid, mount, ipc and uts
namespaces without the filesystem view. In every mode the environment is cleared.
"""
from __future__ import annotations

import importlib.util
import json
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


# What the zygote imports (its preloads and mathwright itself): their directories must be on its path.
NEEDED_PACKAGES = ("mathwright", "sympy", "mpmath", "numpy", "pyseccomp")


def _package_entry(name: str) -> str | None:
    """The import-path directory that holds top-level module ``name`` (None if it is not installed)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        return None
    here = Path(spec.origin).parent
    return str(here.parent if spec.submodule_search_locations else here)


def import_paths() -> list[str]:
    """The directories this interpreter imports mathwright and the preloads from, beyond its ``-I`` defaults.

    ``-I`` drops ``PYTHONPATH``, the user site (``pip install --user``) and the working directory, and a
    venv's, conda's or uv's own site-packages come only from starting *its* ``python``, not the base
    interpreter behind it. The zygote adds these back with ``site.addsitedir`` (``.pth`` files, hence
    editable installs, included). Only site directories, ``PYTHONPATH`` and the needed packages' homes
    count, not every ``sys.path`` entry: a test runner or script directory there must stay unreadable.
    """
    paths = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        paths.append(site.getusersitepackages())
    paths += os.environ.get("PYTHONPATH", "").split(os.pathsep)
    paths += [e for e in map(_package_entry, NEEDED_PACKAGES) if e]
    out: list[str] = []
    for p in paths:
        if p and os.path.isdir(p) and os.path.abspath(p) not in out:
            out.append(os.path.abspath(p))
    return out


def _readonly_paths() -> list[str]:
    """Directories the sandbox must read: the interpreter, its libraries, and mathwright's source."""
    import mathwright

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages(),
             *import_paths(), str(Path(mathwright.__file__).resolve().parents[1]),
             # the interpreter's prefix (a venv's pyvenv.cfg sits there) and, through the link, the base's
             os.path.dirname(os.path.dirname(interpreter())),
             str(Path(os.path.realpath(interpreter())).parent)}
    # Both the paths as named and as resolved: a venv's bin/python is a link into another prefix.
    real = sorted({q for p in paths if os.path.isdir(p) for q in (os.path.abspath(p), os.path.realpath(p))})
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

# Started as ``python -I -c BOOT PATHS ...``: -I keeps PYTHONPATH, user site and the working directory
# from steering imports; BOOT adds exactly the parent's import paths, then runs the zygote.
BOOT = ("import json, site, sys; paths = json.loads(sys.argv[1]); del sys.argv[1]; "
        "[site.addsitedir(p) for p in paths if p not in sys.path]; "
        "import runpy; runpy.run_module('mathwright.sandbox._zygote', run_name='__main__', alter_sys=True)")


def interpreter() -> str:
    """The interpreter that carries mathwright: ``sys.executable`` as named, not resolved.

    A venv's ``bin/python`` links to the base interpreter; resolving the link starts that base one,
    which sees neither the venv's site-packages nor mathwright.
    """
    exe = sys.executable
    if not exe or not os.access(exe, os.X_OK):
        raise RuntimeError(f"sandbox: this Python's executable ({exe!r}) cannot be started; "
                           "the sandbox runs programs in a copy of the interpreter that carries mathwright")
    return os.path.abspath(exe)


def command(isolation: str, ctl_fd: int, limits_json: str, root: str | None) -> list[str]:
    """The argv that starts the zygote under ``isolation`` (already resolved).

    ``root`` is where workers make their private directories: ``/tmp`` inside bubblewrap (a private
    tmpfs), otherwise a fresh host temporary directory the pool removes on close.
    """
    py = [interpreter(), "-I", "-c", BOOT, json.dumps(import_paths()), str(ctl_fd), limits_json]
    if isolation == "bwrap":
        return _bwrap_args() + py + ["/tmp"]
    assert root is not None
    return (_UNSHARE if isolation == "unshare" else []) + py + [root]


def explain_failure(isolation: str, log_tail: str) -> str:
    """One message for a zygote that did not start: what ran, what it said, and what it could see."""
    msg = f"sandbox ({isolation}) failed to start {interpreter()}: {log_tail}"
    if "No module named" in log_tail:
        seen = ", ".join(_readonly_paths()) if isolation == "bwrap" else "the host filesystem"
        msg += (f" -- that interpreter cannot import it inside the sandbox (it reads: {seen}; import paths "
                f"added: {', '.join(import_paths()) or 'none'}); install mathwright into this environment")
    return msg
