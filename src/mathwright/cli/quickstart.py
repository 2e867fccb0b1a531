"""``mathwright quickstart [--smoke] [--out DIR]``: data -> from-scratch training -> evaluation on CPU
(the job is :func:`mathwright.eval.quickstart.run`)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app


@app.command("quickstart")
def quickstart_cmd(
    smoke: bool = typer.Option(False, "--smoke", help="reduced run (about a minute) that checks the plumbing"),
    out: Path = typer.Option(Path("runs/quickstart"), "--out", help="output directory (model/, eval/, data/)"),
    config: Optional[Path] = typer.Option(None, "--config", help="training recipe (default configs/quickstart.yaml)"),
    overrides: Optional[list[str]] = typer.Argument(None, help="recipe overrides, e.g. trainer.max_steps=100"),
) -> None:
    """Generate data, train a tiny model from scratch on CPU, evaluate it. Example: ``mathwright quickstart --out runs/q``."""
    import os

    from mathwright.eval.quickstart import QuickstartConfig, run

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    run(QuickstartConfig(out=out, smoke=smoke, config=config, overrides=tuple(overrides or ())), log=typer.echo)
