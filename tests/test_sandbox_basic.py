"""Ordinary programs through the sandbox pool, the API's contracts, and ``mathwright sandbox run``."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mathwright.sandbox import STATUSES, Limits, SandboxPool, SandboxResult, default_pool, run_code


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(Limits(wall_seconds=10), workers=2) as p:
        yield p


NORMAL = {
    # name: (program, status, stdout, answer)
    "print": ("print(12 + 30)", "ok", "42\n", None),
    "ans": ("price = 3\nqty = 4\nans = price * qty", "ok", "", "12"),
    "answer": ("answer = 17 / 4", "ok", "", "4.25"),
    "ans_wins_over_answer": ("answer = 1\nans = 2", "ok", "", "2"),
    "function_named_answer_ignored": ("def answer():\n    return 3\nprint(answer())", "ok", "3\n", None),
    "sympy": ("from sympy import symbols, solve, Eq\nx = symbols('x')\nans = solve(Eq(3 * x + 5, 20), x)[0]",
              "ok", "", "5"),
    "sympy_rational": ("import sympy\nprint(sympy.Rational(1, 3) + sympy.Rational(1, 6))", "ok", "1/2\n", None),
    "numpy": ("import numpy as np\nans = int(np.arange(1, 11).sum())", "ok", "", "55"),
    "math_fractions": ("import math\nfrom fractions import Fraction\nprint(math.gcd(12, 18), Fraction(3, 6))",
                       "ok", "6 1/2\n", None),
    "syntax_error": ("def f(:\n    pass", "error", "", None),
    "zero_division": ("x = 1\ny = 0\nprint(x / y)", "error", "", None),
    "system_exit_zero": ("import sys\nprint('bye')\nsys.exit(0)", "ok", "bye\n", None),
    "system_exit_nonzero": ("import sys\nsys.exit(3)", "error", "", None),
    "stdout_kept_on_error": ("print('partial')\nraise ValueError('boom')", "error", "partial\n", None),
    "threads_ok": ("import threading\nout = []\nt = threading.Thread(target=lambda: out.append(5))\nt.start()\n"
                   "t.join()\nans = out[0]", "ok", "", "5"),
    "namedtuple": ("from collections import namedtuple\nP = namedtuple('P', 'x y')\nprint(P(1, 2).x)", "ok", "1\n", None),
    "tempfile_inside": ("import tempfile\nwith tempfile.NamedTemporaryFile('w') as f:\n    f.write('x')\nans = 1",
                        "ok", "", "1"),
}


@pytest.mark.parametrize("name", sorted(NORMAL))
def test_normal_program(pool: SandboxPool, name: str) -> None:
    code, status, stdout, answer = NORMAL[name]
    r = pool.run(code)
    assert (r.status, r.stdout, r.answer) == (status, stdout, answer), r
    assert isinstance(r, SandboxResult) and r.status in STATUSES and r.seconds > 0
    assert (r.error is None) == (status == "ok")


def test_error_messages_name_the_line(pool: SandboxPool) -> None:
    r = pool.run("a = 1\nb = 0\nc = a / b")
    assert r.error.startswith("ZeroDivisionError") and "line 3" in r.error, r
    r = pool.run("x = (1,\n")
    assert r.status == "error" and "SyntaxError" in r.error, r


def test_answer_is_capped(pool: SandboxPool) -> None:
    r = pool.run("ans = 'z' * 100000")
    assert r.status == "ok" and r.answer == "z" * pool.limits.max_answer_chars


def test_map_keeps_order_across_workers(pool: SandboxPool) -> None:
    codes = [f"ans = {i} * {i}" for i in range(30)]
    codes[7] = "while True:\n    pass"
    codes[11] = "import os\nos._exit(1)"
    results = pool.map(codes, timeout=1.0)
    assert [r.status for r in results].count("ok") == 28
    assert results[7].status == "timeout" and results[11].status == "crashed"
    assert [r.answer for i, r in enumerate(results) if i not in (7, 11)] == [
        str(i * i) for i in range(30) if i not in (7, 11)]


def test_pipelined_map_survives_workers_retiring_mid_chunk(pool: SandboxPool) -> None:
    kinds = {
        0: ("ans = {i}", "ok"),
        1: ("import os\nos.fork()", "forbidden"),
        2: ("x = bytearray(10**11)", "memory"),
        3: ("import math\nmath.pi = {i}\nans = {i}", "ok"),
        4: ("raise ValueError({i})", "error"),
        5: ("import os\nos.abort()", "crashed"),
        6: ("print('{i}')\nans = {i}", "ok"),
    }
    codes, want = [], []
    for i in range(42):
        code, status = kinds[(i * 5) % 7]
        codes.append(code.format(i=i))
        want.append(status)
    results = pool.map(codes, chunk=8)
    assert [r.status for r in results] == want
    assert all(r.answer == str(i) for i, r in enumerate(results) if want[i] == "ok")
    assert pool.run("import math\nans = math.pi").answer == "3.141592653589793"


def test_odd_text_and_bad_input(pool: SandboxPool) -> None:
    r = pool.run("print('\\ud800 caf\\u00e9')")
    assert r.status == "ok" and r.stdout.endswith("caf\u00e9\n")
    r.stdout.encode("utf-8")  # always encodable, even when the program printed a lone surrogate
    with pytest.raises(TypeError):
        pool.run(b"print(1)")  # type: ignore[arg-type]


def test_pool_survives_its_zygote_dying(pool: SandboxPool) -> None:
    assert pool.map(["ans = 1", "ans = 1"])[1].answer == "1"  # both workers forked
    old = pool._zygote
    old.ctl.close()  # the zygote exits and takes its workers with it
    old.proc.wait(timeout=30)
    results = pool.map([f"ans = {i}" for i in range(4)])
    assert [(r.status, r.answer) for r in results] == [("ok", str(i)) for i in range(4)], results
    assert pool._zygote is not old


def test_program_too_long(pool: SandboxPool) -> None:
    r = pool.run("#" * (pool.limits.max_code_chars + 1))
    assert (r.status, r.limit) == ("error", "code_size")
    rs = pool.map(["ans = 1", "#" * (10 * pool.limits.max_code_chars), "ans = 3"])
    assert [(r.status, r.answer) for r in rs] == [("ok", "1"), ("error", None), ("ok", "3")]


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="wall_seconds"):
        Limits(wall_seconds=0)
    with pytest.raises(ValueError, match="int_max_str_digits"):
        Limits(int_max_str_digits=10)
    with pytest.raises(Exception):
        Limits().wall_seconds = 3  # frozen


def test_run_code_default_pool_and_close() -> None:
    r = run_code("print(sum(range(10)))")
    assert (r.status, r.stdout) == ("ok", "45\n")
    p = default_pool()
    zygote = p._zygote.proc
    p.close()
    assert zygote.poll() is not None
    p.close()  # idempotent
    with pytest.raises(RuntimeError):
        p.run("ans = 1")


def test_cli_sandbox_run(tmp_path: Path) -> None:
    from mathwright.cli import app

    runner = CliRunner()
    bad = tmp_path / "bad.py"
    bad.write_text("print('before')\nimport os\nos.system('echo pwned')\n")
    res = runner.invoke(app, ["sandbox", "run", str(bad), "--timeout", "5"])
    assert res.exit_code == 0, res.output  # contained, so exit 0 whatever the program did
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert (out["status"], out["stdout"]) == ("forbidden", "before\n") and "os.system" in out["error"]
    assert {"status", "stdout", "error", "answer", "seconds", "limit"} <= set(out)

    res = runner.invoke(app, ["sandbox", "run", str(tmp_path / "missing.py")])
    assert res.exit_code == 2


@pytest.mark.slow
def test_unshare_and_plain_fallbacks_still_contain() -> None:
    from mathwright.sandbox._launch import available

    for isolation in ("unshare", "none"):
        if not available(isolation):
            continue
        with SandboxPool(workers=1, isolation=isolation) as p:
            assert p.isolation == isolation
            assert p.run("ans = 2 ** 10").answer == "1024"
            assert p.run("import os\nos.fork()").status == "forbidden"
            assert p.run("import socket\nsocket.socket()").status == "forbidden"
            assert p.run("open('/etc/mathwright_h6_pwned', 'w')").status == "forbidden"
            assert p.run("import os\nprint(dict(os.environ))").stdout.count("=") == 0
            assert p.run("ans = 1").status == "ok"
    assert not os.path.exists("/etc/mathwright_h6_pwned")
