"""Benchmarks write their figures into one section each of ``docs/RESULTS.md``.

Each section is replaced in place between markers, under a file lock, so benchmarks run side by side
never clobber each other; every section records the command, date, machine and seed.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import os
import platform
import re
import sys
from pathlib import Path

from mathwright.io import atomic_write

RESULTS = Path(__file__).resolve().parents[3] / "docs" / "RESULTS.md"
HEADER = "# Results\n\nFigures written by the benchmarks in `bench/`; each section says how it was made.\n"


def machine() -> str:
    """One line describing this machine (cores, memory, CPU model, Python, torch)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (OSError, ValueError):
        mem = float("nan")
    try:
        import torch

        tv = f", torch {torch.__version__}"
    except ImportError:
        tv = ""
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, no GPU, Python {platform.python_version()}{tv}"


def update_section(name: str, body: str, *, seed: int | None = None, command: str | None = None,
                   path: Path = RESULTS) -> None:
    """Replace (or append) section ``name`` of RESULTS.md with ``body`` plus a provenance line."""
    command = command or "python " + " ".join(sys.argv)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    prov = f"_Command:_ `{command}` · _date:_ {stamp} · _machine:_ {machine()}" + (f" · _seed:_ {seed}" if seed is not None else "")
    block = f"<!-- section:{name} -->\n## {name}\n\n{prov}\n\n{body.strip()}\n<!-- /section:{name} -->\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text(encoding="utf-8") if path.exists() else HEADER
        pat = re.compile(rf"<!-- section:{re.escape(name)} -->.*?<!-- /section:{re.escape(name)} -->\n", re.S)
        text = pat.sub(lambda _: block, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + block
        with atomic_write(path) as f:
            f.write(text)
