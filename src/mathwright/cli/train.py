"""``mathwright train CONFIG.yaml [key=value ...]``: supervised fine-tuning from a YAML recipe."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, generate_app, sandbox_app  # noqa: F401


@app.command("train", context_settings={"allow_extra_args": False})
def train_cmd(
    config: Path = typer.Argument(..., help="recipe YAML (see configs/)"),
    overrides: Optional[list[str]] = typer.Argument(None, help="dotted key=value overrides, e.g. trainer.learning_rate=3e-3"),
) -> None:
    """Train a model. Example: ``mathwright train configs/gemma3-270m-lora.yaml trainer.max_steps=50 output_dir=runs/g``."""
    from mathwright.train.recipe import run_train

    final = run_train(config, list(overrides or []))  # everything checked before anything loads
    typer.echo(f"saved {final}")
