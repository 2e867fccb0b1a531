"""``mathwright train CONFIG.yaml [key=value ...]``: supervised fine-tuning from a YAML recipe."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, fail, generate_app, sandbox_app  # noqa: F401


def load_train_config(config: Optional[Path], overrides: list[str]):  # -> TrainConfig
    """Recipe + overrides -> TrainConfig; the ``trainer`` block is checked against TRL's SFTConfig fields."""
    from mathwright.train.config import load_config
    from mathwright.train.sft import TrainConfig

    from trl import SFTConfig

    return load_config(TrainConfig, config, overrides, passthrough={"trainer": SFTConfig})


@app.command("train", context_settings={"allow_extra_args": False})
def train_cmd(
    config: Path = typer.Argument(..., help="recipe YAML (see configs/)"),
    overrides: Optional[list[str]] = typer.Argument(None, help="dotted key=value overrides, e.g. trainer.learning_rate=3e-3"),
) -> None:
    """Train a model. Example: ``mathwright train configs/gemma3-270m-lora.yaml trainer.max_steps=50 output_dir=runs/g``."""
    from mathwright.cli.catalog import load_recipe

    _, cfg = load_recipe(config, list(overrides or []), kind="sft", inputs=True)  # everything checked, nothing loaded
    if not cfg.data:
        fail(f"{config}: no training data: set data: [path.jsonl, ...] (or the override data=[path.jsonl])")
    from mathwright.io import InputError
    from mathwright.train.sft import train

    try:
        final = train(cfg)
    except ValueError as e:  # InputError; or a library rejecting a value only it knows about
        fail(str(e) if isinstance(e, InputError) else f"{config}: {e}")
    typer.echo(f"saved {final}")
