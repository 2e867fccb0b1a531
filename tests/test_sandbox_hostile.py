"""Hostile programs: each must end in its exact status, leave the host untouched, and the pool must keep
serving afterwards. One pool (bubblewrap when available) serves the whole module."""
from __future__ import annotations

import os
import socket
import textwrap
from pathlib import Path

import pytest

from mathwright.sandbox import Limits, SandboxPool

SECRET = "mw-h6-secret-6c1f0e9d"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory):
    """A canary directory on the host, a secret in the host's environment, and a pool started after both."""
    d = tmp_path_factory.mktemp("canary")
    canary = d / "canary.txt"
    canary.write_text("alive")
    os.environ["MATHWRIGHT_TEST_SECRET"] = SECRET
    try:
        with SandboxPool(Limits(wall_seconds=5), workers=2) as pool:
            yield pool, d, canary
    finally:
        os.environ.pop("MATHWRIGHT_TEST_SECRET", None)


def _still_serving(pool: SandboxPool) -> None:
    r = pool.run("x = 6\nprint(x * 7)\nans = x")
    assert (r.status, r.stdout, r.answer) == ("ok", "42\n", "6"), r


HOSTILE = {
    # name: (program, expected status, expected limit or None, run timeout)
    "infinite_loop": ("while True:\n    pass", "timeout", "wall", 1.0),
    "fork_bomb": ("import os\nwhile True:\n    os.fork()", "forbidden", None, None),
    "multiprocessing": ("import multiprocessing as mp\np = mp.Process(target=print)\np.start()\np.join()",
                        "forbidden", None, None),
    "memory_bomb_once": ("x = bytearray(10**11)", "memory", "memory", None),
    "memory_bomb_grow": ("a = []\nwhile True:\n    a.append(bytes(10**8))", "memory", "memory", None),
    "memory_bomb_list": ("x = [0] * (10**10)", "memory", "memory", None),
    "huge_output": ("while True:\n    print('x' * 1000)", "output_limit", "output", None),
    "huge_output_caught": ("try:\n    print('y' * 10**6)\nexcept BaseException:\n    pass\nans = 1",
                           "output_limit", "output", None),
    "deep_recursion": ("def f(n):\n    return f(n + 1)\nf(0)", "error", "recursion", None),
    "os_exit": ("import os\nos._exit(0)", "crashed", None, None),
    "abort": ("import os\nos.abort()", "crashed", None, None),
    "segfault_ctypes_string_at": ("import ctypes\nctypes.string_at(0)", "forbidden", None, None),
    "segfault_ctypes_pointer": ("import ctypes\nprint(ctypes.c_char_p(1).value)", "crashed", None, None),
    "segfault_faulthandler": ("import faulthandler\nfaulthandler._sigsegv()", "crashed", None, None),
    "ignore_sigterm": ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                       "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass", "timeout", "wall", 1.0),
    "signal_parent": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", "forbidden", None, None),
    "signal_init": ("import os, signal\nos.kill(1, signal.SIGKILL)", "forbidden", None, None),
    "raise_rlimit_as": ("import resource\nresource.setrlimit(resource.RLIMIT_AS, "
                        "(resource.RLIM_INFINITY, resource.RLIM_INFINITY))", "forbidden", None, None),
    "raise_rlimit_cpu_prlimit": ("import resource, os\nresource.prlimit(0, resource.RLIMIT_CPU, "
                                 "(resource.RLIM_INFINITY, resource.RLIM_INFINITY))", "forbidden", None, None),
    "input": ("x = input('number? ')", "forbidden", None, None),
    "gc_walk": ("import gc\nprint(len(gc.get_objects()))", "forbidden", None, None),
    "caught_violation": ("import os\ntry:\n    os.fork()\nexcept Exception:\n    pass\nans = 1", "forbidden", None, None),
    "dns": ("import socket\nsocket.getaddrinfo('example.com', 80)", "forbidden", None, None),
    "write_system_dir": ("open('/usr/lib/mathwright_h6_pwned', 'w').write('x')", "forbidden", None, None),
    "int_digit_cap": ("print(10 ** 5000)", "error", "int_digits", None),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_program(host, name: str) -> None:
    pool, _, canary = host
    code, status, limit, timeout = HOSTILE[name]
    r = pool.run(code, timeout=timeout)
    assert r.status == status, r
    assert r.limit == limit, r
    assert r.error, r
    assert canary.read_text() == "alive"
    assert not Path("/usr/lib/mathwright_h6_pwned").exists()
    if status == "output_limit":
        assert len(r.stdout) == pool.limits.max_output_chars
    _still_serving(pool)


def test_files_outside_private_dir(host) -> None:
    pool, d, canary = host
    programs = [
        f"import os\nos.remove({str(canary)!r})",
        f"import shutil\nshutil.rmtree({str(d)!r})",
        f"open({str(canary)!r}, 'w').write('dead')",
        f"open({str(d / 'new.txt')!r}, 'w').write('x')",
        f"import os\nos.rename({str(canary)!r}, 'stolen.txt')",
        "import os\nos.symlink('/usr', 'escape')",
        "import os\nos.chdir('/')\nopen('x', 'w')",
        f"import os\nos.close(os.open({str(d / 'raw.txt')!r}, os.O_WRONLY | os.O_CREAT))",
        f"import os\nos.truncate({str(canary)!r}, 0)",
    ]
    for code in programs:
        r = pool.run(code)
        assert r.status == "forbidden", (code, r)
    assert canary.read_text() == "alive"
    assert sorted(p.name for p in d.iterdir()) == ["canary.txt"]
    # Inside its own directory a program may write and read back; the directory is wiped between programs.
    r = pool.run("open('notes.txt', 'w').write('kept')\nprint(open('notes.txt').read())")
    assert (r.status, r.stdout) == ("ok", "kept\n"), r
    r = pool.run("import os\nprint(os.listdir('.'))")
    assert (r.status, r.stdout) == ("ok", "[]\n"), r
    _still_serving(pool)


def test_no_network_to_a_loopback_listener(host) -> None:
    pool, _, _ = host
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        for code in (f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)",
                     f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=1)",
                     f"import _socket\ns = _socket.socket()\ns.connect(('127.0.0.1', {port}))"):
            r = pool.run(code)
            assert r.status == "forbidden", (code, r)
        srv.settimeout(0.3)
        with pytest.raises(socket.timeout):
            srv.accept()  # nothing ever connected
    _still_serving(pool)


def test_environment_is_clean(host) -> None:
    pool, _, _ = host
    assert os.environ["MATHWRIGHT_TEST_SECRET"] == SECRET
    r = pool.run("import os\nprint(dict(os.environ))\nprint(open('/proc/self/environ', 'rb').read())")
    assert r.status == "ok" and "HOME" in r.stdout, r
    assert SECRET not in r.stdout and "MATHWRIGHT_TEST_SECRET" not in r.stdout
    # Other processes' environments (the zygote's, the host's) are off limits, even when the error is caught.
    code = textwrap.dedent(f"""
        import os
        for pid in ['1', str(os.getppid()), '{os.getpid()}']:
            try:
                print(pid, open(f'/proc/{{pid}}/environ', 'rb').read())
            except OSError as e:
                print(pid, 'refused', e)
    """)
    r = pool.run(code)
    assert r.status == "forbidden", r
    assert SECRET not in r.stdout and "MATHWRIGHT_TEST_SECRET" not in r.stdout
    for code in ("print(open('/etc/passwd').read())", f"print(open({__file__!r}).read())",
                 "import os\nprint(os.listdir('/root'))"):
        r = pool.run(code)
        assert r.status == "forbidden" and r.stdout == "", (code, r)
    _still_serving(pool)


def test_spawning_a_shell(host) -> None:
    pool, d, _ = host
    target = d / "shell_was_here"
    for code in (f"import subprocess\nsubprocess.run(['touch', {str(target)!r}])",
                 f"import os\nos.system('touch {target}')",
                 f"import os\nos.execv('/bin/sh', ['sh', '-c', 'touch {target}'])",
                 f"import os\nos.posix_spawn('/bin/touch', ['touch', {str(target)!r}], {{}})",
                 "import pty\npty.spawn('/bin/sh')"):
        r = pool.run(code)
        assert r.status == "forbidden", (code, r)
    # With the Python-level audit silenced, the kernel layer (seccomp) still refuses to fork or exec.
    r = pool.run(f"import sys, subprocess\nsys.audit = lambda *a: None\nsubprocess.run(['touch', {str(target)!r}])")
    assert r.status == "error" and "PermissionError" in r.error, r
    assert not target.exists()
    _still_serving(pool)


def test_signalling_the_parent_leaves_the_host_alive(host) -> None:
    pool, _, _ = host
    me, parent = os.getpid(), os.getppid()
    for code in ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                 f"import os, signal\nos.kill({me}, signal.SIGKILL)",
                 f"import os, signal\nos.killpg({os.getpgid(0)}, signal.SIGKILL)"):
        assert pool.run(code).status == "forbidden"
    assert os.getpid() == me and os.getppid() == parent  # we are still here
    _still_serving(pool)


def test_tampering_does_not_leak_into_later_programs(host) -> None:
    pool, _, _ = host
    for _ in range(pool.workers):  # every worker gets tampered with once
        assert pool.run("import math, builtins\nmath.pi = 3\nbuiltins.len = lambda x: 0").status == "ok"
        assert pool.run("import json\njson.dumps = lambda *a, **k: '{}'").status == "ok"
    for _ in range(2 * pool.workers):
        r = pool.run("import math, json\nprint(math.pi, len('abc'), json.dumps([1]))")
        assert r.stdout == "3.141592653589793 3 [1]\n", r
    assert pool.run("x = 5").status == "ok"
    r = pool.run("print(x)")  # fresh globals for every program
    assert r.status == "error" and "NameError" in r.error, r


@pytest.mark.slow
def test_disk_filler_is_capped_and_cleaned(host) -> None:
    pool, _, _ = host
    r = pool.run("for i in range(100):\n    open(f'f{i}', 'w').write('x' * 15_000_000)", timeout=60)
    assert r.status == "error" and ("No space left" in r.error or "File too large" in r.error), r
    r = pool.run("import shutil\nu = shutil.disk_usage('.')\nprint(u.used < 10**6)")
    assert r.stdout == "True\n", r  # the next program starts with an empty directory
    _still_serving(pool)


@pytest.mark.slow
def test_cpu_limit() -> None:
    with SandboxPool(Limits(cpu_seconds=0.5, wall_seconds=30), workers=1) as pool:
        r = pool.run("while True:\n    pass")
        assert (r.status, r.limit) == ("timeout", "cpu"), r
        assert r.seconds < 30  # stopped by the CPU limit (whole-second granularity: 1 s here), not the wall clock
        _still_serving(pool)
