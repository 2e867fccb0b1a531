"""The sandbox from the environments users install into: a venv, a ``--user`` site, ``PYTHONPATH``.

Each builds a throwaway interpreter setup whose only route to mathwright is that environment's own
(a venv's site-packages, the user site, ``PYTHONPATH``), then runs programs through
``python -m mathwright sandbox run`` from it, as a user would.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import mathwright
from mathwright.sandbox import SandboxError, SandboxPool, _launch

SRC = str(Path(mathwright.__file__).resolve().parents[1])
PURELIB = sysconfig.get_paths()["purelib"]  # where this test's own interpreter finds torch, sympy, ...
BASE_PY = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
SECRET = "mw-env-secret-41b7"

# The way into this test's packages, written as a .pth: `import` lines run, so nested .pth files
# (an editable install's finder) are processed too.
PTH = f"import site; site.addsitedir({PURELIB!r}); site.addsitedir({SRC!r})\n"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(MW_SECRET=SECRET, **extra)
    return env


def _site_dir(prefix: Path) -> Path:
    return prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """A fresh venv (prefix != base prefix) that reaches mathwright through its own site-packages."""
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([BASE_PY, "-m", "venv", "--system-site-packages", "--without-pip", str(root)], check=True)
    (_site_dir(root) / "mw_test.pth").write_text(PTH)
    return str(root / "bin" / "python"), _env()


@pytest.fixture(scope="module")
def user_site_python(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """The base interpreter with mathwright reachable only through a ``pip install --user`` site."""
    base = tmp_path_factory.mktemp("userbase")
    site_dir = _site_dir(base)
    site_dir.mkdir(parents=True)
    (site_dir / "mw_test.pth").write_text(PTH)
    return BASE_PY, _env(PYTHONUSERBASE=str(base))


@pytest.fixture(scope="module")
def pythonpath_python() -> tuple[str, dict[str, str]]:
    """The base interpreter with mathwright reachable only through ``PYTHONPATH``."""
    return BASE_PY, _env(PYTHONPATH=os.pathsep.join([SRC, PURELIB]))


def _run(py: str, env: dict[str, str], tmp_path: Path, code: str, *flags: str) -> dict:
    prog = tmp_path / "prog.py"
    prog.write_text(code)
    r = subprocess.run([py, "-m", "mathwright", "sandbox", "run", str(prog), *flags], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_each_environment_is_really_its_own(venv_python, user_site_python, pythonpath_python) -> None:
    """Guard for the tests below: each setup reaches mathwright only its own way."""
    py, env = venv_python
    out = subprocess.run([py, "-c", "import sys, mathwright; print(sys.prefix != sys.base_prefix)"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
    py, env = user_site_python
    out = subprocess.run([py, "-c", "import site, mathwright; print(site.ENABLE_USER_SITE, site.getusersitepackages())"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == "True" and out.split()[1].startswith(env["PYTHONUSERBASE"])


@pytest.mark.parametrize("setup", ["venv_python", "user_site_python", "pythonpath_python"])
def test_benign_program_runs_from_each_environment(setup: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    py, env = request.getfixturevalue(setup)
    out = _run(py, env, tmp_path, "x = 6\nprint(x * 7)\nans = x\n")
    assert (out["status"], out["stdout"], out["answer"]) == ("ok", "42\n", "6"), out


HOSTILE = {
    "fork_bomb": ("import os\nwhile True:\n    os.fork()\n", {"forbidden"}),
    "memory_bomb": ("a = []\nwhile True:\n    a.append(bytes(10**8))\n", {"memory"}),
    "network": ("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)\n", {"forbidden", "error"}),
    "signal_parent": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", {"forbidden"}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_program_is_contained_from_a_venv(name: str, venv_python, tmp_path: Path) -> None:
    py, env = venv_python
    code, statuses = HOSTILE[name]
    out = _run(py, env, tmp_path, code, "--timeout", "5")
    assert out["status"] in statuses, out


def test_writes_outside_and_secrets_stay_out_from_a_venv(venv_python, tmp_path: Path) -> None:
    py, env = venv_python
    target = tmp_path / "outside.txt"
    out = _run(py, env, tmp_path, f"open({str(target)!r}, 'w').write('x')\n")
    assert out["status"] == "forbidden" and not target.exists(), out
    out = _run(py, env, tmp_path, "import os\nprint(os.environ.get('MW_SECRET'))\nans = sorted(os.environ)\n")
    assert out["status"] == "ok" and SECRET not in out["stdout"] and "MW_SECRET" not in out["answer"], out


def test_missing_mathwright_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An interpreter that cannot import mathwright inside the sandbox: the error says so and what it saw."""
    bare = tmp_path / "bare"
    subprocess.run([BASE_PY, "-m", "venv", "--without-pip", str(bare)], check=True)
    probe = subprocess.run([str(bare / "bin" / "python"), "-I", "-c", "import mathwright"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("mathwright is installed in the base interpreter itself: no interpreter without it here")
    monkeypatch.setattr(_launch, "interpreter", lambda: str(bare / "bin" / "python"))
    monkeypatch.setattr(_launch, "import_paths", lambda: [])
    with pytest.raises(SandboxError) as e:
        with SandboxPool(workers=1):
            pass
    msg = str(e.value)
    assert "No module named 'mathwright'" in msg and str(bare) in msg and "install mathwright" in msg, msg
