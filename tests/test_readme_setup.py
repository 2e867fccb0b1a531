"""The README's set-up lines are the ones CI runs, in a fresh virtualenv, as written."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_setup_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return _strip_comments(block.splitlines())


def _strip_comments(lines: list[str]) -> list[str]:
    # A comment starts at the first '#' preceded by white space (no '#' appears inside the commands).
    out = [re.split(r"\s+#", line, maxsplit=1)[0].strip() for line in lines]
    return [line for line in out if line]


def ci_setup_lines() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# --- README setup"))
    return [line.strip() for line in lines[start + 1:] if line.strip() and not line.startswith("#")]


def test_ci_runs_the_readme_setup_lines_as_written() -> None:
    readme = readme_setup_lines()
    assert readme == ci_setup_lines()
    assert len(readme) == 3 and "venv" in readme[0] and readme[1].startswith("pip install torch==2.13.0")
    assert readme[2] == "python -m pytest"
