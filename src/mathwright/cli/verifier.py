"""Verifier area commands: ``generate word-problems``, ``sample``, ``train-verifier``, ``rerank``, ``score-examples``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from mathwright.cli.apps import app, fail, generate_app, sandbox_app  # noqa: F401


@generate_app.command("word-problems")
def word_problems_cmd(
    n: int = typer.Option(..., "--n", help="number of problems"),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(..., "--out", help="output JSON Lines file"),
    templates: Optional[str] = typer.Option(None, "--templates", help="comma list of template names (default: all)"),
    max_steps: int = typer.Option(8, "--max-steps", help="at most this many solution steps (2-8)"),
) -> None:
    """Synthetic GSM8K-format word problems, every answer checked. Example:
    ``mathwright generate word-problems --n 1000 --seed 0 --out wp.jsonl``."""
    from mathwright.data.io import atomic_write, dumps
    from mathwright.data.word_problems import TEMPLATES, generate_word_problems

    if n < 1:
        fail(f"--n must be >= 1, got {n}")
    if not 2 <= max_steps <= 8:
        fail(f"--max-steps must be between 2 and 8, got {max_steps}")
    names = [t for t in templates.split(",") if t] if templates else None
    if names:
        bad = [t for t in names if t not in TEMPLATES]
        if bad:
            fail(f"unknown template(s) {', '.join(bad)}; choose from {', '.join(TEMPLATES)}")
    recs = generate_word_problems(n, seed=seed, templates=names, max_steps=max_steps)
    with atomic_write(out) as f:
        for r in recs:
            f.write(dumps(r) + "\n")
    typer.echo(f"wrote {len(recs)} checked problems to {out}")
