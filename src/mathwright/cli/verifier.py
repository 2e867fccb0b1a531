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
    templates: Optional[str] = typer.Option(None, "--templates", help="comma list of template names, or 'mini' (default: the 10 GSM-style templates)"),
    max_steps: int = typer.Option(8, "--max-steps", help="at most this many solution steps (2-8)"),
) -> None:
    """Synthetic GSM8K-format word problems, every answer checked. Example:
    ``mathwright generate word-problems --n 1000 --seed 0 --out wp.jsonl``."""
    from mathwright.io import atomic_write, check_output_path, dumps
    from mathwright.data.word_problems import ALL_TEMPLATES, generate_word_problems

    check_output_path(out)
    if n < 1:
        fail(f"--n must be >= 1, got {n}")
    if not 2 <= max_steps <= 8:
        fail(f"--max-steps must be between 2 and 8, got {max_steps}")
    names = [t for t in templates.split(",") if t] if templates else None
    if names:
        bad = [t for t in names if t not in ALL_TEMPLATES and t != "mini"]
        if bad:
            fail(f"unknown template(s) {', '.join(bad)}; choose from {', '.join(ALL_TEMPLATES)} (or 'mini')")
    recs = generate_word_problems(n, seed=seed, templates=names, max_steps=max_steps)
    with atomic_write(out) as f:
        for r in recs:
            f.write(dumps(r) + "\n")
    typer.echo(f"wrote {len(recs)} checked problems to {out}")


@app.command("train-verifier")
def train_verifier_cmd(
    config: Path = typer.Argument(..., help="verifier recipe YAML (configs/verifier-*.yaml)"),
    overrides: Optional[List[str]] = typer.Argument(None, help="key=value overrides, e.g. level=solution lr=1e-4"),
) -> None:
    """Train a value-head verifier (token- or solution-level). Example:
    ``mathwright train-verifier configs/verifier-token.yaml data=runs/v/samples_train.jsonl``."""
    from mathwright.train.recipe import load_recipe
    from mathwright.train.verifier import train_verifier

    _, cfg = load_recipe(config, list(overrides or []), kind="verifier", inputs=True)
    out = train_verifier(cfg)
    typer.echo(f"saved verifier to {out}")


@app.command("rerank")
def rerank_cmd(
    samples: Path = typer.Option(..., "--samples", help="per-problem samples JSONL from sampling (samples, preds, correct)"),
    verifier: Optional[Path] = typer.Option(None, "--verifier", help="verifier directory (omit: voting metrics only)"),
    out: Path = typer.Option(..., "--out", help="output directory: scores.json, metrics.json, curves.png"),
    batch_size: int = typer.Option(32, "--batch-size"),
    aggregate: str = typer.Option("last", "--aggregate",
                                  help="a sample's score: 'last' (value at the final token, the paper's) or 'min' "
                                       "(lowest value after any solution token; token-level verifiers)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Score samples with a verifier; report test@N, verifier@N, vote@N and top-k vote with curves over N."""
    from mathwright.eval.rerank import RerankConfig, run
    from mathwright.io import InputError

    try:
        cfg = RerankConfig(samples=samples, out=out, verifier=verifier, batch_size=batch_size, aggregate=aggregate,
                           seed=seed)
    except InputError as e:  # a bad option value: reported as typer reports any
        raise typer.BadParameter(str(e)) from None
    res = run(cfg)
    for name, c in res["curves"].items():
        typer.echo(f"{name:>14}@N: " + "  ".join(f"{k}:{100 * v:.1f}%" for k, v in c.items()))


@app.command("score-examples")
def score_examples_cmd(
    path: Path = typer.Argument(..., help="OpenAI's grade_school_math/data/example_model_solutions.jsonl"),
) -> None:
    """Grade every system in OpenAI's released example solutions by final answer (published: 21.7 / 39.0 / 34.7 / 56.3%)."""
    from mathwright.io import DataError
    from mathwright.eval.verifier_metrics import score_example_solutions

    res = score_example_solutions(path)
    if not res:
        raise DataError(path, None, "no records")
    typer.echo(f"{'system':<20} {'correct':>8} {'total':>6} {'accuracy':>9} {'published':>9} {'agrees with is_correct':>23}")
    for name, s in res.items():
        pub = f"{100 * s['published']:.1f}%" if s["published"] is not None else "-"
        typer.echo(f"{name:<20} {s['correct']:>8} {s['total']:>6} {100 * s['accuracy']:>8.1f}% {pub:>9} "
                   f"{s['agree_with_flag']:>14}/{s['flagged']}")
